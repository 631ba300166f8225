# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: server_ca_published
short_description: What the CA host published for role fleetca.ssh.server
version_added: 0.1.0
author:
  - fleetca.ssh contributors (@fleetca)
description:
  - Reads, from the variables of the CA host, what role C(fleetca.ssh.ca) set there, with the
    defaults of that role where it set nothing. The server's own public key variables win
    when non-empty.
  - Internal to role C(fleetca.ssh.server); its interface may change.
options:
  _input:
    description: The CA host's variables (C(hostvars[fleetca_ssh_ca_host])), or C({}).
    type: dict
    required: true
  host_ca_public_key:
    description: This host's C(fleetca_ssh_host_ca_public_key); wins when non-empty.
    type: str
    default: ""
  user_ca_public_key:
    description: This host's C(fleetca_ssh_user_ca_public_key); wins when non-empty.
    type: str
    default: ""
  extra_user_ca_keys:
    description: More trusted user CA keys (C(fleetca_ssh_trusted_user_ca_keys_extra)).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Read what the CA host published
  ansible.builtin.set_fact:
    published: "{{ hostvars[groups['ssh_ca'][0]] | fleetca.ssh.server_ca_published(extra_user_ca_keys=[]) }}"
"""

RETURN = r"""
_value:
  description: What the CA host published.
  type: dict
  contains:
    paths:
      description: C(fleetca_ssh_ca_paths) of the CA host (at least C(host_ca_key) and C(store)).
      type: dict
    krl_master:
      description: The master KRL's C(path), C(version) and C(sha256); C({}) before there is one.
      type: dict
    host_ca_public_key:
      description: The host CA public key line, or C("").
      type: str
    user_ca_keys:
      description: The trusted user CA key lines, without empty or repeated ones.
      type: list
      elements: str
"""

from ansible_collections.fleetca.ssh.plugins.module_utils.server_plan import ca_published


class FilterModule(object):
    def filters(self):
        return {"server_ca_published": ca_published}
