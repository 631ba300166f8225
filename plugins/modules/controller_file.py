#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: controller_file
short_description: Write a public file (a certificate) on the Ansible controller
version_added: 0.1.0
description:
  - Makes O(dest) on the controller a file holding O(content), mode 0644, replaced atomically
    (a reader sees the old file or the new one), and only when its content or mode differ.
  - Runs in the controller's own process whatever the task's host (its action plugin writes the
    file; no module runs, no connection is used), as the user running C(ansible-playbook);
    C(become) and C(delegate_to) do not apply. Playbook C(fleetca.ssh.issue) writes the
    certificate it signed with it.
author:
  - fleetca.ssh contributors (@fleetca)
attributes:
  check_mode:
    support: full
    description: Reports whether O(dest) would change; writes nothing.
  diff_mode:
    support: none
    description: No diff is shown.
  action:
    support: full
    description: The action plugin writes the file on the controller; there is no module code.
options:
  content:
    description: What the file holds (written as UTF-8).
    type: str
    required: true
  dest:
    description:
      - The file on the controller. Its directory must exist. A relative path is taken from the
        directory C(ansible-playbook) was started in.
    type: path
    required: true
seealso:
  - module: ansible.builtin.copy
"""

EXAMPLES = r"""
- name: Sign alice's key on the CA host
  fleetca.ssh.cert:
    ca_key: /etc/ssh/fleetca/user_ca
    store: /etc/ssh/fleetca/issued.db
    person: alice
    public_key: "{{ lookup('ansible.builtin.file', 'alice.pub') }}"
  delegate_to: "{{ groups['ssh_ca'][0] }}"
  register: signed

- name: Write the certificate on the controller
  fleetca.ssh.controller_file:
    content: "{{ signed.certificate }}\n"
    dest: alice-cert.pub
"""

RETURN = r"""
dest:
  description: The file written (or that would be, in check mode), C(~) expanded.
  returned: always
  type: str
  sample: /home/alice/alice-cert.pub
"""
