# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """How a module reaches the CA key that signs."""

    DOCUMENTATION = r"""
options:
  ca_key:
    description:
      - Path of the CA private key on the host the module runs on (the CA host), in OpenSSH
        private key format, unencrypted or protected with a passphrase (bcrypt KDF).
      - Required unless O(use_agent=true).
      - When C(CA_KEY.pub) exists beside it, idempotent runs compare against that public key
        and do not decrypt the private key until something has to be signed.
    type: path
  ca_key_passphrase:
    description:
      - Passphrase of O(ca_key). Never logged, never echoed in an error.
    type: str
  ca_public_key:
    description:
      - The CA public key, as a key line or the path of a C(.pub) file.
      - Required with O(use_agent=true) to pick the agent's key.
    type: str
  use_agent:
    description:
      - Sign through a running ssh-agent holding the CA key, so that the private key never
        reaches this process.
    type: bool
    default: false
  agent_socket:
    description:
      - Path of the ssh-agent socket. Defaults to the E(SSH_AUTH_SOCK) environment variable.
    type: path
  rsa_algorithm:
    description:
      - Signature algorithm of an RSA CA. SHA-1 (C(ssh-rsa)) is never used.
    type: str
    choices: [rsa-sha2-512, rsa-sha2-256]
    default: rsa-sha2-512
requirements:
  - cryptography >= 38 on the CA host
  - bcrypt on the CA host, for passphrase-protected keys
"""
