#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: issued_info
short_description: List the certificates the issuance log records, as an audit trail
version_added: 0.1.0
description:
  - Reads the issuance log O(store) that M(fleetca.ssh.cert) writes on the CA host and returns the
    certificates matching every given filter, oldest serial first - who asked for each
    (O(requester)), what it is valid for, until when, and with O(krl) whether that KRL revokes it.
  - Opens the log read-only; never creates or changes it.
author:
  - fleetca.ssh contributors (@fleetca)
extends_documentation_fragment:
  - fleetca.ssh.info_module
options:
  store:
    description:
      - Path of the issuance log (SQLite) on the CA host, the O(fleetca.ssh.cert#module:store) of
        the signing tasks. A missing file is an error (a typo must not report an empty log).
    type: path
    required: true
  key_id:
    description:
      - Only certificates with this key id (exact match).
    type: str
  principal:
    description:
      - Only certificates listing this principal (exact match).
    type: str
  requester:
    description:
      - Only certificates recorded with this requester - a person for people's certificates, the
        inventory host name for host certificates the server role signed.
    type: str
  cert_type:
    description:
      - Only user or only host certificates.
    type: str
    choices: [user, host]
  serial:
    description:
      - Only certificates with this serial.
    type: int
  state:
    description:
      - V(valid) - certificates valid now (a certificate whose validity has not started yet is
        listed by V(all) only); V(expired) - those whose validity has ended; V(all) - every one.
    type: str
    choices: [valid, expired, all]
    default: valid
  expiring_within:
    description:
      - Only certificates still valid and ending within this span from now, for example C(+7d),
        C(2w), C(+12h) or seconds. Not with O(state=expired).
    type: str
  krl:
    description:
      - Path of a KRL (the master KRL, or a server's copy). Each certificate returned then says
        whether that KRL revokes it (by serial, key id, its key, or its CA key), as
        C(ssh-keygen -Q) and sshd judge it.
    type: path
seealso:
  - module: fleetca.ssh.cert
  - module: fleetca.ssh.krl_info
"""

EXAMPLES = r"""
- name: Certificates ending within a week, with their revocation state in the master KRL
  fleetca.ssh.issued_info:
    store: /etc/ssh/fleetca/issued.db
    expiring_within: +7d
    krl: /etc/ssh/fleetca/revoked.krl
  delegate_to: "{{ groups['ssh_ca'][0] }}"
  register: expiring

- name: Every certificate alice ever got
  fleetca.ssh.issued_info:
    store: /etc/ssh/fleetca/issued.db
    requester: alice
    state: all
  delegate_to: "{{ groups['ssh_ca'][0] }}"
  register: alice

- name: Show them
  ansible.builtin.debug:
    msg: "{{ alice.certificates | map(attribute='key_id') | list }}"
"""

RETURN = r"""
certificates:
  description: The matching certificates, oldest serial first.
  returned: success
  type: list
  elements: dict
  contains:
    serial:
      description: Serial number.
      type: int
      sample: 42
    cert_type:
      description: C(user) or C(host).
      type: str
    key_id:
      description: Key identifier (sshd logs it at every login).
      type: str
      sample: alice@ops
    principals:
      description: Principals, in the certificate's order.
      type: list
      elements: str
    valid_after:
      description: Start of validity, ISO 8601 UTC.
      type: str
      sample: "2026-12-02T08:55:00Z"
    valid_before:
      description: End of validity, ISO 8601 UTC, or C(forever).
      type: str
      sample: "2026-12-02T17:00:00Z"
    valid_after_epoch:
      description: Start of validity, epoch seconds.
      type: int
    valid_before_epoch:
      description: End of validity, epoch seconds (18446744073709551615 for forever).
      type: int
    requester:
      description: Who asked for it, as M(fleetca.ssh.cert) recorded it (V(null) when nobody was named).
      type: str
    public_key_fingerprint:
      description: SHA256 fingerprint of the certified key, as C(ssh-keygen -l) prints it.
      type: str
      sample: SHA256:h/gwWDOW/4iOLp2x0uBNLzsHfKAcJo/XgLXgN/orh/I
    signing_ca_fingerprint:
      description: SHA256 fingerprint of the CA key that signed it.
      type: str
    issued_at:
      description: When it was signed, ISO 8601 UTC.
      type: str
    revoked:
      description: Whether O(krl) revokes it.
      type: bool
      returned: when O(krl) is given
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleetca.ssh.plugins.module_utils.issued import STATES, issued_certificates
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

FILTERS = ("key_id", "principal", "requester", "cert_type", "serial", "state", "expiring_within", "krl")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            store=dict(type="path", required=True),
            key_id=dict(type="str"),
            principal=dict(type="str"),
            requester=dict(type="str"),
            cert_type=dict(type="str", choices=["user", "host"]),
            serial=dict(type="int"),
            state=dict(type="str", choices=list(STATES), default="valid"),
            expiring_within=dict(type="str"),
            krl=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        found = issued_certificates(params["store"], int(time.time()),
                                    **dict((name, params[name]) for name in FILTERS))
    except FleetcaError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, certificates=found)


if __name__ == "__main__":
    main()
