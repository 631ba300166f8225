# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/wire.py (RFC 4251 section 5 encodings).

Run against the installed collection (`make unit` puts .build/collections on
PYTHONPATH), so the import below must resolve to that tree.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.fleetca.ssh.plugins.module_utils import wire


def h(text):
    """Bytes from hex with spaces allowed: h('00000001 61')."""
    return binascii.unhexlify(text.replace(" ", ""))


# ---------------------------------------------------------------- integers

@pytest.mark.parametrize("value, encoded", [
    (0, "00000000"),
    (1, "00000001"),
    (0x7FFFFFFF, "7fffffff"),
    (0x80000000, "80000000"),
    (0xFFFFFFFF, "ffffffff"),
])
def test_uint32_known_values(value, encoded):
    assert wire.encode_uint32(value) == h(encoded)
    reader = wire.WireReader(h(encoded))
    assert reader.read_uint32() == value
    assert reader.at_end()


@pytest.mark.parametrize("value, encoded", [
    (0, "0000000000000000"),
    (1, "0000000000000001"),
    (0x8000000000000000, "8000000000000000"),
    (wire.UINT64_MAX, "ffffffffffffffff"),
])
def test_uint64_known_values(value, encoded):
    assert wire.encode_uint64(value) == h(encoded)
    reader = wire.WireReader(h(encoded))
    assert reader.read_uint64() == value
    assert reader.at_end()


def test_uint_out_of_range_is_rejected():
    with pytest.raises(struct.error):
        wire.encode_uint32(2 ** 32)
    with pytest.raises(struct.error):
        wire.encode_uint64(2 ** 64)
    with pytest.raises(struct.error):
        wire.encode_uint32(-1)


@given(st.integers(min_value=0, max_value=2 ** 32 - 1))
def test_uint32_round_trip(value):
    data = wire.encode_uint32(value)
    assert len(data) == 4
    assert wire.WireReader(data).read_uint32() == value


@given(st.integers(min_value=0, max_value=wire.UINT64_MAX))
def test_uint64_round_trip(value):
    data = wire.encode_uint64(value)
    assert len(data) == 8
    assert wire.WireReader(data).read_uint64() == value


def test_byte_round_trip():
    assert wire.encode_byte(0) == b"\x00"
    assert wire.encode_byte(255) == b"\xff"
    reader = wire.WireReader(b"\x00\xff")
    assert reader.read_byte() == 0
    assert reader.read_byte() == 255
    assert reader.at_end()


# ---------------------------------------------------------------- strings

@pytest.mark.parametrize("value, encoded", [
    (b"", "00000000"),
    (b"a", "00000001 61"),
    ("ssh-ed25519", "0000000b 7373682d65643235353139"),
    (u"\u00e9", "00000002 c3a9"),  # text is encoded as UTF-8
])
def test_string_known_values(value, encoded):
    assert wire.encode_string(value) == h(encoded)


@given(st.binary(max_size=600))
def test_string_round_trip(value):
    data = wire.encode_string(value)
    assert data[:4] == struct.pack(">I", len(value))
    reader = wire.WireReader(data)
    assert reader.read_string() == value
    assert reader.at_end()


@given(st.text(max_size=100))
def test_text_round_trip(value):
    reader = wire.WireReader(wire.encode_string(value))
    assert reader.read_text() == value
    reader.expect_end()


def test_read_text_rejects_invalid_utf8_with_offset():
    data = b"\x00" + wire.encode_string(b"\xff\xfe")
    reader = wire.WireReader(data)
    reader.read_byte()
    with pytest.raises(wire.WireError) as excinfo:
        reader.read_text("key id")
    assert excinfo.value.offset == 1
    assert "key id" in str(excinfo.value)


@given(st.lists(st.text(max_size=20), max_size=10))
def test_string_list_round_trip(values):
    data = wire.encode_string_list(values)
    reader = wire.WireReader(data)
    assert reader.read_string_list() == values
    assert reader.at_end()


def test_string_list_known_value():
    assert wire.encode_string_list([]) == h("00000000")
    assert wire.encode_string_list(["a", "bc"]) == h("0000000b 00000001 61 00000002 6263")


# ---------------------------------------------------------------- mpint

@pytest.mark.parametrize("value, encoded", [
    # RFC 4251 section 5 examples (the non-negative ones)
    (0, "00000000"),
    (0x9a378f9b2e332a7, "00000008 09a378f9b2e332a7"),
    (0x80, "00000002 0080"),
    # a high bit set in the first byte gets a leading zero byte
    (0x7F, "00000001 7f"),
    (0xFF, "00000002 00ff"),
    (0x8000, "00000003 008000"),
    (0x0100, "00000002 0100"),
])
def test_mpint_known_values(value, encoded):
    assert wire.encode_mpint(value) == h(encoded)
    reader = wire.WireReader(h(encoded))
    assert reader.read_mpint() == value
    assert reader.at_end()


def test_mpint_zero_is_empty_string():
    assert wire.encode_mpint(0) == b"\x00\x00\x00\x00"
    assert wire.WireReader(b"\x00\x00\x00\x00").read_mpint() == 0


def test_mpint_negative_is_rejected():
    with pytest.raises(ValueError):
        wire.encode_mpint(-1)
    # 0xff alone is -1 in two's complement
    with pytest.raises(wire.WireError) as excinfo:
        wire.WireReader(h("00000001 ff")).read_mpint()
    assert excinfo.value.offset == 0
    reader = wire.WireReader(h("00000001 ff"))
    assert reader.read_mpint(allow_negative=True) == -1


@given(st.integers(min_value=0, max_value=2 ** 4096))
def test_mpint_round_trip(value):
    data = wire.encode_mpint(value)
    body = data[4:]
    assert struct.unpack(">I", data[:4])[0] == len(body)
    # minimal: no needless leading zero, and the sign bit is always clear
    if body:
        assert not body[0] & 0x80
        assert body[0] != 0 or (len(body) > 1 and body[1] & 0x80)
    reader = wire.WireReader(data)
    assert reader.read_mpint() == value
    assert reader.at_end()


@given(st.integers(min_value=0, max_value=2 ** 2048))
def test_mpint_high_bit_values(value):
    # force the top bit of a whole number of bytes: 0x80.., 0xff.. patterns
    nbytes = max(1, (value.bit_length() + 7) // 8)
    top = value | (1 << (nbytes * 8 - 1))
    data = wire.encode_mpint(top)
    assert data[4:5] == b"\x00"
    assert len(data) == 4 + 1 + nbytes
    assert wire.WireReader(data).read_mpint() == top


# ---------------------------------------------------------------- options

def test_options_empty_map():
    assert wire.encode_options({}) == h("00000000")


def test_option_with_empty_value_is_an_empty_data_string():
    name = wire.encode_string("permit-pty")
    assert wire.encode_options({"permit-pty": ""}) == wire.encode_string(name + h("00000000"))


def test_option_with_value_a_is_nested_string():
    data = wire.encode_options({"force-command": "a"})
    inner = wire.encode_string("force-command") + h("00000005 00000001 61")
    assert data == wire.encode_string(inner)


def test_options_are_sorted_by_bytes():
    options = {
        "permit-pty": "",
        "permit-X11-forwarding": "",
        "force-command": "/bin/true",
        "Zed": "",
        "permit-agent-forwarding": "",
        "permit-port-forwarding": "",
        "permit-user-rc": "",
    }
    names = [pair[0] for pair in wire.WireReader(wire.encode_options(options)).read_options()]
    # byte order: upper case before lower case, "X" (0x58) before "a"
    assert names == sorted(names, key=lambda n: n.encode("utf-8"))
    assert names == [
        "Zed",
        "force-command",
        "permit-X11-forwarding",
        "permit-agent-forwarding",
        "permit-port-forwarding",
        "permit-pty",
        "permit-user-rc",
    ]


def test_options_non_ascii_names_sort_after_ascii():
    # sorted on the UTF-8 bytes of the names: 0xc3 (first byte of e-acute) > "b"
    options = {u"b": "", u"\u00e9": "", u"a": ""}
    names = [pair[0] for pair in wire.WireReader(wire.encode_options(options)).read_options()]
    assert names == [u"a", u"b", u"\u00e9"]


option_names = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=30)


@given(st.dictionaries(option_names, st.text(max_size=40), max_size=8))
def test_options_round_trip(options):
    data = wire.encode_options(options)
    reader = wire.WireReader(data)
    pairs = reader.read_options()
    assert reader.at_end()
    assert dict(pairs) == options
    assert [pair[0] for pair in pairs] == sorted(options, key=lambda n: n.encode("utf-8"))


def test_read_options_rejects_trailing_bytes_in_data():
    inner = wire.encode_string("force-command") + wire.encode_string(wire.encode_string("a") + b"\x00")
    with pytest.raises(wire.WireError) as excinfo:
        wire.WireReader(wire.encode_string(inner)).read_options()
    assert excinfo.value.offset is not None


# ---------------------------------------------------------------- truncation

def sample_blob():
    return b"".join([
        wire.encode_string("ssh-ed25519-cert-v01@openssh.com"),
        wire.encode_uint64(2 ** 63 + 5),
        wire.encode_uint32(1),
        wire.encode_mpint(0x80FF),
        wire.encode_string_list(["alice", "bob"]),
        wire.encode_options({"force-command": "/bin/true", "source-address": "10.0.0.0/8"}),
        wire.encode_options({"permit-pty": ""}),
        wire.encode_byte(7),
    ])


def read_sample(reader):
    reader.read_text("key type")
    reader.read_uint64("serial")
    reader.read_uint32("type")
    reader.read_mpint("n")
    reader.read_string_list("principals")
    reader.read_options("critical options")
    reader.read_options("extensions")
    reader.read_byte("flag")
    reader.expect_end("certificate")


def test_sample_blob_reads_back():
    read_sample(wire.WireReader(sample_blob()))


@pytest.mark.parametrize("cut", range(len(sample_blob())))
def test_every_truncation_is_a_wire_error_with_offset(cut):
    data = sample_blob()[:cut]
    with pytest.raises(wire.WireError) as excinfo:
        read_sample(wire.WireReader(data))
    err = excinfo.value
    assert isinstance(err, wire.FleetcaError)
    assert isinstance(err, ValueError)
    assert err.offset is not None
    assert 0 <= err.offset <= cut
    assert "offset %d" % err.offset in str(err)


@given(st.binary(max_size=64))
def test_arbitrary_bytes_never_raise_anything_but_wire_error(data):
    try:
        read_sample(wire.WireReader(data))
    except wire.WireError as err:
        assert err.offset is not None
        assert 0 <= err.offset <= len(data)


@pytest.mark.parametrize("method", ["read_byte", "read_uint32", "read_uint64", "read_string",
                                    "read_text", "read_mpint", "read_string_list", "read_options"])
def test_empty_input_reports_offset_zero(method):
    with pytest.raises(wire.WireError) as excinfo:
        getattr(wire.WireReader(b""), method)()
    assert excinfo.value.offset == 0


def test_string_length_beyond_data_reports_length_start():
    data = b"\x01\x02" + h("00000010 616263")
    reader = wire.WireReader(data)
    reader.read_raw(2)
    with pytest.raises(wire.WireError) as excinfo:
        reader.read_string("comment")
    assert excinfo.value.offset == 2
    assert "length 16" in str(excinfo.value)


def test_nested_reader_offsets_are_absolute():
    data = b"\xaa" * 3 + wire.encode_string(wire.encode_uint32(9) + b"\x01")
    reader = wire.WireReader(data)
    reader.read_raw(3)
    sub = reader.sub_reader("nested")
    assert sub.offset == 3 + 4
    assert sub.read_uint32() == 9
    with pytest.raises(wire.WireError) as excinfo:
        sub.read_uint32("inner")
    assert excinfo.value.offset == 3 + 4 + 4
    assert reader.at_end()


def test_base_offset_is_added():
    reader = wire.WireReader(b"\x00", base_offset=100)
    assert reader.offset == 100
    with pytest.raises(wire.WireError) as excinfo:
        reader.read_uint32()
    assert excinfo.value.offset == 100


def test_read_raw_and_remaining():
    reader = wire.WireReader(b"abcdef")
    assert reader.read_raw(2) == b"ab"
    assert reader.remaining() == 4
    with pytest.raises(wire.WireError) as excinfo:
        reader.read_raw(5)
    assert excinfo.value.offset == 2
    assert reader.read_raw(4) == b"cdef"
    assert reader.remaining() == 0


def test_expect_end_reports_trailing_bytes():
    reader = wire.WireReader(wire.encode_uint32(1) + b"xy")
    reader.read_uint32()
    with pytest.raises(wire.WireError) as excinfo:
        reader.expect_end("key")
    assert excinfo.value.offset == 4
    assert "2 trailing bytes" in str(excinfo.value)


def test_wire_error_without_offset():
    err = wire.WireError("bad")
    assert err.offset is None
    assert str(err) == "bad"


@settings(max_examples=50)
@given(st.binary(max_size=40), st.integers(min_value=0, max_value=1000))
def test_sub_reader_truncation_offsets(payload, base):
    data = wire.encode_string(payload)
    for cut in range(len(data)):
        reader = wire.WireReader(data[:cut], base_offset=base)
        with pytest.raises(wire.WireError) as excinfo:
            reader.sub_reader()
        assert excinfo.value.offset == base


def test_huge_length_prefix_does_not_allocate_or_hang():
    reader = wire.WireReader(b"\xff\xff\xff\xff" + b"x" * 10)
    with pytest.raises(wire.WireError, match="truncated"):
        reader.read_string()
