# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SSH wire encoding (RFC 4251 section 5), shared by keys, certificates and KRLs.

Every binary SSH format in this collection is read through `WireReader` and
written with the `encode_*` helpers, so a format is never parsed in two places.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import struct

UINT64_MAX = 2 ** 64 - 1
_UINT32 = struct.Struct(">I")
EMPTY_STRING = b"\0\0\0\0"


class FleetcaError(ValueError):
    """Base error of the collection: bad input, with a message safe to show."""


class WireError(FleetcaError):
    """A malformed SSH wire blob; `offset` is where reading failed."""

    def __init__(self, message, offset=None):
        if offset is not None:
            message = "%s (at byte offset %d)" % (message, offset)
        super(WireError, self).__init__(message)
        self.offset = offset


def encode_uint32(value):
    return struct.pack(">I", value)


def encode_uint64(value):
    return struct.pack(">Q", value)


def encode_byte(value):
    return struct.pack(">B", value)


def encode_string(value):
    if not isinstance(value, bytes):
        value = value.encode("utf-8")
    return _UINT32.pack(len(value)) + value


def encode_mpint(value):
    """Non-negative integer, big-endian, minimal length; zero is the empty string."""
    if value < 0:
        raise ValueError("negative mpint")
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    if raw and raw[0] & 0x80:
        raw = b"\x00" + raw  # keep the sign bit clear
    return encode_string(raw)


def encode_string_list(values):
    """A string whose data is the concatenation of encoded strings (principals)."""
    return encode_string(b"".join(encode_string(v) for v in values))


def encode_options(options):
    """Critical options / extensions: byte-sorted unique names, nested data.

    `options` maps name -> value; an empty value is encoded as an empty
    string field, any other value as a nested string (PROTOCOL.certkeys).
    """
    if not options:  # host certificates, every time
        return EMPTY_STRING
    out = []
    for name in sorted(options, key=lambda n: n.encode("utf-8")):
        value = options[name]
        data = encode_string(value) if value else b""
        out.append(encode_string(name) + encode_string(data))
    return encode_string(b"".join(out))


class WireReader:
    """Sequential reader over a bytes blob that fails cleanly on truncation."""

    def __init__(self, data, base_offset=0):
        self._data = bytes(data)
        self._pos = 0
        self._base = base_offset

    @property
    def offset(self):
        """Absolute offset of the next byte (including `base_offset`)."""
        return self._base + self._pos

    def remaining(self):
        return len(self._data) - self._pos

    def at_end(self):
        return self._pos >= len(self._data)

    def _take(self, count, what):
        if count > len(self._data) - self._pos:
            raise WireError("truncated %s" % what, self.offset)
        chunk = self._data[self._pos:self._pos + count]
        self._pos += count
        return chunk

    def read_byte(self, what="byte"):
        return self._take(1, what)[0]

    def read_uint32(self, what="uint32"):
        return struct.unpack(">I", self._take(4, what))[0]

    def read_uint64(self, what="uint64"):
        return struct.unpack(">Q", self._take(8, what))[0]

    def read_raw(self, count, what="bytes"):
        return self._take(count, what)

    def read_string(self, what="string"):
        # inlined: a batch of keys reads tens of thousands of strings
        data, start = self._data, self._pos
        if len(data) - start < 4:
            raise WireError("truncated %s" % what, self._base + start)
        length = _UINT32.unpack_from(data, start)[0]
        end = start + 4 + length
        if end > len(data):
            raise WireError("truncated %s (length %d)" % (what, length), self._base + start)
        self._pos = end
        return data[start + 4:end]

    def read_text(self, what="string"):
        start = self.offset
        raw = self.read_string(what)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise WireError("%s is not valid UTF-8" % what, start)

    def read_mpint(self, what="mpint", allow_negative=False):
        start = self.offset
        raw = self.read_string(what)
        if not raw:
            return 0
        value = int.from_bytes(raw, "big", signed=True)
        if value < 0 and not allow_negative:
            raise WireError("negative %s" % what, start)
        return value

    def sub_reader(self, what="string"):
        """Read a string and return a reader over its contents (nested data)."""
        start = self.offset + 4
        return WireReader(self.read_string(what), base_offset=start)

    def read_string_list(self, what="list"):
        sub = self.sub_reader(what)
        items = []
        while not sub.at_end():
            items.append(sub.read_text(what + " entry"))
        return items

    def read_options(self, what="options"):
        """Inverse of `encode_options`: returns a list of (name, value) pairs in order."""
        sub = self.sub_reader(what)
        pairs = []
        while not sub.at_end():
            name = sub.read_text(what + " name")
            data = sub.sub_reader(what + " data")
            value = "" if data.at_end() else data.read_text(what + " value")
            if not data.at_end():
                raise WireError("trailing bytes in %s %r" % (what, name), data.offset)
            pairs.append((name, value))
        return pairs

    def expect_end(self, what="blob"):
        if not self.at_end():
            raise WireError("%d trailing bytes after %s" % (self.remaining(), what), self.offset)
