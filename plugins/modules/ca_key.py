#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
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
author:
  - fleetca.ssh contributors (@fleetca)
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

from ansible_collections.fleetca.ssh.plugins.module_utils import files, keys, signers
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

TYPE_NAMES = {"ed25519": ("ssh-ed25519",), "rsa": ("ssh-rsa",),
              "ecdsa": ("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521")}


def existing_public_key(params):
    """The public key of the key at `path`: from `.pub`, else from the private key."""
    pub_path = params["path"] + ".pub"
    if os.path.exists(pub_path):
        return keys.load_public_key_option("path", pub_path), False
    private_key = signers.load_private_key(params["path"], params["passphrase"], "path", "passphrase")
    return keys.parse_public_key(signers.public_key_line(private_key)), True


def write_pair(params):
    private_key = signers.generate_private_key(params["type"], params["size"])
    public_key = keys.parse_public_key(signers.public_key_line(private_key))
    write_public(params, public_key)  # the .pub first: a private key never lacks its .pub
    files.write_atomic(params["path"], signers.private_key_bytes(private_key, params["passphrase"]), 0o600)
    return public_key


def write_public(params, public_key):
    line = public_key.to_line(params["comment"]) + "\n"
    files.write_atomic(params["path"] + ".pub", line.encode("utf-8"), 0o644)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            type=dict(type="str", choices=["ed25519", "ecdsa", "rsa"], default="ed25519"),
            size=dict(type="int"),
            passphrase=dict(type="str", no_log=True),
            comment=dict(type="str", default="fleetca"),
            force=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    if not signers.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"))
    params = module.params
    try:
        files.check_writable_path("path", params["path"])
        if os.path.exists(params["path"]) and not params["force"]:
            public_key, pub_missing = existing_public_key(params)
            if public_key.key_type not in TYPE_NAMES[params["type"]]:
                raise FleetcaError(
                    "type: the key at %s is %s, not %s; set force: true to replace it (this "
                    "invalidates every certificate it signed)"
                    % (params["path"], public_key.key_type, params["type"]))
            if pub_missing and not module.check_mode:
                write_public(params, public_key)
            changed = pub_missing
        elif module.check_mode:
            module.exit_json(changed=True)
        else:
            public_key = write_pair(params)
            changed = True
    except FleetcaError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=changed, public_key=public_key.to_line(params["comment"]),
                     fingerprint=public_key.fingerprint, key_type=public_key.key_type)


if __name__ == "__main__":
    main()
