# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenSSH public keys: parse key lines and blobs, fingerprints, signature checks.

Parsing and fingerprints need only the standard library (so KRL checks run on
any managed host); verifying a signature needs `cryptography`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import os

from ansible_collections.fleetca.ssh.plugins.module_utils.wire import (
    FleetcaError,
    WireError,
    WireReader,
    encode_mpint,
    encode_string,
)

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    HAS_CRYPTOGRAPHY = True
except ImportError:  # reported by the modules through missing_required_lib
    HAS_CRYPTOGRAPHY = False

CERT_SUFFIX = "-cert-v01@openssh.com"

# key type -> layout of the key fields that follow the type string
KEY_LAYOUTS = {
    "ssh-ed25519": ("ed25519", None),
    "ecdsa-sha2-nistp256": ("ecdsa", "nistp256"),
    "ecdsa-sha2-nistp384": ("ecdsa", "nistp384"),
    "ecdsa-sha2-nistp521": ("ecdsa", "nistp521"),
    "ssh-rsa": ("rsa", None),
    "sk-ssh-ed25519@openssh.com": ("sk-ed25519", None),
    "sk-ecdsa-sha2-nistp256@openssh.com": ("sk-ecdsa", "nistp256"),
}

RSA_SIGNATURE_HASHES = {"rsa-sha2-512": "sha512", "rsa-sha2-256": "sha256", "ssh-rsa": "sha1"}
ECDSA_HASHES = {"nistp256": "sha256", "nistp384": "sha384", "nistp521": "sha512"}
ED25519_KEY_LEN = 32


def cert_type_name(key_type):
    """`ssh-ed25519` -> `ssh-ed25519-cert-v01@openssh.com` (sk-* drop their @openssh.com)."""
    base = key_type[:-len("@openssh.com")] if key_type.endswith("@openssh.com") else key_type
    return base + CERT_SUFFIX


def plain_type_name(cert_type):
    """Inverse of `cert_type_name`, or None when `cert_type` is not a certificate type."""
    for key_type in KEY_LAYOUTS:
        if cert_type_name(key_type) == cert_type:
            return key_type
    return None


def fingerprint_sha256(blob):
    """`SHA256:...` exactly as `ssh-keygen -l` prints it."""
    digest = hashlib.sha256(blob).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


class PublicKey:
    """A plain (non-certificate) OpenSSH public key.

    `fields` holds the decoded key material: `pk` for Ed25519, `curve` and `q`
    for ECDSA, `e` and `n` for RSA, plus `application` for sk-* keys.
    """

    __slots__ = ("key_type", "fields", "comment", "blob", "_fingerprint", "_blob_field")

    def __init__(self, key_type, fields, comment=""):
        self.key_type = key_type
        self.fields = fields
        self.comment = comment
        self.blob = encode_string(key_type) + self.encode_fields()
        self._fingerprint = None
        self._blob_field = None

    @property
    def key_fields(self):
        """The blob after its type string: what a certificate embeds (a slice, not a re-encoding)."""
        return self.blob[4 + len(self.key_type):]

    @property
    def blob_field(self):
        """The blob as an SSH string: how a certificate names its CA (once per batch, not per certificate)."""
        if self._blob_field is None:
            self._blob_field = encode_string(self.blob)
        return self._blob_field

    @property
    def family(self):
        return KEY_LAYOUTS[self.key_type][0]

    def encode_fields(self):
        """The key fields after the type string; certificates embed exactly these."""
        fam, f = self.family, self.fields
        if fam in ("ed25519", "sk-ed25519"):
            out = encode_string(f["pk"])
        elif fam in ("ecdsa", "sk-ecdsa"):
            out = encode_string(f["curve"]) + encode_string(f["q"])
        else:
            out = encode_mpint(f["e"]) + encode_mpint(f["n"])
        if fam.startswith("sk-"):
            out += encode_string(f["application"])
        return out

    @property
    def fingerprint(self):
        if self._fingerprint is None:  # asked for several times per certificate in a batch
            self._fingerprint = fingerprint_sha256(self.blob)
        return self._fingerprint

    @property
    def sha1(self):
        return hashlib.sha1(self.blob).digest()

    @property
    def sha256(self):
        return hashlib.sha256(self.blob).digest()

    @property
    def bits(self):
        fam = self.family
        if fam == "rsa":
            return self.fields["n"].bit_length()
        if fam in ("ecdsa", "sk-ecdsa"):
            return int(self.fields["curve"][len("nistp"):])
        return 256

    def to_line(self, comment=None):
        comment = self.comment if comment is None else comment
        line = "%s %s" % (self.key_type, base64.b64encode(self.blob).decode("ascii"))
        return "%s %s" % (line, comment) if comment else line

    def __eq__(self, other):
        return isinstance(other, PublicKey) and self.blob == other.blob

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self.blob)

    def verify(self, signature_blob, data):
        """True when `signature_blob` (SSH signature encoding) signs `data` with this key."""
        if not HAS_CRYPTOGRAPHY:
            raise FleetcaError("verifying a signature needs the Python library cryptography")
        reader = WireReader(signature_blob)
        try:
            algorithm = reader.read_text("signature algorithm")
            raw = reader.read_string("signature")
            reader.expect_end("signature")
        except WireError:
            return False
        try:
            return self._verify_raw(algorithm, raw, data)
        except (InvalidSignature, WireError, ValueError):
            return False

    def _verify_raw(self, algorithm, raw, data):
        fam = self.family
        if fam == "ed25519" and algorithm == "ssh-ed25519":
            ed25519.Ed25519PublicKey.from_public_bytes(self.fields["pk"]).verify(raw, data)
            return True
        if fam == "ecdsa" and algorithm == self.key_type:
            sig = WireReader(raw)
            r, s = sig.read_mpint("r"), sig.read_mpint("s")
            sig.expect_end("ecdsa signature")
            hash_cls = getattr(hashes, ECDSA_HASHES[self.fields["curve"]].upper())
            self.to_cryptography().verify(encode_dss_signature(r, s), data, ec.ECDSA(hash_cls()))
            return True
        if fam == "rsa" and algorithm in RSA_SIGNATURE_HASHES:
            hash_cls = getattr(hashes, RSA_SIGNATURE_HASHES[algorithm].upper())
            self.to_cryptography().verify(raw, data, padding.PKCS1v15(), hash_cls())
            return True
        return False

    def to_cryptography(self):
        fam, f = self.family, self.fields
        if fam == "ed25519":
            return ed25519.Ed25519PublicKey.from_public_bytes(f["pk"])
        if fam == "ecdsa":
            curve = {"nistp256": ec.SECP256R1, "nistp384": ec.SECP384R1, "nistp521": ec.SECP521R1}
            return ec.EllipticCurvePublicKey.from_encoded_point(curve[f["curve"]](), f["q"])
        if fam == "rsa":
            return rsa.RSAPublicNumbers(f["e"], f["n"]).public_key()
        raise FleetcaError("%s keys cannot be used here" % self.key_type)


def read_key_fields(key_type, reader):
    """Read the key fields of `key_type` from `reader` (shared with certificates)."""
    if key_type not in KEY_LAYOUTS:
        raise WireError("unsupported key type %r" % key_type, reader.offset)
    fam, curve = KEY_LAYOUTS[key_type]
    fields = {}
    if fam in ("ed25519", "sk-ed25519"):
        start = reader.offset
        fields["pk"] = reader.read_string("ed25519 public key")
        if len(fields["pk"]) != ED25519_KEY_LEN:
            raise WireError("ed25519 public key must be 32 bytes", start)
    elif fam in ("ecdsa", "sk-ecdsa"):
        start = reader.offset
        fields["curve"] = reader.read_text("ecdsa curve")
        if fields["curve"] != curve:
            raise WireError("curve %r does not match key type %s" % (fields["curve"], key_type), start)
        start = reader.offset
        fields["q"] = reader.read_string("ecdsa point")
        if not fields["q"] or fields["q"][0] != 4:
            raise WireError("ecdsa point is not an uncompressed point", start)
    else:
        fields["e"] = reader.read_mpint("rsa exponent")
        start = reader.offset
        fields["n"] = reader.read_mpint("rsa modulus")
        if fields["n"].bit_length() < 1024:
            raise WireError("rsa modulus is shorter than 1024 bits", start)
    if fam.startswith("sk-"):
        fields["application"] = reader.read_text("sk application")
    return fields


def parse_public_key_blob(blob, comment=""):
    """A plain public key from its wire blob; WireError on anything malformed."""
    reader = WireReader(blob)
    key_type = reader.read_text("key type")
    if key_type.endswith(CERT_SUFFIX):
        raise WireError("expected a public key, got a certificate (%s)" % key_type, 0)
    fields = read_key_fields(key_type, reader)
    reader.expect_end("public key")
    return PublicKey(key_type, fields, comment)


def split_key_line(field, line):
    """`TYPE BASE64 [COMMENT]` -> (type, blob, comment), checking the blob's own type."""
    if not isinstance(line, str):
        raise FleetcaError("%s must be a string" % field)
    text = line.strip()
    if "\n" in text or "\r" in text or "\0" in text:
        raise FleetcaError("%s must be a single line" % field)
    parts = text.split(None, 2)
    if len(parts) < 2:
        raise FleetcaError("%s is not of the form 'TYPE BASE64 [COMMENT]'" % field)
    key_type, encoded = parts[0], parts[1]
    comment = parts[2] if len(parts) > 2 else ""
    try:
        blob = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise FleetcaError("%s has invalid or truncated base64" % field)
    try:
        inner = WireReader(blob).read_text("key type")
    except WireError as exc:
        raise FleetcaError("%s is malformed: %s" % (field, exc))
    if inner != key_type:
        raise FleetcaError("%s says %s but its data is %s" % (field, key_type, inner))
    return key_type, blob, comment


def parse_public_key(field, line):
    """A plain public key from an OpenSSH key line."""
    key_type, blob, comment = split_key_line(field, line)
    try:
        return parse_public_key_blob(blob, comment)
    except WireError as exc:
        raise FleetcaError("%s is malformed: %s" % (field, exc))


def load_public_key_option(field, value):
    """A public key given as a key line or as the path of a .pub file."""
    text = value.strip()
    if not text.startswith(("ssh-", "ecdsa-", "sk-")) and os.path.exists(text):
        try:
            with open(text) as handle:
                text = handle.read().strip()
        except (IOError, OSError) as exc:
            raise FleetcaError("%s: cannot read %s: %s" % (field, value, exc.strerror))
    return parse_public_key(field, text)
