#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cert_info
short_description: Read an OpenSSH certificate
version_added: 0.1.0
description:
  - Returns every field of an OpenSSH certificate (the fields C(ssh-keygen -L) prints), how long
    it has left, whether it is valid now or at O(valid_at), and whether its signature verifies
    against a given CA public key.
  - Reads all certificate types, security-key (sk-*) certificates included.
author:
  - fleetca.ssh contributors (@fleetca)
extends_documentation_fragment:
  - fleetca.ssh.info_module
options:
  path:
    description:
      - Path of the certificate file. Mutually exclusive with O(content).
    type: path
  content:
    description:
      - The certificate line itself.
    type: str
  ca_public_key:
    description:
      - CA public key (key line or C(.pub) path) to verify the signature against.
    type: str
  valid_at:
    description:
      - Judge validity at this time instead of now (C(+1d), C(20270101), ISO 8601, epoch seconds).
    type: str
requirements:
  - cryptography >= 38, only when O(ca_public_key) is given
seealso:
  - module: fleetca.ssh.cert
"""

EXAMPLES = r"""
- name: Check a host certificate
  fleetca.ssh.cert_info:
    path: /etc/ssh/ssh_host_ed25519_key-cert.pub
    ca_public_key: /etc/ssh/fleetca/host_ca.pub
  register: host_cert

- name: Fail when less than a week is left
  ansible.builtin.assert:
    that: host_cert.seconds_left > 604800
"""

RETURN = r"""
cert_type:
  description: C(user) or C(host).
  returned: success
  type: str
key_type:
  description: Certificate key type.
  returned: success
  type: str
  sample: ssh-ed25519-cert-v01@openssh.com
key_id:
  description: Key identifier.
  returned: success
  type: str
serial:
  description: Serial number.
  returned: success
  type: int
principals:
  description: Principals, in the certificate's order.
  returned: success
  type: list
  elements: str
valid_after:
  description: Start of validity, ISO 8601 UTC.
  returned: success
  type: str
valid_before:
  description: End of validity, ISO 8601 UTC, or C(forever).
  returned: success
  type: str
valid_after_epoch:
  description: Start of validity, epoch seconds.
  returned: success
  type: int
valid_before_epoch:
  description: End of validity, epoch seconds.
  returned: success
  type: int
critical_options:
  description: Critical options, name -> value (C("") for none).
  returned: success
  type: dict
extensions:
  description: Extensions, name -> value (C("") for none).
  returned: success
  type: dict
public_key_fingerprint:
  description: SHA256 fingerprint of the certified key.
  returned: success
  type: str
signing_ca_fingerprint:
  description: SHA256 fingerprint of the CA key embedded in the certificate.
  returned: success
  type: str
seconds_left:
  description: Seconds until expiry (0 when expired), from now or from O(valid_at).
  returned: success
  type: int
valid:
  description: Whether the certificate is inside its validity window now (or at O(valid_at)).
  returned: success
  type: bool
signature_valid:
  description: Whether the signature verifies and was made by O(ca_public_key).
  returned: when O(ca_public_key) is given
  type: bool
"""

import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.fleetca.ssh.plugins.module_utils import certs, files, keys
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def read_certificate(params):
    text = params["content"]
    if params["path"]:
        content = files.read_if_exists(params["path"])
        if content is None:
            raise FleetcaError("path: %s does not exist" % params["path"])
        text = content.decode("utf-8", "replace")
    return certs.parse_certificate("path" if params["path"] else "content", text)


def describe(cert, when):
    return dict(
        cert_type=cert.type_name,
        key_type=cert.key_type,
        key_id=cert.key_id,
        serial=cert.serial,
        principals=cert.principals,
        valid_after=certs.format_time(cert.valid_after),
        valid_before=certs.format_time(cert.valid_before),
        valid_after_epoch=cert.valid_after,
        valid_before_epoch=cert.valid_before,
        critical_options=dict(cert.critical_options),
        extensions=dict(cert.extensions),
        public_key_fingerprint=cert.public_key.fingerprint,
        signing_ca_fingerprint=cert.signature_key.fingerprint,
        seconds_left=cert.seconds_left(when),
        valid=cert.valid_at(when),
    )


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path"),
            content=dict(type="str"),
            ca_public_key=dict(type="str"),
            valid_at=dict(type="str"),
        ),
        mutually_exclusive=[("path", "content")],
        required_one_of=[("path", "content")],
        supports_check_mode=True,
    )
    params = module.params
    try:
        now = int(time.time())
        when = now if params["valid_at"] is None else certs.parse_time("valid_at", params["valid_at"], now, False)
        cert = read_certificate(params)
        result = describe(cert, when)
        if params["ca_public_key"]:
            if not keys.HAS_CRYPTOGRAPHY:
                module.fail_json(msg=missing_required_lib("cryptography"))
            ca = keys.load_public_key_option("ca_public_key", params["ca_public_key"])
            result["signature_valid"] = cert.signature_valid(ca)
    except FleetcaError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
