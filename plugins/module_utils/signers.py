# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CA signers: one interface, `public_key` + `sign(data) -> SSH signature blob`.

`KeyFileSigner` holds an OpenSSH private key (optionally passphrase-protected,
bcrypt KDF); `AgentSigner` asks a running ssh-agent, so the CA private key never
touches this process. Error messages never include key material or passphrases.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket
import struct

from ansible_collections.fleetca.ssh.plugins.module_utils.keys import (
    load_public_key_option,
    parse_public_key,
)
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import (
    FleetcaError,
    WireError,
    WireReader,
    encode_byte,
    encode_mpint,
    encode_string,
    encode_uint32,
)

try:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    HAS_CRYPTOGRAPHY = True
except ImportError:  # reported by the modules through missing_required_lib
    HAS_CRYPTOGRAPHY = False

RSA_ALGORITHMS = ("rsa-sha2-512", "rsa-sha2-256")
KEY_TYPES = ("ed25519", "ecdsa", "rsa")
ECDSA_CURVES = {256: "SECP256R1", 384: "SECP384R1", 521: "SECP521R1"}
DEFAULT_SIZES = {"rsa": 4096, "ecdsa": 256, "ed25519": 256}

# ssh-agent protocol (draft-miller-ssh-agent)
AGENTC_SIGN_REQUEST = 13
AGENT_SIGN_RESPONSE = 14
AGENT_RSA_FLAGS = {"rsa-sha2-256": 2, "rsa-sha2-512": 4}


def _require_cryptography():
    if not HAS_CRYPTOGRAPHY:
        raise FleetcaError("signing needs the Python library cryptography")


class Signer:
    """Base: subclasses set `public_key` and implement `sign`."""

    public_key = None

    def __init__(self, rsa_algorithm="rsa-sha2-512"):
        if rsa_algorithm not in RSA_ALGORITHMS:
            raise FleetcaError("rsa_algorithm must be one of %s" % ", ".join(RSA_ALGORITHMS))
        self.rsa_algorithm = rsa_algorithm

    def signature_algorithm(self):
        key_type = self.public_key.key_type
        return self.rsa_algorithm if key_type == "ssh-rsa" else key_type

    def sign(self, data):
        raise NotImplementedError

    def close(self):
        """Release resources (the agent connection)."""


class KeySigner(Signer):
    """Signs with a `cryptography` private key object (Ed25519, ECDSA or RSA)."""

    def __init__(self, private_key, rsa_algorithm="rsa-sha2-512"):
        super(KeySigner, self).__init__(rsa_algorithm)
        _require_cryptography()
        if not isinstance(private_key, (ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey,
                                        rsa.RSAPrivateKey)):
            raise FleetcaError("ca_key: only Ed25519, ECDSA and RSA keys can sign here")
        self.public_key = parse_public_key("ca_key", public_key_line(private_key))
        # chosen once: a batch signs thousands of times with the same key and algorithm
        self._algorithm_field = encode_string(self.signature_algorithm())
        self._sign_raw = self._raw_signer(private_key, self.signature_algorithm())

    @staticmethod
    def _raw_signer(key, algorithm):
        """The function turning data into the signature's raw bytes, for this key and algorithm."""
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign
        if isinstance(key, ec.EllipticCurvePrivateKey):
            curve_hash = {256: hashes.SHA256, 384: hashes.SHA384, 521: hashes.SHA512}[key.curve.key_size]

            def sign_ecdsa(data):
                r, s = decode_dss_signature(key.sign(data, ec.ECDSA(curve_hash())))
                return encode_mpint(r) + encode_mpint(s)
            return sign_ecdsa
        rsa_hash = hashes.SHA512 if algorithm == "rsa-sha2-512" else hashes.SHA256
        return lambda data: key.sign(data, padding.PKCS1v15(), rsa_hash())

    def sign(self, data):
        return self._algorithm_field + encode_string(self._sign_raw(data))


class KeyFileSigner(KeySigner):
    """Signs with the private key in an OpenSSH private key file."""

    def __init__(self, path, passphrase=None, rsa_algorithm="rsa-sha2-512"):
        super(KeyFileSigner, self).__init__(load_private_key("ca_key", path, "ca_key_passphrase", passphrase),
                                            rsa_algorithm)


class AgentSigner(Signer):
    """Signs through ssh-agent at `socket_path` with the key matching `public_key`."""

    def __init__(self, public_key, socket_path=None, rsa_algorithm="rsa-sha2-512"):
        super(AgentSigner, self).__init__(rsa_algorithm)
        self.public_key = public_key
        socket_path = socket_path or os.environ.get("SSH_AUTH_SOCK")
        if not socket_path:
            raise FleetcaError("use_agent: SSH_AUTH_SOCK is not set and no agent socket was given")
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._sock.connect(socket_path)
        except (OSError, socket.error) as exc:
            self._sock.close()
            raise FleetcaError("use_agent: cannot connect to ssh-agent at %s: %s" % (socket_path, exc.strerror))

    def _request(self, payload):
        self._sock.sendall(struct.pack(">I", len(payload)) + payload)
        length = struct.unpack(">I", self._recv(4))[0]
        if length > 256 * 1024:
            raise FleetcaError("use_agent: oversized reply from ssh-agent")
        return self._recv(length)

    def _recv(self, count):
        chunks = []
        while count:
            chunk = self._sock.recv(count)
            if not chunk:
                raise FleetcaError("use_agent: ssh-agent closed the connection")
            chunks.append(chunk)
            count -= len(chunk)
        return b"".join(chunks)

    def sign(self, data):
        flags = AGENT_RSA_FLAGS[self.rsa_algorithm] if self.public_key.key_type == "ssh-rsa" else 0
        reply = self._request(encode_byte(AGENTC_SIGN_REQUEST) + self.public_key.blob_field
                              + encode_string(data) + encode_uint32(flags))
        if not reply or reply[0] != AGENT_SIGN_RESPONSE:
            raise FleetcaError(
                "use_agent: ssh-agent refused to sign with %s (is the CA key loaded? ssh-add -l)"
                % self.public_key.fingerprint)
        try:
            reader = WireReader(reply[1:])
            signature = reader.read_string("agent signature")
            algorithm = WireReader(signature).read_text("signature algorithm")
        except WireError as exc:
            raise FleetcaError("use_agent: malformed reply from ssh-agent: %s" % exc)
        if algorithm != self.signature_algorithm():
            raise FleetcaError("use_agent: ssh-agent signed with %s, expected %s"
                               % (algorithm, self.signature_algorithm()))
        return signature

    def close(self):
        self._sock.close()


def load_private_key(field, path, passphrase_field, passphrase):
    """Load an OpenSSH (or PEM) private key; errors never echo the passphrase or key.

    `field` and `passphrase_field` are the options that gave `path` and `passphrase`."""
    _require_cryptography()
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        raise FleetcaError("%s: cannot read %s: %s" % (field, path, exc.strerror))
    password = passphrase.encode("utf-8") if passphrase else None
    loader = serialization.load_ssh_private_key
    if not data.lstrip().startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----"):
        loader = serialization.load_pem_private_key
    try:
        return loader(data, password=password)
    except TypeError:
        if password is None:
            raise FleetcaError("%s: %s is passphrase-protected: set %s" % (field, path, passphrase_field))
        raise FleetcaError("%s: %s is not encrypted: remove %s" % (field, path, passphrase_field))
    except ValueError:
        if password is not None:
            raise FleetcaError("%s: wrong passphrase for %s (or the key is corrupt)" % (passphrase_field, path))
        raise FleetcaError("%s: %s is not a readable private key" % (field, path))
    except UnsupportedAlgorithm:
        raise FleetcaError("%s: %s needs the Python library bcrypt (passphrase-protected keys)" % (field, path))
    except Exception as exc:  # an unsupported cipher or key format
        raise FleetcaError("%s: cannot load %s (%s)" % (field, path, type(exc).__name__))


def public_key_line(private_key):
    return private_key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode("ascii")


def generate_private_key(key_type, size=None):
    """A new CA private key object (`ed25519`, `ecdsa` 256/384/521, `rsa` >= 2048)."""
    _require_cryptography()
    if key_type not in KEY_TYPES:
        raise FleetcaError("type must be one of %s" % ", ".join(KEY_TYPES))
    size = size or DEFAULT_SIZES[key_type]
    if key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if key_type == "ecdsa":
        if size not in ECDSA_CURVES:
            raise FleetcaError("size: ecdsa keys are 256, 384 or 521 bits, not %s" % size)
        return ec.generate_private_key(getattr(ec, ECDSA_CURVES[size])())
    if size < 2048:
        raise FleetcaError("size: rsa CA keys must be at least 2048 bits (3072+ recommended)")
    return rsa.generate_private_key(public_exponent=65537, key_size=size)


def private_key_bytes(private_key, passphrase=None):
    """OpenSSH private key format, encrypted with bcrypt-pbkdf + aes256-ctr when a passphrase is set."""
    encryption = (serialization.BestAvailableEncryption(passphrase.encode("utf-8"))
                  if passphrase else serialization.NoEncryption())
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                     encryption)


def make_signer(ca_key=None, ca_key_passphrase=None, ca_public_key=None, use_agent=False,
                rsa_algorithm="rsa-sha2-512", agent_socket=None):
    """The signer the module options ask for."""
    if use_agent:
        if not ca_public_key:
            raise FleetcaError("use_agent needs ca_public_key (the CA public key line or .pub path)")
        return AgentSigner(load_public_key_option("ca_public_key", ca_public_key), agent_socket,
                           rsa_algorithm)
    if not ca_key:
        raise FleetcaError("ca_key is required unless use_agent is true")
    return KeyFileSigner(ca_key, ca_key_passphrase, rsa_algorithm)
