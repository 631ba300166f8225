# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What one krl module call asks for, checked option by option (ssh-keygen.c's side).

The KRL format and model live in krl.py (OpenSSH's krl.c); this file turns the
user's options (serials, key ids, key lines, fingerprints, issuance log records)
into a Revocations request and decides the new KRL version (plan_update), with
every error naming its field. The krl action answers a call that changes nothing in one
round trip (`payload_main`), with the same plan.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import re
import time

from ansible_collections.fleetca.ssh.plugins.module_utils.certs import parse_key_or_certificate
from ansible_collections.fleetca.ssh.plugins.module_utils.files import check_writable_path
from ansible_collections.fleetca.ssh.plugins.module_utils.keys import PublicKey, fingerprint_sha256, load_public_key_option
from ansible_collections.fleetca.ssh.plugins.module_utils.krl import SHA256_LEN, Krl, SerialSet, load_krl_file
from ansible_collections.fleetca.ssh.plugins.module_utils.listing import listed
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import UINT64_MAX, FleetcaError

SELECTORS = ("key_id", "principal", "host")

# The module's own options; with the lock's (locks.ARGUMENT_SPEC) and Ansible's file options,
# its whole argument spec.
OPTIONS = dict(
    path=dict(type="path", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    ca_public_key=dict(type="str"),
    serials=dict(type="list", elements="raw", default=[]),
    key_ids=dict(type="list", elements="str", default=[], no_log=False),
    public_keys=dict(type="list", elements="str", default=[]),
    sha256_fingerprints=dict(type="list", elements="str", default=[]),
    spec_file=dict(type="path"),
    issued=dict(type="list", elements="dict", default=[],
                options=dict((name, dict(type="str")) for name in SELECTORS),
                mutually_exclusive=[SELECTORS], required_one_of=[SELECTORS]),
    store=dict(type="path"),
    prune_expired=dict(type="bool", default=False),
    comment=dict(type="str"),
    krl_version=dict(type="int"),
)


class Revocations:
    """Entries named by one module call, to revoke (Krl.revoke) or un-revoke (Krl.unrevoke)."""

    def __init__(self):
        self._serial_pairs = {}  # CA blob -> [(lo, hi)], merged by `serials`
        self.key_ids = {}        # CA blob -> set of key ids
        self.keys = {}           # plain key blob -> PublicKey, revoked by SHA256 hash
        self.explicit_keys = {}  # plain key blob -> PublicKey, revoked as the key itself
        self.sha1s = set()
        self.sha256s = set()

    @property
    def serials(self):
        """CA blob -> SerialSet of the serials named for that CA."""
        return dict((ca_blob, SerialSet.from_ranges(pairs))
                    for ca_blob, pairs in self._serial_pairs.items())

    def add_serials(self, ca_blob, lo, hi):
        self._serial_pairs.setdefault(ca_blob, []).append((lo, hi))

    def add_key_id(self, ca_blob, key_id):
        self.key_ids.setdefault(ca_blob, set()).add(key_id)

    def drop_serials(self, serials_of):
        """Forget the serials `serials_of(ca_blob)` returns (a SerialSet) for each CA."""
        self._serial_pairs = dict((ca_blob, list(serials.difference(serials_of(ca_blob)).ranges()))
                                  for ca_blob, serials in self.serials.items())

    def add_key_or_certificate(self, key):
        """As `ssh-keygen -k` takes a bare key line: a certificate by serial under
        its CA (by key id when the serial is 0), a plain key as a key."""
        if isinstance(key, PublicKey):
            self.keys[key.blob] = key
        elif key.serial == 0:
            self.add_key_id(key.signature_key.blob, key.key_id)
        else:
            self.add_serials(key.signature_key.blob, key.serial, key.serial)


_SERIAL_TEXT = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def parse_serial_option(field, value):
    """An int or `"N"` / `"A-B"` (A <= B) -> (lo, hi) within 1..2^64-1."""
    if isinstance(value, bool):
        raise FleetcaError("%s: %r is not a serial" % (field, value))
    if isinstance(value, int):
        lo = hi = value
    else:
        match = _SERIAL_TEXT.match(str(value))
        if not match:
            raise FleetcaError("%s: %r is not a serial number or an 'A-B' range" % (field, value))
        lo = int(match.group(1))
        hi = int(match.group(2)) if match.group(2) is not None else lo
    if lo < 1 or hi < 1:
        raise FleetcaError("%s: %r: serial 0 cannot be revoked (sshd never matches serial 0 "
                           "by serial; revoke such a certificate by key id)" % (field, value))
    if hi > UINT64_MAX or lo > UINT64_MAX:
        raise FleetcaError("%s: %r is larger than 2^64-1" % (field, value))
    if lo > hi:
        raise FleetcaError("%s: %r: range minimum is larger than its maximum" % (field, value))
    return lo, hi


def parse_sha256_fingerprint(field, value):
    """`SHA256:<43 base64 characters>` as `ssh-keygen -l` prints it -> 32-byte digest."""
    text = value.strip() if isinstance(value, str) else ""
    digest = None
    if text.startswith("SHA256:"):
        encoded = text[len("SHA256:"):].rstrip("=")
        try:
            digest = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except (ValueError, TypeError):
            digest = None
    if digest is None or len(digest) != SHA256_LEN:
        raise FleetcaError("%s: %r is not a SHA256 fingerprint as ssh-keygen -l prints it "
                           "(SHA256: followed by 43 base64 characters)" % (field, value))
    return digest


def check_key_id_option(field, value):
    if not isinstance(value, str) or not value:
        raise FleetcaError("%s: %r is not a key id (a non-empty string)" % (field, value))
    if "\0" in value:
        raise FleetcaError("%s: %r contains a NUL character" % (field, value))
    return value


def load_ca_option(field, value):
    """CA blob for `ca_public_key` (a key line or a .pub path); b"" (any CA) when omitted."""
    if value is None or value == "":
        return b""
    return load_public_key_option(field, value).blob


# --- revocation spec files, as `ssh-keygen -k` reads them -------------------------------------

def _spec_number(where, text):
    """An unsigned number as strtoull(3) with base 0 reads it (0x.. hex, 0.. octal), whole."""
    try:
        if text[:2] in ("0x", "0X"):
            return int(text[2:], 16)
        if len(text) > 1 and text[0] == "0":
            return int(text[1:], 8)
        if text.isdigit():
            return int(text)
    except ValueError:
        pass
    raise FleetcaError("%s: invalid serial %r" % (where, text))


def _spec_serials(where, text):
    """`N` or `A-B` with A < B, as ssh-keygen -k takes them (it refuses `5-5` and serial 0)."""
    low_text, dash, high_text = text.partition("-")
    lo = _spec_number(where, low_text)
    hi = _spec_number(where, high_text.lstrip(" \t")) if dash else lo
    if dash and hi <= lo:
        raise FleetcaError("%s: invalid serial range %r (ssh-keygen -k needs A < B)" % (where, text))
    if lo < 1:
        raise FleetcaError("%s: serial 0 cannot be revoked (sshd never matches serial 0 by serial; "
                           "revoke such a certificate by id:)" % where)
    if hi > UINT64_MAX:
        raise FleetcaError("%s: serial %r is larger than 2^64-1" % (where, text))
    return lo, hi


def _plain(key):
    return key if isinstance(key, PublicKey) else key.public_key


def add_spec(request, field, text, ca_blob):
    """Add the revocations of a `ssh-keygen -k` spec (`serial: N`, `serial: A-B`, `id: KEYID`,
    `key: LINE` (the key itself), `sha1: LINE`, `sha256: LINE` (its hash), `hash: SHA256:FP`,
    or a bare key or certificate line; `#` starts a comment) to `request`. Serials and key ids
    are of `ca_blob` (b"": any CA, as `ssh-keygen -k -s none`). Errors name `field` and the line."""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip(" \t\r")
        if not line:
            continue
        where = "%s line %d" % (field, number)
        kind, colon, rest = line.partition(":")
        kind, rest = kind.lower(), rest.lstrip(" \t")
        if colon and kind == "serial":
            request.add_serials(ca_blob, *_spec_serials(where, rest))
        elif colon and kind == "id":
            request.add_key_id(ca_blob, check_key_id_option(where, rest))
        elif colon and kind == "hash":
            request.sha256s.add(parse_sha256_fingerprint(where, rest))
        elif colon and kind == "key":
            key = _plain(parse_key_or_certificate(where, rest))
            request.explicit_keys[key.blob] = key
        elif colon and kind == "sha1":
            request.sha1s.add(_plain(parse_key_or_certificate(where, rest)).sha1)
        elif colon and kind == "sha256":
            request.sha256s.add(_plain(parse_key_or_certificate(where, rest)).sha256)
        else:
            request.add_key_or_certificate(parse_key_or_certificate(where, line))


def _record_ca_blob(record, index):
    return load_public_key_option("issued[%d] (issuance log CA key)" % index, record.ca_public_key).blob


def build_revocations(ca_public_key=None, serials=None, key_ids=None, public_keys=None,
                      sha256_fingerprints=None, issued_records=None, spec=None):
    """Validate the module's options into a Revocations; FleetcaError names the field.
    `spec` is the text of a spec file (see add_spec), named `spec_file` in errors."""
    ca_blob = load_ca_option("ca_public_key", ca_public_key)
    request = Revocations()
    if spec:
        add_spec(request, "spec_file", spec, ca_blob)
    for value in serials or ():
        request.add_serials(ca_blob, *parse_serial_option("serials", value))
    for value in key_ids or ():
        request.add_key_id(ca_blob, check_key_id_option("key_ids", value))
    for index, line in enumerate(public_keys or ()):
        request.add_key_or_certificate(parse_key_or_certificate("public_keys[%d]" % index, line))
    for value in sha256_fingerprints or ():
        request.sha256s.add(parse_sha256_fingerprint("sha256_fingerprints", value))
    for index, record in enumerate(issued_records or ()):
        if not 0 < record.serial <= UINT64_MAX:
            raise FleetcaError("issued: log record %r has serial %r, which a KRL cannot revoke"
                               % (record.key_id, record.serial))
        request.add_serials(_record_ca_blob(record, index), record.serial, record.serial)
    return request


class ExpiredSerials:
    """Serials the issuance log proves can only match expired certificates (prune_expired):
    per CA, those whose every certificate of that CA has expired; in the any-CA section, those
    whose every certificate of any CA has. Serials the log does not know are never in it."""

    def __init__(self, by_ca_fingerprint, any_ca):
        self._by_ca = dict((fingerprint, SerialSet.from_serials(serials))
                           for fingerprint, serials in by_ca_fingerprint.items())
        self._any_ca = SerialSet.from_serials(any_ca)

    @classmethod
    def from_log(cls, log, now):
        """From an IssuanceLog (store.py), as of `now` (seconds since the epoch)."""
        return cls(*log.expired_serials(now))

    def of(self, ca_blob):
        """The expired serials of the certificate section of `ca_blob` (b"": any CA)."""
        if not ca_blob:
            return self._any_ca
        return self._by_ca.get(fingerprint_sha256(ca_blob), SerialSet())


class Update:
    """The outcome of planning one krl module call (nothing written yet)."""

    def __init__(self, krl, changed, added, removed, old_version, pruned=0):
        self.krl = krl
        self.changed = changed
        self.added = added
        self.removed = removed
        self.old_version = old_version
        self.pruned = pruned


def plan_update(current, request, state="present", comment=None, version=None, now=None, expired=None):
    """Apply `request` to `current` (a Krl, or None for no file) and decide the new version.

    With `expired` (an ExpiredSerials), the serials it names are pruned from the KRL and not
    added by the request either (revoking a certificate that can no longer log in changes
    nothing, and a rerun stays unchanged).
    The file changes when it is new, when the revoked set or the comment
    changes, or when an explicit `version` differs; the version then increases
    by one unless given. A version on disk above the one we would write is an
    error (anti-rollback), as is an unchanged version for a changed set.
    """
    krl = current if current is not None else Krl()
    old_version = current.version if current is not None else None
    pruned = 0
    if expired is not None:
        request.drop_serials(expired.of)
        pruned = krl.drop_serials(expired.of)
    if state == "present":
        added, removed = krl.revoke(request), []
    else:
        added, removed = [], krl.unrevoke(request)
    content_changed = current is None or bool(added or removed or pruned)
    if comment is not None and comment != krl.comment:
        krl.comment = comment
        content_changed = True
    base = old_version or 0
    if version is None:
        new_version = base + 1 if content_changed else base
        if new_version > UINT64_MAX:
            raise FleetcaError("krl_version %d on disk cannot be increased" % base)
    else:
        new_version = version
        if old_version is not None and version < old_version:
            raise FleetcaError("krl_version: the KRL on disk has version %d, higher than %d: "
                               "refusing to roll it back" % (old_version, version))
        if content_changed and old_version is not None and version == old_version:
            raise FleetcaError("krl_version: the revoked set changes but version %d is already "
                               "on disk; a changed KRL needs a higher version" % version)
    changed = content_changed or new_version != base
    if changed:
        krl.version = new_version
        krl.generated = int(time.time()) if now is None else now
    return Update(krl, changed, added, removed, old_version, pruned)


def plan_file(path, request, state, comment, version, expired=None):
    """(Update, SHA-256 hex of the file after it, the bytes to write or None) for the KRL at `path`."""
    loaded = load_krl_file("path", path)
    current, digest, dummy = loaded if loaded else (None, None, None)
    update = plan_update(current, request, state, comment, version, expired=expired)
    data = update.krl.to_bytes() if update.changed else None
    return update, digest if data is None else hashlib.sha256(data).hexdigest(), data


def result_of(update, digest, changed):
    return dict(changed=changed, krl_version=update.krl.version, sha256=digest, previous_version=update.old_version,
                added=listed(update.added), removed=listed(update.removed), pruned=update.pruned,
                entries=update.krl.entry_count())


def payload_main(params):
    """The module's result where a call that names no entries (path, state, comment,
    krl_version) changes nothing, else {} (the module runs: it writes, or names the error)."""
    try:
        check_writable_path("path", params["path"])
        update, digest, dummy = plan_file(params["path"], Revocations(), params["state"], params["comment"],
                                          params["krl_version"])
    except FleetcaError:
        return {}
    return {} if update.changed else result_of(update, digest, False)
