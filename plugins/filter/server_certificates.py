# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: server_certificates
short_description: A server's host certificates out of a batched fleetca.ssh.cert result
version_added: 0.1.0
author:
  - fleetca.ssh contributors (@fleetca)
description:
  - Picks this host's certificates from the C(certificates) of one C(fleetca.ssh.cert) call that
    signed the whole play, matched to their keys by requester and key id
    (C(host:INVENTORY_NAME:TYPE)), not by position, and places each beside its key, at the path
    the probe reported plus C(-cert.pub).
  - Internal to role C(fleetca.ssh.server); its interface may change.
options:
  _input:
    description: C(certificates) of the fleetca.ssh.cert result (every host's).
    type: list
    elements: dict
    required: true
  probe:
    description: This host's probe answer (its C(host_keys) give each key's path).
    type: dict
    required: true
  host:
    description: This host's C(inventory_hostname).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Keep this host's certificates
  ansible.builtin.set_fact:
    certificates: "{{ signed.certificates | fleetca.ssh.server_certificates(probe=probe, host=inventory_hostname) }}"
"""

RETURN = r"""
_value:
  description: C({path, certificate}) per certificate, as fleetca.ssh.sshd_trust's O(fleetca.ssh.sshd_trust#module:host_certificates).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.fleetca.ssh.plugins.module_utils.server_plan import host_certificates
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def server_certificates(signed, probe, host):
    try:
        return host_certificates(signed, probe, host)
    except FleetcaError as exc:
        raise AnsibleFilterError("server_certificates: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"server_certificates": server_certificates}
