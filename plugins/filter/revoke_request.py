# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: revoke_request
short_description: The revocation that playbook fleetca.ssh.revoke was asked for
version_added: 0.1.0
description:
  - Checks the C(fleetca_ssh_revoke_*) variables of playbook C(fleetca.ssh.revoke) and returns the
    arguments of M(fleetca.ssh.krl) for them.
  - Fails naming the variable on an unknown C(fleetca_ssh_revoke_*) name (a typo), a value that is
    not a list, an unknown state, or when no entry at all is named, so that a CI job can never
    report a rollout of a revocation it did not make.
author:
  - fleetca.ssh contributors (@fleetca)
options:
  _input:
    description: Every variable whose name starts with C(fleetca_ssh_revoke_), name -> value.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check the request before anything changes
  vars:
    names: "{{ query('ansible.builtin.varnames', '^fleetca_ssh_revoke_') }}"
  ansible.builtin.set_fact:
    revocation: "{{ dict(names | zip(query('ansible.builtin.vars', *names))) | fleetca.ssh.revoke_request }}"
"""

RETURN = r"""
_value:
  description:
    - C(state), the lists C(serials), C(key_ids), C(public_keys), C(sha256_fingerprints), and
      C(issued), the issuance-log selectors (one C(principal) or C(host) each) of
      C(fleetca_ssh_revoke_principals) and C(fleetca_ssh_revoke_hosts), and C(prune_expired)
      (C(fleetca_ssh_revoke_prune_expired), true when unset).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.fleetca.ssh.plugins.module_utils.revoke_request import revoke_request
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def revoke_request_filter(variables):
    try:
        return revoke_request(dict(variables))
    except FleetcaError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    def filters(self):
        return {"revoke_request": revoke_request_filter}
