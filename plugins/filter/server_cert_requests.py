# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: server_cert_requests
short_description: A server's host certificate requests, for fleetca.ssh.cert's requests option
version_added: 0.1.0
author:
  - fleetca.ssh contributors (@fleetca)
description:
  - One request per key type whose public key the probe found, with principals
    C(inventory_hostname), the short host name and the FQDN (never C(localhost)) and the extra
    ones, deduplicated; key id C(host:INVENTORY_NAME:TYPE); the installed certificate as
    C(current_certificate).
  - Internal to role C(fleetca.ssh.server); its interface may change.
options:
  _input:
    description: The probe's answer (module C(fleetca.ssh.sshd_info)'s return values).
    type: dict
    required: true
  host:
    description: The host's C(inventory_hostname) (principal, key id and requester).
    type: str
    required: true
  types:
    description: C(fleetca_ssh_host_key_types).
    type: list
    elements: str
    required: true
  principals_extra:
    description: C(fleetca_ssh_host_principals_extra).
    type: list
    elements: str
    default: []
  valid_for:
    description: C(fleetca_ssh_host_cert_valid_for).
    type: str
    required: true
  renew_before:
    description: C(fleetca_ssh_host_cert_renew_before).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Prepare this host's certificate requests
  ansible.builtin.set_fact:
    requests: >-
      {{ probe | fleetca.ssh.server_cert_requests(host=inventory_hostname, types=['ed25519', 'rsa'],
                                                  valid_for='+52w', renew_before='+4w') }}
"""

RETURN = r"""
_value:
  description: Elements of fleetca.ssh.cert's O(fleetca.ssh.cert#module:requests).
  type: list
  elements: dict
"""

from ansible_collections.fleetca.ssh.plugins.module_utils.server_plan import host_cert_requests


def server_cert_requests(probe, host, types, valid_for, renew_before, principals_extra=()):
    return host_cert_requests(probe, host, types, principals_extra, valid_for, renew_before)


class FilterModule(object):
    def filters(self):
        return {"server_cert_requests": server_cert_requests}
