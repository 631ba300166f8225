# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: issue_request
short_description: The certificate that playbook fleetca.ssh.issue was asked for
version_added: 0.1.0
description:
  - Checks the C(fleetca_ssh_issue_*) variables of playbook C(fleetca.ssh.issue) before anything
    is signed, and fills in the defaults (profile C(default), the certificate written as
    C(USER-cert.pub) in the directory C(ansible-playbook) was started from).
  - Fails naming the variables on an unknown C(fleetca_ssh_issue_*) name (a typo), without
    C(fleetca_ssh_issue_user), or unless exactly one of C(fleetca_ssh_issue_public_key) and
    C(fleetca_ssh_issue_public_key_file) is given. The policy itself (who may get which profile,
    for how long) is enforced by M(fleetca.ssh.cert) on the CA host.
author:
  - fleetca.ssh contributors (@fleetca)
options:
  _input:
    description: Every variable whose name starts with C(fleetca_ssh_issue_), name -> value.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check the request before anything is signed
  vars:
    names: "{{ query('ansible.builtin.varnames', '^fleetca_ssh_issue_') }}"
  ansible.builtin.set_fact:
    issue: "{{ dict(names | zip(query('ansible.builtin.vars', *names))) | fleetca.ssh.issue_request }}"
"""

RETURN = r"""
_value:
  description:
    - C(user), C(profile), C(public_key) or C(public_key_file) (an absolute path on the
      controller), C(valid_for) (null for the profile's default) and C(dest) (an absolute path
      on the controller).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.fleetca.ssh.plugins.module_utils.issue_request import issue_request
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def issue_request_filter(variables):
    try:
        return issue_request(dict(variables))
    except FleetcaError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    def filters(self):
        return {"issue_request": issue_request_filter}
