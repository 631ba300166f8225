# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenSSH key revocation lists (PROTOCOL.krl): the format and its model (OpenSSH's krl.c).

Serial sets, sections, encode, parse, check (as `ssh-keygen -Q` and sshd judge a key),
edit and describe. What a module call asks for is parsed in krl_request.py.
Standard library only: the same code verifies a KRL on any managed host.
Serials are kept as sorted disjoint ranges, so a million revoked serials cost
two lists of ints, and the writer picks list/range/bitmap subsections with
ssh-keygen's own cost model, so our file is never larger than its file for
the same revocations.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import bisect
import hashlib
import heapq
import itertools
import operator
import os
import re
import struct

from ansible_collections.fleetca.ssh.plugins.module_utils.files import read_if_exists
from ansible_collections.fleetca.ssh.plugins.module_utils.keys import (
    PublicKey,
    fingerprint_sha256,
    parse_public_key_blob,
)
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import (
    UINT64_MAX,
    FleetcaError,
    WireError,
    WireReader,
    encode_byte,
    encode_mpint,
    encode_string,
    encode_uint32,
    encode_uint64,
)

KRL_MAGIC = b"SSHKRL\n\0"
KRL_FORMAT_VERSION = 1

SECTION_CERTIFICATES = 1
SECTION_EXPLICIT_KEY = 2
SECTION_FINGERPRINT_SHA1 = 3
SECTION_SIGNATURE = 4
SECTION_FINGERPRINT_SHA256 = 5
SECTION_EXTENSION = 255

CERT_SERIAL_LIST = 0x20
CERT_SERIAL_RANGE = 0x21
CERT_SERIAL_BITMAP = 0x22
CERT_KEY_ID = 0x23
CERT_EXTENSION = 0x39

# OpenSSH reads a bitmap as an mpint and refuses mpints over 2048 bytes
# (SSHBUF_MAX_BIGNUM): sshd could not load a KRL with a longer bitmap, and then
# refuses every public key login. ssh-keygen -k writes such bitmaps anyway.
MAX_BITMAP_BITS = 16384
MAX_BITMAP_MPINT_BYTES = MAX_BITMAP_BITS // 8

SHA1_LEN = 20
SHA256_LEN = 32

# ssh-keygen's cost, in bits, of opening a subsection (type byte + a uint64).
_SECTION_SWITCH_BITS = 8 + 64


def _text(raw):
    """KRL strings are C strings of any bytes: keep them exactly (round trip)."""
    return raw.decode("utf-8", "surrogateescape")


def _raw(text):
    return text.encode("utf-8", "surrogateescape")


def printable(text):
    """A KRL string safe to show or return as JSON (undecodable bytes replaced)."""
    return _raw(text).decode("utf-8", "replace")


def sha1_fingerprint_text(digest):
    return "SHA1:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def sha256_fingerprint_text(digest):
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def ca_label(ca_blob):
    """How entries name their certificate section: `CA SHA256:...` or `any CA`."""
    return "CA %s" % fingerprint_sha256(ca_blob) if ca_blob else "any CA"


def range_text(lo, hi):
    return "%d" % lo if lo == hi else "%d-%d" % (lo, hi)


# --- serial sets ----------------------------------------------------------

def _coalesce(pairs):
    """Sorted (lo, hi) pairs -> (lows, highs) with overlapping/abutting ranges merged."""
    lows, highs = [], []
    cur_lo = cur_hi = None
    for lo, hi in pairs:
        if cur_hi is not None and lo <= cur_hi + 1:
            if hi > cur_hi:
                cur_hi = hi
            continue
        if cur_hi is not None:
            lows.append(cur_lo)
            highs.append(cur_hi)
        cur_lo, cur_hi = lo, hi
    if cur_hi is not None:
        lows.append(cur_lo)
        highs.append(cur_hi)
    return lows, highs


def _canonical(lows, highs):
    """Canonical (lows, highs) from parallel lists of inclusive ranges in any order."""
    if not lows:
        return [], []
    if not all(map(operator.gt, lows[1:], highs[:-1])):  # out of order or overlapping
        return _coalesce(sorted(zip(lows, highs)))
    # the usual case (a KRL as written): in order and disjoint, only abutting
    # ranges to merge; found with C-level iterators, as there may be millions
    gaps = map(operator.sub, lows[1:], highs[:-1])
    starts = list(itertools.compress(range(1, len(lows)), map((1).__lt__, gaps)))
    new_lows = [lows[0]]
    new_lows.extend(map(lows.__getitem__, starts))
    new_highs = list(map(highs.__getitem__, [i - 1 for i in starts]))
    new_highs.append(highs[-1])
    return new_lows, new_highs


class SerialSet:
    """Certificate serials as sorted, disjoint, non-adjacent inclusive ranges."""

    __slots__ = ("lows", "highs")

    def __init__(self, lows=None, highs=None):
        # callers pass lists that are already canonical (see from_ranges)
        self.lows = lows if lows is not None else []
        self.highs = highs if highs is not None else []

    @classmethod
    def from_ranges(cls, pairs):
        """Any (lo, hi) pairs, in any order, overlapping or not."""
        return cls(*_coalesce(sorted(pairs)))

    @classmethod
    def from_lists(cls, lows, highs):
        """Parallel lists of range bounds, in any order, overlapping or not."""
        return cls(*_canonical(lows, highs))

    @classmethod
    def from_serials(cls, serials):
        """Single serials (any iterable of ints), e.g. a million of them."""
        ordered = sorted(set(serials))
        return cls(*_canonical(ordered, ordered))

    def ranges(self):
        return zip(self.lows, self.highs)

    def range_count(self):
        return len(self.lows)

    def count(self):
        """Number of serials (not ranges)."""
        return sum(self.highs) - sum(self.lows) + len(self.lows)

    def __bool__(self):
        return bool(self.lows)

    def __eq__(self, other):
        return isinstance(other, SerialSet) and self.lows == other.lows and self.highs == other.highs

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return "SerialSet(%s)" % ", ".join(range_text(lo, hi) for lo, hi in self.ranges())

    def find(self, serial):
        """The (lo, hi) range holding `serial`, or None."""
        index = bisect.bisect_right(self.lows, serial) - 1
        if index >= 0 and serial <= self.highs[index]:
            return self.lows[index], self.highs[index]
        return None

    def union(self, other):
        return SerialSet(*_coalesce(heapq.merge(self.ranges(), other.ranges())))

    def intersection(self, other):
        lows, highs = [], []
        a, b = list(self.ranges()), list(other.ranges())
        i = j = 0
        while i < len(a) and j < len(b):
            lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
            if lo <= hi:
                lows.append(lo)
                highs.append(hi)
            if a[i][1] < b[j][1]:
                i += 1
            else:
                j += 1
        return SerialSet(lows, highs)

    def difference(self, other):
        """Serials of self that are not in other, splitting ranges where needed."""
        lows, highs = [], []
        cut = list(other.ranges())
        j = 0
        for lo, hi in self.ranges():
            while j < len(cut) and cut[j][1] < lo:
                j += 1
            k = j
            while lo <= hi and k < len(cut) and cut[k][0] <= hi:
                if cut[k][0] > lo:
                    lows.append(lo)
                    highs.append(cut[k][0] - 1)
                lo = cut[k][1] + 1
                k += 1
            if lo <= hi:
                lows.append(lo)
                highs.append(hi)
        return SerialSet(lows, highs)


# --- the KRL model --------------------------------------------------------

class Extension:
    """A non-critical extension (section 255 or subsection 0x39), kept as read."""

    def __init__(self, name, critical, contents):
        self.name = name
        self.critical = critical
        self.contents = contents

    def encode(self):
        return encode_string(self.name) + encode_byte(self.critical) + encode_string(self.contents)


class CertSection:
    """Revoked certificates of one CA (`ca_blob`), or of any CA (`ca_blob == b""`)."""

    def __init__(self, ca_blob=b""):
        self.ca_blob = ca_blob
        self.serials = SerialSet()
        self.key_ids = set()
        self.extensions = []

    @property
    def label(self):
        return ca_label(self.ca_blob)

    def is_empty(self):
        return not self.serials and not self.key_ids and not self.extensions

    def revocation_of(self, cert):
        """Why `cert` is revoked by this section (key id first, as sshd checks), or None."""
        if cert.key_id in self.key_ids:
            return 'key id "%s" of %s' % (printable(cert.key_id), self.label)
        if cert.serial == 0:  # sshd never matches serial 0 by serial
            return None
        found = self.serials.find(cert.serial)
        if found is None:
            return None
        if found[0] == found[1]:
            return "serial %d of %s" % (cert.serial, self.label)
        return "serial %d (range %d-%d) of %s" % (cert.serial, found[0], found[1], self.label)


class Krl:
    """A key revocation list: header fields and revoked entries by section."""

    def __init__(self, version=0, generated=0, comment="", flags=0):
        self.version = version
        self.generated = generated
        self.comment = comment
        self.flags = flags
        self.cert_sections = {}  # CA blob (b"" = any CA) -> CertSection, in file order
        self.keys = set()        # plain public key blobs (section 2)
        self.sha1s = set()       # section 3
        self.sha256s = set()     # section 5
        self.extensions = []     # non-critical sections 255, kept as read

    def cert_section(self, ca_blob, create=False):
        section = self.cert_sections.get(ca_blob)
        if section is None and create:
            section = self.cert_sections[ca_blob] = CertSection(ca_blob)
        return section

    # -- query --

    def key_revocation(self, key):
        """Why the plain key `key` is revoked (hash or explicit key), or None."""
        digest = key.sha1
        if digest in self.sha1s:
            return "sha1 fingerprint %s" % sha1_fingerprint_text(digest)
        if key.sha256 in self.sha256s:
            return "sha256 fingerprint %s" % key.fingerprint
        if key.blob in self.keys:
            return "key %s" % key.fingerprint
        return None

    def check(self, key):
        """None when `key` (PublicKey or Certificate) passes, else the entry that revokes it.

        Same judgement as `ssh-keygen -Q` and sshd: a plain key by its hashes
        or blob; a certificate also by the key it certifies, by serial or key
        id under its CA or any CA, and by its CA key being revoked.
        """
        if isinstance(key, PublicKey):
            return self.key_revocation(key)
        reason = self.key_revocation(key.public_key)
        if reason:
            return reason
        for ca_blob in (key.signature_key.blob, b""):
            section = self.cert_sections.get(ca_blob)
            reason = section.revocation_of(key) if section else None
            if reason:
                return reason
        reason = self.key_revocation(key.signature_key)
        if reason:
            return "CA key %s itself is revoked (%s)" % (key.signature_key.fingerprint, reason)
        return None

    # -- edits: each returns descriptions of the entries it really changed --

    def revoke(self, request):
        added = []
        for ca_blob, wanted in request.serials.items():
            section = self.cert_section(ca_blob, create=True)
            new = wanted.difference(section.serials)
            section.serials = section.serials.union(new)
            added.extend(_describe_serials(new, ca_blob))
        for ca_blob, wanted in request.key_ids.items():
            section = self.cert_section(ca_blob, create=True)
            for key_id in sorted(wanted - section.key_ids, key=_raw):
                section.key_ids.add(key_id)
                added.append('key id "%s" of %s' % (printable(key_id), ca_label(ca_blob)))
        for key in _sorted_keys(request.keys.values()):
            if self.key_revocation(key) is None:
                self.sha256s.add(key.sha256)
                added.append("sha256 fingerprint %s (%s key)" % (key.fingerprint, key.key_type))
        for key in _sorted_keys(request.explicit_keys.values()):
            if key.blob not in self.keys:
                self.keys.add(key.blob)
                added.append("key %s (%s key)" % (key.fingerprint, key.key_type))
        for digest in sorted(request.sha1s - self.sha1s):
            self.sha1s.add(digest)
            added.append("sha1 fingerprint %s" % sha1_fingerprint_text(digest))
        for digest in sorted(request.sha256s - self.sha256s):
            self.sha256s.add(digest)
            added.append("sha256 fingerprint %s" % sha256_fingerprint_text(digest))
        self._drop_empty_sections()
        return added

    def unrevoke(self, request):
        removed = []
        for ca_blob, wanted in request.serials.items():
            section = self.cert_section(ca_blob)
            if section is not None:
                gone = wanted.intersection(section.serials)
                section.serials = section.serials.difference(gone)
                removed.extend(_describe_serials(gone, ca_blob))
        for ca_blob, wanted in request.key_ids.items():
            section = self.cert_section(ca_blob)
            if section is not None:
                for key_id in sorted(wanted & section.key_ids, key=_raw):
                    section.key_ids.discard(key_id)
                    removed.append('key id "%s" of %s' % (printable(key_id), ca_label(ca_blob)))
        for key in _sorted_keys(request.keys.values()):
            removed.extend(self._unrevoke_key(key))
        for key in _sorted_keys(request.explicit_keys.values()):
            if key.blob in self.keys:
                self.keys.discard(key.blob)
                removed.append("key %s (%s key)" % (key.fingerprint, key.key_type))
        for digest in sorted(request.sha1s & self.sha1s):
            self.sha1s.discard(digest)
            removed.append("sha1 fingerprint %s" % sha1_fingerprint_text(digest))
        for digest in sorted(request.sha256s & self.sha256s):
            self.sha256s.discard(digest)
            removed.append("sha256 fingerprint %s" % sha256_fingerprint_text(digest))
        self._drop_empty_sections()
        return removed

    def drop_serials(self, serials_of):
        """Remove, from each certificate section, the serials `serials_of(ca_blob)` returns
        (a SerialSet; b"" is the any-CA section), splitting ranges: the number removed."""
        dropped = 0
        for section in self.cert_sections.values():
            gone = section.serials.intersection(serials_of(section.ca_blob))
            if gone:
                section.serials = section.serials.difference(gone)
                dropped += gone.count()
        self._drop_empty_sections()
        return dropped

    def _unrevoke_key(self, key):
        """Every entry that revokes the plain key `key`: its blob and both hashes."""
        removed = []
        if key.blob in self.keys:
            self.keys.discard(key.blob)
            removed.append("key %s (%s key)" % (key.fingerprint, key.key_type))
        if key.sha1 in self.sha1s:
            self.sha1s.discard(key.sha1)
            removed.append("sha1 fingerprint %s" % sha1_fingerprint_text(key.sha1))
        if key.sha256 in self.sha256s:
            self.sha256s.discard(key.sha256)
            removed.append("sha256 fingerprint %s (%s key)" % (key.fingerprint, key.key_type))
        return removed

    def _drop_empty_sections(self):
        for ca_blob in [b for b, s in self.cert_sections.items() if s.is_empty()]:
            del self.cert_sections[ca_blob]

    def entry_count(self):
        """Revoked entries: serials, key ids, keys and hashes (not ranges)."""
        certs = sum(s.serials.count() + len(s.key_ids) for s in self.cert_sections.values())
        return certs + len(self.keys) + len(self.sha1s) + len(self.sha256s)

    # -- wire format --

    def to_bytes(self):
        """The KRL file. Never a signature section (OpenSSH 9.4+ refuses those)."""
        out = [KRL_MAGIC, encode_uint32(KRL_FORMAT_VERSION), encode_uint64(self.version),
               encode_uint64(self.generated), encode_uint64(self.flags),
               encode_string(b""), encode_string(_raw(self.comment))]
        for section in self.cert_sections.values():
            if not section.is_empty():
                out.append(_section(SECTION_CERTIFICATES, _encode_cert_section(section)))
        for kind, blobs in ((SECTION_EXPLICIT_KEY, self.keys), (SECTION_FINGERPRINT_SHA1, self.sha1s),
                            (SECTION_FINGERPRINT_SHA256, self.sha256s)):
            if blobs:
                out.append(_section(kind, b"".join(encode_string(b) for b in sorted(blobs))))
        for extension in self.extensions:
            out.append(_section(SECTION_EXTENSION, extension.encode()))
        return b"".join(out)


def _sorted_keys(keys):
    return sorted(keys, key=lambda k: k.blob)


def _describe_serials(serials, ca_blob):
    label = ca_label(ca_blob)
    return ["serial%s %s of %s" % ("" if lo == hi else "s", range_text(lo, hi), label)
            for lo, hi in serials.ranges()]


# --- writer ---------------------------------------------------------------

def _section(kind, data):
    return encode_byte(kind) + encode_string(data)


def _encode_cert_section(section):
    parts = [encode_string(section.ca_blob), encode_string(b""),
             encode_serials(section.serials.lows, section.serials.highs)]
    if section.key_ids:
        ids = sorted(_raw(k) for k in section.key_ids)
        parts.append(_section(CERT_KEY_ID, b"".join(encode_string(k) for k in ids)))
    for extension in section.extensions:
        parts.append(_section(CERT_EXTENSION, extension.encode()))
    return b"".join(parts)


def _serial_subsection(state, body):
    """One serial subsection; `body` is a flat list of ints: the listed serials,
    or (lo, hi) of the range, or (lo, hi) pairs of the runs in the bitmap."""
    if state != CERT_SERIAL_BITMAP:
        return _section(state, struct.pack(">%dQ" % len(body), *body))
    start = body[0]
    chars = bytearray(b"0") * (body[-1] - start + 1)  # one per serial, lowest first
    for index in range(0, len(body), 2):
        lo, hi = body[index], body[index + 1]
        chars[lo - start:hi - start + 1] = b"1" * (hi - lo + 1)
    chars.reverse()
    return _section(state, encode_uint64(start) + encode_mpint(int(bytes(chars), 2)))


def encode_serials(lows, highs):
    """Serial subsections for canonical ranges, chosen per run of serials.

    This is ssh-keygen's greedy bit cost model (krl.c choose_next_state),
    inlined for speed, so that our output has the size of ssh-keygen's
    wherever ssh-keygen's is loadable; unlike ssh-keygen, a bitmap is
    restarted before it grows past what OpenSSH reads back (MAX_BITMAP_BITS).
    Costs are in bits: 8 + 64 to open a subsection, 64 per listed serial,
    128 per range, one per bitmap position.
    """
    list_, range_, bitmap = CERT_SERIAL_LIST, CERT_SERIAL_RANGE, CERT_SERIAL_BITMAP
    switch = _SECTION_SWITCH_BITS
    out, body = [], []
    state = last = bitmap_start = 0
    nexts = lows[1:] + [None]
    for lo, hi, following in zip(lows, highs, nexts):
        contig = hi - lo + 1
        if following is None:
            tail = bitmap_tail = 0
        else:
            tail = switch
            bitmap_tail = min(following - hi, switch)
        # what each choice costs (whole bytes) given the open subsection `state`
        cost_list = (64 * contig + tail + (0 if state == list_ else 8) + 7) >> 3
        cost_range = (136 + tail + 7) >> 3
        cost_restart = (switch + contig + bitmap_tail + 7) >> 3
        if state == bitmap:
            cost_bitmap = (lo - last + contig + bitmap_tail + 7) >> 3
        elif state:
            cost_bitmap = (switch + lo - last + contig + bitmap_tail + 7) >> 3
        else:
            cost_bitmap = cost_restart
        choice, cost, restart = bitmap, cost_bitmap, False
        if cost_range < cost:
            choice, cost = range_, cost_range
        if cost_list < cost:
            choice, cost = list_, cost_list
        if cost_restart < cost:
            choice, restart = bitmap, True
        if choice == state == bitmap and hi - bitmap_start >= MAX_BITMAP_BITS:
            restart = True
        if state and (restart or choice != state or state == range_):
            out.append(_serial_subsection(state, body))
            state = 0
        if not state:
            state, body, bitmap_start = choice, [], lo
        if choice == list_ and contig > 1:
            body.extend(range(lo, hi + 1))
        elif choice == list_:
            body.append(lo)
        else:
            body += (lo, hi)
        last = hi
    if state:
        out.append(_serial_subsection(state, body))
    return b"".join(out)


# --- reader ---------------------------------------------------------------

class _Parser:
    """Reads a whole KRL or raises WireError naming the section and the offset."""

    def __init__(self, data):
        self.data = bytes(data)

    def parse(self):
        data = self.data
        if len(data) < len(KRL_MAGIC) or data[:len(KRL_MAGIC)] != KRL_MAGIC:
            raise WireError("not a KRL (bad magic)", 0)
        reader = WireReader(data[len(KRL_MAGIC):], base_offset=len(KRL_MAGIC))
        start = reader.offset
        fmt = reader.read_uint32("KRL header: format version")
        if fmt != KRL_FORMAT_VERSION:
            raise WireError("KRL header: unsupported format version %d" % fmt, start)
        krl = Krl(version=reader.read_uint64("KRL header: krl version"),
                  generated=reader.read_uint64("KRL header: generated date"),
                  flags=reader.read_uint64("KRL header: flags"))
        reader.read_string("KRL header: reserved")
        krl.comment = self.read_cstring(reader, "KRL header: comment")
        pending = {}  # CA blob -> (lows, highs) of serial ranges, merged once at the end
        while not reader.at_end():
            start = reader.offset
            kind = reader.read_byte("section type")
            name = _SECTION_NAMES.get(kind, "section type %d" % kind)
            body = reader.sub_reader(name)
            self.read_section(krl, kind, name, body, start, pending)
        for ca_blob, (lows, highs) in pending.items():
            krl.cert_section(ca_blob, create=True).serials = SerialSet.from_lists(lows, highs)
        krl._drop_empty_sections()
        return krl

    def read_section(self, krl, kind, name, body, start, pending):
        if kind == SECTION_CERTIFICATES:
            self.read_cert_section(krl, body, pending)
        elif kind == SECTION_EXPLICIT_KEY:
            krl.keys.update(self.read_blobs(body, name, None))
        elif kind == SECTION_FINGERPRINT_SHA1:
            krl.sha1s.update(self.read_blobs(body, name, SHA1_LEN))
        elif kind == SECTION_FINGERPRINT_SHA256:
            krl.sha256s.update(self.read_blobs(body, name, SHA256_LEN))
        elif kind == SECTION_EXTENSION:
            krl.extensions.append(self.read_extension(body, name))
        elif kind == SECTION_SIGNATURE:
            raise WireError("signature section: signed KRLs are not supported "
                            "(OpenSSH 9.4 and later refuse them too)", start)
        else:
            raise WireError("unknown section type %d" % kind, start)

    @staticmethod
    def read_cstring(reader, what):
        start = reader.offset
        raw = reader.read_string(what)
        if b"\0" in raw:
            raise WireError("%s contains a NUL byte" % what, start)
        return _text(raw)

    @staticmethod
    def read_blobs(body, name, length):
        blobs = []
        while not body.at_end():
            start = body.offset
            blob = body.read_string(name + " entry")
            if length is not None and len(blob) != length:
                raise WireError("%s: entry of %d bytes, expected %d" % (name, len(blob), length), start)
            blobs.append(blob)
        return blobs

    def read_extension(self, body, name):
        ext_name = body.read_string(name + ": extension name")
        start = body.offset
        critical = body.read_byte(name + ": is_critical")
        contents = body.read_string(name + ": extension contents")
        body.expect_end(name)
        if critical:
            raise WireError("%s: unsupported critical extension %r" % (name, printable(_text(ext_name))),
                            start)
        return Extension(ext_name, critical, contents)

    def read_cert_section(self, krl, body, pending):
        start = body.offset
        ca_blob = body.read_string("certificate section: CA key")
        if ca_blob:
            self.check_ca_key(ca_blob, start)
        body.read_string("certificate section: reserved")
        where = "certificate section (%s)" % ca_label(ca_blob)
        section = krl.cert_section(ca_blob, create=True)
        lows, highs = pending.setdefault(ca_blob, ([], []))
        base = body.offset
        for kind, offset, payload in _subsections(body.read_raw(body.remaining()), base, where):
            name = "%s %s" % (where, _SUBSECTION_NAMES[kind])
            if kind == CERT_SERIAL_LIST:
                serials = _serial_list(payload, offset, name)
                lows.extend(serials)
                highs.extend(serials)
            elif kind == CERT_SERIAL_RANGE:
                lo, hi = _serial_range(payload, offset, name)
                lows.append(lo)
                highs.append(hi)
            elif kind == CERT_SERIAL_BITMAP:
                _serial_bitmap(payload, offset, name, lows, highs)
            elif kind == CERT_KEY_ID:
                sub = WireReader(payload, offset)
                while not sub.at_end():
                    section.key_ids.add(self.read_cstring(sub, name + " entry"))
            else:
                section.extensions.append(self.read_extension(WireReader(payload, offset), name))

    @staticmethod
    def check_ca_key(ca_blob, start):
        """sshd refuses a section whose CA key it cannot decode; so do we (DSA aside)."""
        try:
            parse_public_key_blob(ca_blob)
        except WireError as exc:
            if _blob_key_type(ca_blob) != "ssh-dss":
                raise WireError("certificate section: CA key is not a usable public key (%s)" % exc,
                                start)


# Serial subsections are parsed with struct directly rather than WireReader:
# a KRL may hold hundreds of thousands of them, and the per-call cost shows.

def _subsections(data, base, where):
    """(type, absolute offset of the payload, payload) for each subsection in `data`."""
    pos, end = 0, len(data)
    while pos < end:
        if end - pos < 5:
            raise WireError("%s: truncated subsection header" % where, base + pos)
        kind = data[pos]
        if kind not in _SUBSECTION_NAMES:
            raise WireError("%s: unknown subsection type 0x%02x" % (where, kind), base + pos)
        length = _UINT32.unpack_from(data, pos + 1)[0]
        pos += 5
        if length > end - pos:
            raise WireError("%s: truncated %s (length %d)" % (where, _SUBSECTION_NAMES[kind], length),
                            base + pos - 4)
        yield kind, base + pos, data[pos:pos + length]
        pos += length


def _serial_list(payload, offset, name):
    if len(payload) % 8:
        raise WireError("%s: %d trailing bytes (not a whole uint64)" % (name, len(payload) % 8),
                        offset + len(payload) - len(payload) % 8)
    serials = struct.unpack(">%dQ" % (len(payload) // 8), payload)
    if 0 in serials:
        raise WireError("%s: serial 0 (OpenSSH refuses it)" % name, offset + 8 * serials.index(0))
    return serials


def _serial_range(payload, offset, name):
    if len(payload) != 16:
        raise WireError("%s: %d bytes, expected 16 (serial_min, serial_max)" % (name, len(payload)),
                        offset)
    lo, hi = _TWO_UINT64.unpack(payload)
    if lo == 0 or lo > hi:
        raise WireError("%s: invalid range %d-%d (OpenSSH refuses it)" % (name, lo, hi), offset)
    return lo, hi


def _serial_bitmap(payload, offset, name, lows, highs):
    """Appends the bitmap's runs of set bits to lows/highs."""
    if len(payload) < 12:
        raise WireError("%s: truncated serial_offset or bitmap length" % name, offset)
    first, length = _BITMAP_HEAD.unpack_from(payload)
    if length != len(payload) - 12:
        problem = "truncated bitmap" if length > len(payload) - 12 else "trailing bytes after bitmap"
        raise WireError("%s: %s (length %d)" % (name, problem, length), offset + 8)
    raw = payload[12:]
    if raw and raw[0] & 0x80:
        raise WireError("%s: negative bitmap" % name, offset + 8)
    if len(raw) > MAX_BITMAP_MPINT_BYTES + 1 or (len(raw) == MAX_BITMAP_MPINT_BYTES + 1 and raw[0]):
        raise WireError("%s: bitmap of %d bytes is larger than OpenSSH reads (%d); sshd cannot "
                        "load this KRL" % (name, len(raw), MAX_BITMAP_MPINT_BYTES), offset + 8)
    bits = int.from_bytes(raw, "big")
    if bits and first + bits.bit_length() - 1 > UINT64_MAX:
        raise WireError("%s: bitmap wraps past serial 2^64-1" % name, offset)
    if first == 0 and bits & 1:
        raise WireError("%s: serial 0 (OpenSSH refuses it)" % name, offset)
    for match in _RUNS.finditer(bin(bits)[:1:-1]):  # lowest serial first
        lows.append(first + match.start())
        highs.append(first + match.end() - 1)


def _blob_key_type(blob):
    try:
        return WireReader(blob).read_text("key type")
    except WireError:
        return None


_RUNS = re.compile("1+")
_UINT32 = struct.Struct(">I")
_TWO_UINT64 = struct.Struct(">QQ")
_BITMAP_HEAD = struct.Struct(">QI")
_SECTION_NAMES = {
    SECTION_CERTIFICATES: "certificate section",
    SECTION_EXPLICIT_KEY: "explicit key section",
    SECTION_FINGERPRINT_SHA1: "sha1 fingerprint section",
    SECTION_SIGNATURE: "signature section",
    SECTION_FINGERPRINT_SHA256: "sha256 fingerprint section",
    SECTION_EXTENSION: "extension section",
}
_SUBSECTION_NAMES = {
    CERT_SERIAL_LIST: "serial list",
    CERT_SERIAL_RANGE: "serial range",
    CERT_SERIAL_BITMAP: "serial bitmap",
    CERT_KEY_ID: "key id list",
    CERT_EXTENSION: "extension",
}


def parse_krl(data):
    """A Krl from the bytes of a KRL file; WireError (offset, section) on any defect."""
    return _Parser(data).parse()


# --- files ----------------------------------------------------------------

def load_krl_file(field, path):
    """(Krl, SHA-256 hex digest of the file, the file's bytes) at `path` (the option `field`),
    or None when there is no file.

    The digest names the exact bytes, so that a copy can be proved identical to the master."""
    if os.path.isdir(path):
        raise FleetcaError("%s: %s is a directory, not a KRL file" % (field, path))
    data = read_if_exists(path)
    if data is None:
        return None
    try:
        return parse_krl(data), hashlib.sha256(data).hexdigest(), data
    except WireError as exc:
        raise FleetcaError("%s: %s is not a valid KRL: %s" % (field, path, exc))


# --- description (krl_info, diff) -----------------------------------------

def describe_key_blob(blob):
    """A readable name for an explicit key entry: its key line, or its hash if unparsable."""
    try:
        return parse_public_key_blob(blob).to_line()
    except WireError:
        return "unparsable key %s" % fingerprint_sha256(blob)


def describe_krl(krl):
    """The KRL's header and entries by section, as krl_info returns them."""
    certificates = []
    for section in krl.cert_sections.values():
        entry = {
            "ca": _ca_line(section.ca_blob),
            "ca_fingerprint": fingerprint_sha256(section.ca_blob) if section.ca_blob else None,
            "serial_count": section.serials.count(),
            "range_count": section.serials.range_count(),
            "key_ids": sorted(printable(k) for k in section.key_ids),
            "extensions": [printable(_text(e.name)) for e in section.extensions],
            "serials": [range_text(lo, hi) for lo, hi in section.serials.ranges()],
        }
        certificates.append(entry)
    return {
        "krl_version": krl.version,
        "generated_epoch": krl.generated,
        "comment": printable(krl.comment),
        "certificates": certificates,
        "keys": sorted(describe_key_blob(b) for b in krl.keys),
        "sha1_fingerprints": sorted(sha1_fingerprint_text(d) for d in krl.sha1s),
        "sha256_fingerprints": sorted(sha256_fingerprint_text(d) for d in krl.sha256s),
        "extensions": [printable(_text(e.name)) for e in krl.extensions],
    }


def _ca_line(ca_blob):
    if not ca_blob:
        return "any"
    return describe_key_blob(ca_blob)
