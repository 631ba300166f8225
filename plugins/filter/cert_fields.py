# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cert_fields
short_description: The fields of an OpenSSH certificate, as ssh-keygen -L prints them
version_added: 0.1.0
description:
  - Parses a certificate line (C(TYPE-cert-v01@openssh.com BASE64 [COMMENT])) with the collection's
    certificate parser and returns its fields one per line - type, public key and signing CA
    fingerprints, key id, serial, validity (UTC), principals, critical options and extensions - in
    the order C(ssh-keygen -L) prints them.
author:
  - fleetca.ssh contributors (@fleetca)
options:
  _input:
    description: The certificate line.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Show what was signed
  ansible.builtin.debug:
    msg: "{{ (signed.certificate | fleetca.ssh.cert_fields).splitlines() }}"
"""

RETURN = r"""
_value:
  description: The fields, one line each (C(Key ID), C(Serial), C(Valid), ...).
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.fleetca.ssh.plugins.module_utils.certs import parse_certificate
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def cert_fields(line):
    try:
        return parse_certificate("certificate", (line or "").strip()).describe()
    except FleetcaError as exc:
        raise AnsibleFilterError("cert_fields: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"cert_fields": cert_fields}
