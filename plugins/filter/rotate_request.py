# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: rotate_request
short_description: The rotation that playbook fleetca.ssh.rotate was asked for
version_added: 0.1.0
description:
  - Checks the C(fleetca_ssh_rotate_*) variables of playbook C(fleetca.ssh.rotate) -
    C(fleetca_ssh_rotate_ca) (C(user) or C(host)), C(fleetca_ssh_rotate_phase) (C(start),
    C(switch), C(finish) or C(rollback)) and C(fleetca_ssh_rotate_force) (default false).
  - Fails naming the variable on an unknown C(fleetca_ssh_rotate_*) name (a typo), a missing or
    unknown CA or phase, before anything changes.
author:
  - fleetca.ssh contributors (@fleetca)
options:
  _input:
    description: Every variable whose name starts with C(fleetca_ssh_rotate_), name -> value.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check the request before anything changes
  vars:
    names: "{{ query('ansible.builtin.varnames', '^fleetca_ssh_rotate_') }}"
  ansible.builtin.set_fact:
    rotation: "{{ dict(names | zip(query('ansible.builtin.vars', *names))) | fleetca.ssh.rotate_request }}"
"""

RETURN = r"""
_value:
  description:
    - C(ca), C(phase), C(force) (a boolean) and C(converge) - the hosts the phase must reach, a list
      of C({group, fact}) - every host of the group that the phase converged sets the fact.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.fleetca.ssh.plugins.module_utils.rotation import missed_hosts, rotate_request
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def rotate_request_filter(variables):
    try:
        return rotate_request(dict(variables))
    except FleetcaError as exc:
        raise AnsibleFilterError(str(exc))


def rotate_missed(request, groups, hostvars):
    return missed_hosts(request, groups, hostvars)


class FilterModule(object):
    def filters(self):
        # rotate_missed is documented in rotate_missed.yml
        return {"rotate_request": rotate_request_filter, "rotate_missed": rotate_missed}
