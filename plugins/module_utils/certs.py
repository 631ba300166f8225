# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenSSH certificates (PROTOCOL.certkeys): build, sign, parse, verify, describe.

This is the one signing path of the collection: every certificate, whatever
its key type, is encoded here and signed through a `signers.Signer`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import contextlib
import gc
import os
import re
import struct
import time
from datetime import datetime

from ansible_collections.fleetca.ssh.plugins.module_utils.keys import (
    CERT_SUFFIX,
    KEY_LAYOUTS,
    PublicKey,
    cert_type_name,
    parse_public_key_blob,
    plain_type_name,
    read_key_fields,
    split_key_line,
)
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import (
    EMPTY_STRING,
    UINT64_MAX,
    FleetcaError,
    WireError,
    WireReader,
    encode_options,
    encode_string,
    encode_string_list,
)

USER_CERT = 1
HOST_CERT = 2
CERT_TYPES = {"user": USER_CERT, "host": HOST_CERT}
CERT_TYPE_NAMES = {USER_CERT: "user", HOST_CERT: "host"}

KNOWN_CRITICAL_OPTIONS = ("force-command", "source-address", "verify-required")
# The extensions OpenSSH knows (a profile may grant only these).
KNOWN_EXTENSIONS = (
    "no-touch-required",
    "permit-X11-forwarding",
    "permit-agent-forwarding",
    "permit-port-forwarding",
    "permit-pty",
    "permit-user-rc",
)
# What ssh-keygen grants a user certificate when no extensions are asked for.
DEFAULT_USER_EXTENSIONS = {
    "permit-X11-forwarding": "",
    "permit-agent-forwarding": "",
    "permit-port-forwarding": "",
    "permit-pty": "",
    "permit-user-rc": "",
}
NONCE_LEN = 32
NONCE_LENGTH_FIELD = struct.pack(">I", NONCE_LEN)


# key type -> its certificate type as the blob's first field (the same for every certificate of a type)
CERT_TYPE_FIELDS = dict((key_type, encode_string(cert_type_name(key_type))) for key_type in KEY_LAYOUTS)


class CertRequest:
    """What to certify: validated once here, so every caller gets the same rules."""

    __slots__ = ("cert_type", "public_key", "principals", "key_id", "valid_after", "valid_before", "serial",
                 "critical_options", "extensions", "allow_any_principal", "allow_unknown_critical_options")

    def __init__(self, cert_type, public_key, principals, key_id, valid_after, valid_before,
                 serial=None, critical_options=None, extensions=None,
                 allow_any_principal=False, allow_unknown_critical_options=False):
        self.cert_type = cert_type
        self.public_key = public_key
        self.principals = list(principals or [])
        self.key_id = key_id
        self.valid_after = valid_after
        self.valid_before = valid_before
        self.serial = serial
        self.critical_options = dict(critical_options or {})
        self.extensions = dict(extensions or {})
        self.allow_any_principal = allow_any_principal
        self.allow_unknown_critical_options = allow_unknown_critical_options
        self.validate()

    def validate(self):
        if self.cert_type not in (USER_CERT, HOST_CERT):
            raise FleetcaError("type must be 'user' or 'host'")
        if not isinstance(self.public_key, PublicKey):
            raise FleetcaError("public_key must be a plain public key, not a certificate")
        for principal in self.principals:
            _check_text("principals", principal, forbid=",")
        if len(set(self.principals)) != len(self.principals):
            raise FleetcaError("principals must not repeat a name")
        if not self.principals and not self.allow_any_principal:
            raise FleetcaError(
                "principals is empty: set principals, or allow_any_principal: true to sign a "
                "certificate valid for any principal (OpenSSH 10.3+ matches none)")
        _check_text("key_id", self.key_id, allow_empty=True)
        if self.serial is not None and not 0 < self.serial <= UINT64_MAX:
            raise FleetcaError("serial must be between 1 and 2^64-1 (a KRL never matches serial 0)")
        if not 0 <= self.valid_after < self.valid_before <= UINT64_MAX:
            raise FleetcaError("valid_to must be later than valid_from")
        if self.cert_type == HOST_CERT and (self.critical_options or self.extensions):
            raise FleetcaError("host certificates carry no critical_options or extensions")
        for name, value in self.critical_options.items():
            _check_text("critical_options", name)
            _check_text("critical_options", value, allow_empty=True)
            if name not in KNOWN_CRITICAL_OPTIONS and not self.allow_unknown_critical_options:
                raise FleetcaError(
                    "critical_options: unknown option %r (sshd refuses certificates with unknown "
                    "critical options; known: %s)" % (name, ", ".join(KNOWN_CRITICAL_OPTIONS)))
        for name, value in self.extensions.items():
            _check_text("extensions", name)
            _check_text("extensions", value, allow_empty=True)


def _check_text(field, value, allow_empty=False, forbid=""):
    if not isinstance(value, str):
        raise FleetcaError("%s: %r must be a string" % (field, value))
    if not value and not allow_empty:
        raise FleetcaError("%s: empty names are not allowed" % field)
    for char in "\n\r\0" + forbid:
        if char in value:
            raise FleetcaError("%s: %r must not contain %r" % (field, value, char))


class Certificate:
    """A parsed or freshly signed OpenSSH certificate."""

    # slots: a batch holds thousands of these at once
    __slots__ = ("blob", "signed_length", "nonce", "public_key", "serial", "cert_type", "key_id", "principals",
                 "valid_after", "valid_before", "critical_options", "extensions", "signature_key", "signature",
                 "comment", "_encoded")

    def __init__(self, blob, signed_length, nonce, public_key, serial, cert_type, key_id,
                 principals, valid_after, valid_before, critical_options, extensions,
                 signature_key, signature, comment=""):
        self.blob = blob
        self.signed_length = signed_length
        self.nonce = nonce
        self.public_key = public_key
        self.serial = serial
        self.cert_type = cert_type
        self.key_id = key_id
        self.principals = principals
        self.valid_after = valid_after
        self.valid_before = valid_before
        self.critical_options = critical_options
        self.extensions = extensions
        self.signature_key = signature_key
        self.signature = signature
        self.comment = comment
        self._encoded = None

    @property
    def key_type(self):
        return cert_type_name(self.public_key.key_type)

    @property
    def type_name(self):
        return CERT_TYPE_NAMES[self.cert_type]

    @property
    def signed_data(self):
        return self.blob[:self.signed_length]

    def to_line(self, comment=None):
        comment = self.comment if comment is None else comment
        if self._encoded is None:  # a batch writes each line up to three times (result, file, log)
            self._encoded = "%s %s" % (self.key_type, base64.b64encode(self.blob).decode("ascii"))
        return "%s %s" % (self._encoded, comment) if comment else self._encoded

    def signature_valid(self, ca_public_key=None):
        """The signature verifies, and (when given) the signer is `ca_public_key`."""
        if ca_public_key is not None and ca_public_key != self.signature_key:
            return False
        return self.signature_key.verify(self.signature, self.signed_data)

    def valid_at(self, when):
        return self.valid_after <= when < self.valid_before

    def seconds_left(self, now):
        if self.valid_before == UINT64_MAX:
            return UINT64_MAX
        return max(0, self.valid_before - now)

    def matches(self, request, signer_key):
        """Same CA, key, type, principals, key id, options and extensions as `request`."""
        return (self.signature_key == signer_key
                and self.public_key == request.public_key
                and self.cert_type == request.cert_type
                and self.principals == request.principals
                and self.key_id == request.key_id
                and dict(self.critical_options) == request.critical_options
                and dict(self.extensions) == request.extensions)

    def describe(self):
        """The fields `ssh-keygen -L` prints, as text for diff mode."""
        lines = [
            "Type: %s %s certificate" % (self.key_type, self.type_name),
            "Public key: %s %s" % (self.public_key.key_type, self.public_key.fingerprint),
            "Signing CA: %s %s" % (self.signature_key.key_type, self.signature_key.fingerprint),
            'Key ID: "%s"' % self.key_id,
            "Serial: %d" % self.serial,
            "Valid: from %s to %s" % (format_time(self.valid_after), format_time(self.valid_before)),
            "Principals: %s" % (", ".join(self.principals) or "(none)"),
            "Critical Options: %s" % _describe_options(self.critical_options),
            "Extensions: %s" % _describe_options(self.extensions),
        ]
        return "\n".join(lines) + "\n"


def _describe_options(pairs):
    if not pairs:
        return "(none)"
    return ", ".join("%s %s" % (n, v) if v else n for n, v in pairs)


def format_time(epoch):
    """ISO 8601 UTC, or `forever` for the maximum."""
    if epoch >= UINT64_MAX:
        return "forever"
    try:
        return datetime.utcfromtimestamp(epoch).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return str(epoch)


def tbs_blob(request, serial, signer_key, nonce):
    """The to-be-signed part of a certificate: everything up to the signature."""
    public_key = request.public_key
    return b"".join((
        CERT_TYPE_FIELDS[public_key.key_type],
        NONCE_LENGTH_FIELD, nonce,
        public_key.key_fields,
        struct.pack(">QI", serial, request.cert_type),
        encode_string(request.key_id),
        encode_string_list(request.principals),
        struct.pack(">QQ", request.valid_after, request.valid_before),
        encode_options(request.critical_options),
        encode_options(request.extensions),
        EMPTY_STRING,  # reserved
        signer_key.blob_field,
    ))


def sign_certificate(request, serial, signer, comment=""):
    """Sign `request` with `signer` (see signers.py) and return the Certificate."""
    if not 0 < serial <= UINT64_MAX:
        raise FleetcaError("serial must be between 1 and 2^64-1")
    nonce = os.urandom(NONCE_LEN)
    tbs = tbs_blob(request, serial, signer.public_key, nonce)
    signature = signer.sign(tbs)
    return Certificate(tbs + encode_string(signature), len(tbs), nonce, request.public_key, serial,
                       request.cert_type, request.key_id, list(request.principals), request.valid_after,
                       request.valid_before, _sorted_pairs(request.critical_options),
                       _sorted_pairs(request.extensions), signer.public_key, signature, comment)


@contextlib.contextmanager
def batch_without_cycle_collection():
    """Pause Python's cyclic garbage collector while a batch is built and signed.

    A batch keeps about ten new objects per certificate alive and makes no reference cycle: the
    collector's passes would only rescan what is alive (3-6 % of the engine's time at 5,000
    certificates, benchmarks/sign.py). Reference counting still frees everything as it goes.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _sorted_pairs(options):
    """Options as the certificate holds them: (name, value) pairs in byte order."""
    if not options:  # host certificates, every time
        return []
    return [(name, options[name]) for name in sorted(options, key=lambda n: n.encode("utf-8"))]


def parse_certificate_blob(blob, comment=""):
    """Parse a certificate blob; WireError (with offset) on anything malformed."""
    reader = WireReader(blob)
    cert_key_type = reader.read_text("certificate type")
    key_type = plain_type_name(cert_key_type)
    if key_type is None:
        raise WireError("unsupported certificate type %r" % cert_key_type, 0)
    nonce = reader.read_string("nonce")
    public_key = PublicKey(key_type, read_key_fields(key_type, reader))
    serial = reader.read_uint64("serial")
    start = reader.offset
    cert_type = reader.read_uint32("certificate role")
    if cert_type not in CERT_TYPE_NAMES:
        raise WireError("certificate role %d is neither user (1) nor host (2)" % cert_type, start)
    key_id = reader.read_text("key id")
    principals = reader.read_string_list("principals")
    valid_after = reader.read_uint64("valid after")
    valid_before = reader.read_uint64("valid before")
    critical_options = reader.read_options("critical options")
    extensions = reader.read_options("extensions")
    reader.read_string("reserved")
    start = reader.offset
    ca_blob = reader.read_string("signature key")
    try:
        signature_key = parse_public_key_blob(ca_blob)
    except WireError as exc:
        raise WireError("bad signature key: %s" % exc, start)
    signed_length = reader.offset
    signature = reader.read_string("signature")
    reader.expect_end("certificate")
    return Certificate(bytes(blob), signed_length, nonce, public_key, serial, cert_type, key_id,
                       principals, valid_after, valid_before, critical_options, extensions,
                       signature_key, signature, comment)


def parse_certificate(field, line):
    """A certificate from its OpenSSH line (`TYPE-cert-v01@openssh.com BASE64 [COMMENT]`)."""
    key_type, blob, comment = split_key_line(field, line)
    if not key_type.endswith(CERT_SUFFIX):
        raise FleetcaError("%s is a %s key, not a certificate" % (field, key_type))
    try:
        return parse_certificate_blob(blob, comment)
    except WireError as exc:
        raise FleetcaError("%s is malformed: %s" % (field, exc))


def parse_key_or_certificate(field, line):
    """A PublicKey or a Certificate, whichever the line holds."""
    key_type, blob, comment = split_key_line(field, line)
    try:
        if key_type.endswith(CERT_SUFFIX):
            return parse_certificate_blob(blob, comment)
        return parse_public_key_blob(blob, comment)
    except WireError as exc:
        raise FleetcaError("%s is malformed: %s" % (field, exc))


# --- validity, in ssh-keygen's -V vocabulary ------------------------------

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_INTERVAL = re.compile(r"^(?:\d+[smhdwSMHDW])*\d*$")
_INTERVAL_PART = re.compile(r"(\d+)([smhdwSMHDW]?)")


def _parse_interval(text):
    """`1w2d3h` -> seconds (ssh-keygen's time format; a bare number is seconds)."""
    if not text or not _INTERVAL.match(text):
        raise ValueError(text)
    return sum(int(n) * _UNITS[u.lower() or "s"] for n, u in _INTERVAL_PART.findall(text))


def parse_time(field, value, now, is_end):
    """One validity bound: `+52w`/`-5m` (relative to now), `always`, `forever`,
    epoch seconds, `YYYYMMDD[HHMM[SS]]` or ISO 8601 (UTC unless an offset is given)."""
    if isinstance(value, bool):
        raise FleetcaError("%s: %r is not a time" % (field, value))
    if isinstance(value, int):
        seconds = value
    else:
        text = str(value).strip()
        try:
            seconds = _parse_time_text(text, now, is_end)
        except ValueError:
            raise FleetcaError(
                "%s: %r is not a time (use +52w, -5m, always, forever, epoch seconds, "
                "YYYYMMDD[HHMM[SS]] or ISO 8601)" % (field, value))
    if not 0 <= seconds <= UINT64_MAX:
        raise FleetcaError("%s: %r is out of range" % (field, value))
    return seconds


def _parse_time_text(text, now, is_end):
    lowered = text.lower()
    if lowered == "forever":
        return UINT64_MAX
    if lowered == "always":
        return UINT64_MAX if is_end else 0
    if lowered == "now":
        return now
    if text[:1] in "+-" and len(text) > 1:
        delta = _parse_interval(text[1:])
        return now + delta if text[0] == "+" else max(0, now - delta)
    if text.isdigit() and len(text) in (8, 12, 14):
        padded = text + "0" * (14 - len(text))
        parsed = datetime.strptime(padded, "%Y%m%d%H%M%S")
        return _utc_epoch(parsed)
    if text.isdigit():
        return int(text)
    normalized = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    parsed = datetime.fromisoformat(normalized)
    if parsed.tzinfo is not None:
        return int(parsed.timestamp())
    return _utc_epoch(parsed)


def _utc_epoch(naive):
    return int((naive - datetime(1970, 1, 1)).total_seconds())


def validity_window(valid_from=None, valid_to=None, valid_for=None, now=None):
    """(valid_after, valid_before) from the module's options.

    `valid_for` is a relative end (`+52w`) measured from now; `valid_from`
    defaults to five minutes ago so that a slow clock on a server does not
    reject a fresh certificate.
    """
    now = int(time.time()) if now is None else now
    if valid_for is not None and valid_to is not None:
        raise FleetcaError("valid_for and valid_to are mutually exclusive")
    start = parse_time("valid_from", valid_from if valid_from is not None else "-5m", now, False)
    if valid_to is not None:
        end = parse_time("valid_to", valid_to, now, True)
    elif valid_for is not None:
        text = str(valid_for).strip()
        if text.lower() in ("forever", "always"):
            end = UINT64_MAX
        else:
            end = parse_time("valid_for", text if text[:1] == "+" else "+" + text, now, True)
    else:
        raise FleetcaError("one of valid_to or valid_for is required")
    if start >= end:
        raise FleetcaError("valid_to must be later than valid_from")
    return start, end


def parse_duration(field, value):
    """A length of time in seconds: an integer or an interval like `4w` / `+4w`."""
    if isinstance(value, bool):
        raise FleetcaError("%s: %r is not a duration" % (field, value))
    if isinstance(value, int):
        if value < 0:
            raise FleetcaError("%s must not be negative" % field)
        return value
    text = str(value).strip().lstrip("+")
    try:
        return _parse_interval(text)
    except ValueError:
        raise FleetcaError("%s: %r is not a duration (use e.g. 4w, +1d12h or seconds)" % (field, value))


def fixed_bounds(valid_from=None, valid_to=None, valid_for=None, now=None):
    """The validity bounds that do not move with the clock (absolute times), else None.

    A relative bound (`+52w`, `-5m`) is recomputed at every run, so comparing it
    with an existing certificate would re-sign every time; absolute ones are compared.
    """
    now = int(time.time()) if now is None else now
    first = validity_window(valid_from, valid_to, valid_for, now)
    later = validity_window(valid_from, valid_to, valid_for, now + 3600)
    return tuple(a if a == b else None for a, b in zip(first, later))


def renewal_reason(existing, request, ca_public_key, now, renew_before=None, bounds=(None, None)):
    """Why `existing` must be re-signed to satisfy `request`, or None to keep it."""
    if existing is None:
        return "no certificate yet"
    if not existing.matches(request, ca_public_key):
        return "signed by another CA, over another key, or with other fields"
    if request.serial is not None and existing.serial != request.serial:
        return "serial differs"
    fixed_after, fixed_before = bounds
    if fixed_after is not None and existing.valid_after != fixed_after:
        return "valid_from differs"
    if fixed_before is not None and existing.valid_before != fixed_before:
        return "valid_to differs"
    if now >= existing.valid_before:
        return "expired"
    if fixed_after is None and existing.valid_after > now:
        return "not valid yet"
    if renew_before is not None and existing.seconds_left(now) <= renew_before:
        return "inside the renew window"
    if not existing.signature_valid(ca_public_key):
        return "signature does not verify"
    return None
