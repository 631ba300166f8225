#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ca_key
short_description: Ensure an OpenSSH CA key pair exists
version_added: 0.1.0
description:
  - Creates a CA private key (OpenSSH format, mode 0600, optionally passphrase-protected with
    the bcrypt KDF) at O(path) and its public key at C(PATH.pub) (mode 0644).
  - An existing key is never regenerated unless O(force=true); a missing C(.pub) is rebuilt
    from the private key.
  - Concurrent runs on a new CA host create one key pair, because the module holds the lock
    C(PATH.lock) (see O(lock_timeout)) from looking for the key to writing it, so the last
    writer can never pair its private key with another run's C(.pub).
author:
  - fleetca.ssh contributors (@fleetca)
extends_documentation_fragment:
  - fleetca.ssh.lock
attributes:
  check_mode:
    support: full
    description: Reports whether a key would be created, and creates nothing.
  diff_mode:
    support: none
    description: Private keys are never shown.
options:
  path:
    description:
      - Path of the private key. The directory must exist.
    type: path
    required: true
  type:
    description:
      - Key type.
    type: str
    choices: [ed25519, ecdsa, rsa]
    default: ed25519
  size:
    description:
      - Key size in bits. RSA defaults to 4096 (at least 2048), ECDSA to 256 (256, 384 or 521);
        ignored for Ed25519.
    type: int
  passphrase:
    description:
      - Encrypt the private key with this passphrase. Never logged.
      - Needed to read back an existing encrypted key when its C(.pub) is missing.
    type: str
  comment:
    description:
      - Comment of the public key line.
    type: str
    default: fleetca
  force:
    description:
      - Replace an existing key. Every certificate it signed stops being trusted once the new
        public key replaces the old one in C(TrustedUserCAKeys) or C(@cert-authority) lines.
    type: bool
    default: false
requirements:
  - cryptography >= 38
  - bcrypt, for passphrase-protected keys
seealso:
  - module: fleetca.ssh.cert
"""

EXAMPLES = r"""
- name: Ensure the user CA
  fleetca.ssh.ca_key:
    path: /etc/ssh/fleetca/user_ca
    passphrase: "{{ vault_user_ca_passphrase }}"
  register: user_ca

- name: An RSA host CA
  fleetca.ssh.ca_key:
    path: /etc/ssh/fleetca/host_ca
    type: rsa
    size: 4096
"""

RETURN = r"""
public_key:
  description: The CA public key line (with O(comment)).
  returned: success, unless a new key would be created in check mode
  type: str
  sample: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG... fleetca
fingerprint:
  description: SHA256 fingerprint of the public key, as C(ssh-keygen -l) prints it.
  returned: success, unless a new key would be created in check mode
  type: str
  sample: SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU
key_type:
  description: OpenSSH key type of the CA key.
  returned: success, unless a new key would be created in check mode
  type: str
  sample: ssh-ed25519
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.fleetca.ssh.plugins.module_utils import files, keys, locks, signers
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

TYPE_NAMES = {"ed25519": ("ssh-ed25519",), "rsa": ("ssh-rsa",),
              "ecdsa": ("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521")}


def existing_public_key(params):
    """The public key of the key at `path`: from `.pub`, else from the private key."""
    pub_path = params["path"] + ".pub"
    if os.path.exists(pub_path):
        return keys.load_public_key_option("path", pub_path), False
    private_key = signers.load_private_key("path", params["path"], "passphrase", params["passphrase"])
    return keys.parse_public_key("path", signers.public_key_line(private_key)), True


def write_pair(params):
    private_key = signers.generate_private_key(params["type"], params["size"])
    public_key = keys.parse_public_key("path", signers.public_key_line(private_key))
    write_public(params, public_key)  # the .pub first: a private key never lacks its .pub
    files.write_atomic(params["path"], signers.private_key_bytes(private_key, params["passphrase"]), 0o600)
    return public_key


def write_public(params, public_key):
    line = public_key.to_line(params["comment"]) + "\n"
    files.write_atomic(params["path"] + ".pub", line.encode("utf-8"), 0o644)


def plan_key(params):
    """What to do at `path`, and whether it writes: ('create', None), ('rebuild_pub', key) or ('keep', key)."""
    if not os.path.exists(params["path"]) or params["force"]:
        return ("create", None), True
    public_key, pub_missing = existing_public_key(params)
    if public_key.key_type not in TYPE_NAMES[params["type"]]:
        raise FleetcaError(
            "type: the key at %s is %s, not %s; set force: true to replace it (this "
            "invalidates every certificate it signed)"
            % (params["path"], public_key.key_type, params["type"]))
    return ("rebuild_pub" if pub_missing else "keep", public_key), pub_missing


def ensure_pair(module):
    """(public key, changed); the public key is None in check mode when a pair would be created.

    Under the lock, a pair that a concurrent first run created while this one waited is found
    again: never a second pair, never a private key beside another run's .pub.
    """
    params = module.params
    created = []

    def write(planned):
        action, public_key = planned
        if action == "create":
            created.append(write_pair(params))
        else:
            write_public(params, public_key)

    action, public_key = locks.plan_and_write(module, params["path"], lambda: plan_key(params), write)
    return (created[0] if created else public_key), action != "keep"


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            type=dict(type="str", choices=["ed25519", "ecdsa", "rsa"], default="ed25519"),
            size=dict(type="int"),
            passphrase=dict(type="str", no_log=True),
            comment=dict(type="str", default="fleetca"),
            force=dict(type="bool", default=False),
            **locks.ARGUMENT_SPEC
        ),
        supports_check_mode=True,
    )
    if not signers.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"))
    params = module.params
    try:
        files.check_writable_path("path", params["path"])
        public_key, changed = ensure_pair(module)
    except FleetcaError as exc:
        module.fail_json(msg=str(exc))
    if public_key is None:  # check mode, no key yet
        module.exit_json(changed=True)
    module.exit_json(changed=changed, public_key=public_key.to_line(params["comment"]),
                     fingerprint=public_key.fingerprint, key_type=public_key.key_type)


if __name__ == "__main__":
    main()
