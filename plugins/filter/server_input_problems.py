# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: server_input_problems
short_description: The problems with role fleetca.ssh.server's input
version_added: 0.1.0
author:
  - fleetca.ssh contributors (@fleetca)
description:
  - Checks the host key types, the names and values of C(fleetca_ssh_sshd_options), the user
    names and principals of C(fleetca_ssh_authorized_principals), that some way in stays open
    (password, authorized keys or a trusted user CA) and that there is a host CA.
  - Internal to role C(fleetca.ssh.server); its interface may change.
options:
  _input:
    description: The host's C(inventory_hostname) (named in the messages).
    type: str
    required: true
  host_key_types:
    description: C(fleetca_ssh_host_key_types).
    type: list
    elements: str
    required: true
  host_key_replace:
    description: C(fleetca_ssh_host_key_replace).
    type: list
    elements: str
    required: true
  rsa_bits:
    description: C(fleetca_ssh_host_key_rsa_bits).
    type: int
    required: true
  sshd_options:
    description: C(fleetca_ssh_sshd_options).
    type: dict
    required: true
  authorized_principals:
    description: C(fleetca_ssh_authorized_principals).
    type: dict
    required: true
  cert_only:
    description: C(fleetca_ssh_cert_only).
    type: bool
    required: true
  user_ca_keys:
    description: The user CA keys the server will trust.
    type: list
    elements: str
    required: true
  ca_host:
    description: C(fleetca_ssh_ca_host).
    type: str
    required: true
  host_ca_public_key:
    description: The host CA public key the CA host published, or C("").
    type: str
    required: true
  check_mode:
    description: C(ansible_check_mode) (the CA keys may not exist yet).
    type: bool
    required: true
"""

EXAMPLES = r"""
- name: Check the role's input
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join(' ') }}"
  vars:
    problems: >-
      {{ inventory_hostname | fleetca.ssh.server_input_problems(
           host_key_types=['ed25519'], host_key_replace=[], rsa_bits=3072, sshd_options={},
           authorized_principals={}, cert_only=false, user_ca_keys=[], ca_host='ca',
           host_ca_public_key='ssh-ed25519 AAAA...', check_mode=ansible_check_mode) }}
"""

RETURN = r"""
_value:
  description: One sentence per problem, naming the variable; empty when the input is good.
  type: list
  elements: str
"""

from ansible_collections.fleetca.ssh.plugins.module_utils.server_plan import input_problems


class FilterModule(object):
    def filters(self):
        return {"server_input_problems": input_problems}
