# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenSSH file signatures (PROTOCOL.sshsig): what `ssh-keygen -Y sign` writes and `-Y verify` checks.

Signing goes through the collection's one signer interface (signers.py: a key file or an
ssh-agent); verifying needs `cryptography` (keys.PublicKey.verify). The armoured text is byte
for byte what ssh-keygen writes (Ed25519 signatures are deterministic, so there the whole file
matches).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib

from ansible_collections.fleetca.ssh.plugins.module_utils.keys import parse_public_key_blob
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import (
    FleetcaError,
    WireError,
    WireReader,
    encode_string,
    encode_uint32,
)

MAGIC = b"SSHSIG"
VERSION = 1
HASH_ALGORITHMS = ("sha512", "sha256")
BEGIN = "-----BEGIN SSH SIGNATURE-----"
END = "-----END SSH SIGNATURE-----"
LINE_WIDTH = 70

# The namespace of the master KRL's signature (contract: "Signed publication").
KRL_NAMESPACE = "fleetca-krl"


class Signature:
    """A parsed signature: the signer's public key, namespace, hash and the SSH signature blob."""

    def __init__(self, public_key, namespace, hash_algorithm, signature):
        self.public_key = public_key
        self.namespace = namespace
        self.hash_algorithm = hash_algorithm
        self.signature = signature


def signed_data(message, namespace, hash_algorithm="sha512"):
    """What the key actually signs: the magic, the namespace and the hash of the message."""
    if hash_algorithm not in HASH_ALGORITHMS:
        raise FleetcaError("hash_algorithm must be sha512 or sha256")
    digest = hashlib.new(hash_algorithm, message).digest()
    return (MAGIC + encode_string(namespace.encode("utf-8")) + encode_string(b"")
            + encode_string(hash_algorithm.encode("ascii")) + encode_string(digest))


def armor(blob):
    text = base64.b64encode(blob).decode("ascii")
    lines = [text[i:i + LINE_WIDTH] for i in range(0, len(text), LINE_WIDTH)]
    return "\n".join([BEGIN] + lines + [END]) + "\n"


def sign(signer, message, namespace, hash_algorithm="sha512"):
    """The armoured signature of `message` (bytes) by `signer` (signers.Signer), as `ssh-keygen -Y sign`."""
    signature = signer.sign(signed_data(message, namespace, hash_algorithm))
    blob = (MAGIC + encode_uint32(VERSION) + signer.public_key.blob_field
            + encode_string(namespace.encode("utf-8")) + encode_string(b"")
            + encode_string(hash_algorithm.encode("ascii")) + encode_string(signature))
    return armor(blob)


def _dearmor(text):
    lines = [line.strip() for line in text.strip().splitlines()]
    if len(lines) < 3 or lines[0] != BEGIN or lines[-1] != END:
        raise WireError("not an SSH signature (no %s ... %s armour)" % (BEGIN, END))
    try:
        return base64.b64decode("".join(lines[1:-1]), validate=True)
    except (binascii.Error, ValueError):
        raise WireError("the SSH signature's armour is not base64")


def parse(text):
    """A Signature from armoured text; WireError naming what is wrong."""
    reader = WireReader(_dearmor(text))
    if reader.read_raw(len(MAGIC), "magic") != MAGIC:
        raise WireError("not an SSH signature (bad magic)", 0)
    version = reader.read_uint32("version")
    if version != VERSION:
        raise WireError("SSH signature version %d is not supported" % version)
    public_key = parse_public_key_blob(reader.read_string("public key"))
    namespace = reader.read_text("namespace")
    reader.read_string("reserved")
    hash_algorithm = reader.read_text("hash algorithm")
    if hash_algorithm not in HASH_ALGORITHMS:
        raise WireError("SSH signature hash algorithm %r is not supported" % hash_algorithm)
    signature = reader.read_string("signature")
    reader.expect_end("SSH signature")
    return Signature(public_key, namespace, hash_algorithm, signature)


def verify(text, message, namespace, allowed_keys):
    """The allowed key (keys.PublicKey) that signed `message` in `namespace`; FleetcaError otherwise.

    As `ssh-keygen -Y verify`: the signature must parse, name this namespace, come from one of
    `allowed_keys` and verify over the message's hash.
    """
    signature = parse(text)
    if signature.namespace != namespace:
        raise FleetcaError("the signature is for namespace %r, not %r" % (signature.namespace, namespace))
    if all(signature.public_key != key for key in allowed_keys):
        raise FleetcaError("the signature was made by %s, which is not an allowed signer"
                           % signature.public_key.fingerprint)
    if WireReader(signature.signature).read_text("signature algorithm") == "ssh-rsa":
        raise FleetcaError("the signature uses SHA-1 (ssh-rsa), which OpenSSH refuses")
    if not signature.public_key.verify(signature.signature,
                                       signed_data(message, namespace, signature.hash_algorithm)):
        raise FleetcaError("the signature does not match the file (tampered, or signed over another file)")
    return signature.public_key
