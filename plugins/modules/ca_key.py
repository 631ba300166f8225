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
  - fleetca.ssh.fast_path_action
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

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.fleetca.ssh.plugins.module_utils import ca_key_pair, locks, signers
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


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
            created.append(ca_key_pair.write_pair(params))
        else:
            ca_key_pair.write_public(params, public_key)

    action, public_key = locks.plan_and_write(module, params["path"], lambda: ca_key_pair.plan_key(params), write)
    return (created[0] if created else public_key), action != "keep"


def main():
    module = AnsibleModule(argument_spec=dict(ca_key_pair.OPTIONS, **locks.ARGUMENT_SPEC),
                           supports_check_mode=True)
    if not signers.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"))
    params = module.params
    try:
        public_key, changed = ensure_pair(module)
    except FleetcaError as exc:
        module.fail_json(msg=str(exc))
    if public_key is None:  # check mode, no key yet
        module.exit_json(changed=True)
    module.exit_json(**ca_key_pair.result_of(public_key, params["comment"], changed))


if __name__ == "__main__":
    main()
