# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: server_differs
short_description: What role fleetca.ssh.server has to change on a server, by its probe's answer
version_added: 0.1.0
author:
  - fleetca.ssh contributors (@fleetca)
description:
  - Compares what the role wants with what the probe saw, by the rules of module
    C(fleetca.ssh.sshd_trust) (content, mode 0644, owner root; the principals directory 0755).
  - Internal to role C(fleetca.ssh.server); its interface may change.
options:
  _input:
    description: The probe's answer (module C(fleetca.ssh.sshd_info)'s return values).
    type: dict
    required: true
  certificates:
    description: This host's certificates, C({path, certificate}) each.
    type: list
    elements: dict
    required: true
  user_ca_keys:
    description: The trusted user CA key lines.
    type: list
    elements: str
    required: true
  user_ca_keys_file:
    description: C(fleetca_ssh_trusted_user_ca_keys_file).
    type: str
    required: true
  authorized_principals:
    description: C(fleetca_ssh_authorized_principals).
    type: dict
    required: true
  krl_master:
    description: The master KRL the CA host published (C(sha256) among others), or C({}).
    type: dict
    required: true
  revoked_keys:
    description: C(fleetca_ssh_revoked_keys).
    type: str
    required: true
  config_dest:
    description: Where the sshd configuration goes (the drop-in or the main file).
    type: str
    required: true
  config_text:
    description: The rendered sshd configuration.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Note what differs
  ansible.builtin.set_fact:
    differs: >-
      {{ probe | fleetca.ssh.server_differs(certificates=certs, user_ca_keys=keys,
           user_ca_keys_file='/etc/ssh/fleetca_user_ca.pub', authorized_principals={}, krl_master={},
           revoked_keys='/etc/ssh/fleetca_revoked.krl',
           config_dest='/etc/ssh/sshd_config.d/00-fleetca.conf', config_text=text) }}
"""

RETURN = r"""
_value:
  description:
    - Sorted names of what differs; empty when nothing does.
    - C(krl) (the master KRL is not the installed one), C(krl_missing) (no master known and no
      KRL installed), C(trust_files) (a host certificate, the user CA keys or a principals
      file or directory), C(sshd_config), C(service) (not both running and enabled).
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.fleetca.ssh.plugins.module_utils.server_plan import server_differs as differs
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def server_differs(probe, **wanted):
    try:
        return differs(probe, **wanted)
    except FleetcaError as exc:
        raise AnsibleFilterError("server_differs: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"server_differs": server_differs}
