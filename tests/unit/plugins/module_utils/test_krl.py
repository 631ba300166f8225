# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the KRL format and model: wire format, serial sets, edits, queries, bad input.

The interop tests check the same engine against ssh-keygen; these pin the
format and the rules without it, and fuzz the reader with hypothesis.
"""

import os
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.fleetca.ssh.plugins.module_utils import certs, keys, krl, krl_request, signers
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import (
    UINT64_MAX,
    WireError,
    WireReader,
    encode_mpint,
    encode_string,
    encode_uint32,
    encode_uint64,
)

NOW = 1_800_000_000


# --- helpers ---------------------------------------------------------------

def new_signer():
    return signers.KeySigner(signers.generate_private_key("ed25519"))


def new_key():
    return keys.parse_public_key("public key", signers.public_key_line(signers.generate_private_key("ed25519")))


def sign(ca, subject, serial, key_id="someone"):
    request = certs.CertRequest(certs.USER_CERT, subject, ["someone"], key_id, NOW - 300, NOW + 3600)
    return certs.sign_certificate(request, serial, ca) if serial else _sign_serial_zero(request, ca)


def _sign_serial_zero(request, ca):
    """sign_certificate refuses serial 0 (rightly); a KRL must still judge such certs."""
    tbs = certs.tbs_blob(request, 0, ca.public_key, os.urandom(certs.NONCE_LEN))
    return certs.parse_certificate_blob(tbs + encode_string(ca.sign(tbs)))


def header(version=1, generated=NOW, flags=0, comment=b""):
    return (krl.KRL_MAGIC + encode_uint32(1) + encode_uint64(version) + encode_uint64(generated)
            + encode_uint64(flags) + encode_string(b"") + encode_string(comment))


def section(kind, data):
    return bytes([kind]) + encode_string(data)


def cert_section(ca_blob, *subsections):
    return section(krl.SECTION_CERTIFICATES, encode_string(ca_blob) + encode_string(b"") + b"".join(subsections))


def serials_krl(serials, ca_blob=b""):
    k = krl.Krl(version=3, generated=NOW)
    k.cert_section(ca_blob, create=True).serials = krl.SerialSet.from_serials(serials)
    return k


def subsection_types(data):
    """The serial subsection types of a one-section KRL, in order."""
    parsed = WireReader(data[len(header()):])
    parsed.read_byte()
    body = parsed.sub_reader()
    body.read_string()
    body.read_string()
    kinds = []
    while not body.at_end():
        kinds.append(body.read_byte())
        body.read_string()
    return kinds


@pytest.fixture(scope="module")
def ca():
    return new_signer()


@pytest.fixture(scope="module")
def other_ca():
    return new_signer()


@pytest.fixture(scope="module")
def subject():
    return new_key()


# --- header and sections ---------------------------------------------------

def test_empty_krl_is_the_header_alone():
    data = krl.Krl(version=7, generated=NOW, comment="fleet").to_bytes()
    assert data == header(7, NOW, comment=b"fleet")
    again = krl.parse_krl(data)
    assert (again.version, again.generated, again.comment) == (7, NOW, "fleet")
    assert again.entry_count() == 0


def test_every_section_round_trips(ca, subject):
    k = krl.Krl(version=2, generated=NOW, comment="all of it", flags=0)
    section_ca = k.cert_section(ca.public_key.blob, create=True)
    section_ca.serials = krl.SerialSet.from_ranges([(1, 1), (5, 9), (1000, 100000)])
    section_ca.key_ids.update(["alice", "bob"])
    section_ca.extensions.append(krl.Extension(b"note@example.com", 0, b"kept"))
    k.cert_section(b"", create=True).key_ids.add("anyone")
    k.keys.add(subject.blob)
    k.sha1s.add(subject.sha1)
    k.sha256s.add(subject.sha256)
    k.extensions.append(krl.Extension(b"other@example.com", 0, b"\x00\x01"))
    data = k.to_bytes()
    again = krl.parse_krl(data)
    assert again.to_bytes() == data
    assert list(again.cert_sections) == [ca.public_key.blob, b""]
    assert again.cert_sections[ca.public_key.blob].serials == section_ca.serials
    assert again.cert_sections[b""].key_ids == {"anyone"}
    assert (again.keys, again.sha1s, again.sha256s) == ({subject.blob}, {subject.sha1}, {subject.sha256})
    assert [e.name for e in again.extensions] == [b"other@example.com"]


def test_sections_come_in_ssh_keygen_order_and_entries_sorted(ca):
    k = krl.Krl()
    k.sha256s.update([b"\xff" * 32, b"\x01" * 32])
    k.keys.add(ca.public_key.blob)
    k.cert_section(b"", create=True).key_ids.update(["b", "a"])
    data = k.to_bytes()
    rest = data[len(header(0, 0)):]
    assert rest[0] == krl.SECTION_CERTIFICATES
    key_ids = section(krl.CERT_KEY_ID, encode_string(b"a") + encode_string(b"b"))
    assert rest.startswith(cert_section(b"", key_ids))
    assert rest.endswith(section(krl.SECTION_FINGERPRINT_SHA256,
                                 encode_string(b"\x01" * 32) + encode_string(b"\xff" * 32)))


def test_empty_cert_sections_are_not_written():
    k = krl.Krl()
    k.cert_section(b"", create=True)
    assert k.to_bytes() == header(0, 0)


def test_non_utf8_key_ids_and_comments_round_trip():
    data = header(comment=b"caf\xe9") + cert_section(b"", section(krl.CERT_KEY_ID, encode_string(b"\xff\xfe")))
    parsed = krl.parse_krl(data)
    assert parsed.to_bytes() == data
    assert krl.printable(parsed.comment) == "caf\ufffd"


# --- choosing list / range / bitmap ------------------------------------------

def test_lone_serials_are_listed():
    data = serials_krl([10, 5000, 900000]).to_bytes()
    assert subsection_types(data) == [krl.CERT_SERIAL_LIST]


def test_a_long_run_is_a_range():
    k = krl.Krl()
    k.cert_section(b"", create=True).serials = krl.SerialSet.from_ranges([(100, 100000)])
    assert subsection_types(k.to_bytes()) == [krl.CERT_SERIAL_RANGE]


def test_dense_serials_are_a_bitmap():
    data = serials_krl(range(1, 2000, 3)).to_bytes()
    assert subsection_types(data) == [krl.CERT_SERIAL_BITMAP]
    assert krl.parse_krl(data).cert_sections[b""].serials == krl.SerialSet.from_serials(range(1, 2000, 3))


def test_bitmaps_stay_within_what_openssh_reads():
    serials = range(1, 1000000, 10)  # one ssh-keygen bitmap of 125 kB, which OpenSSH refuses
    data = serials_krl(serials).to_bytes()
    kinds = subsection_types(data)
    assert set(kinds) == {krl.CERT_SERIAL_BITMAP}
    assert len(kinds) == pytest.approx(1000000 / krl.MAX_BITMAP_BITS, abs=2)
    assert krl.parse_krl(data).cert_sections[b""].serials == krl.SerialSet.from_serials(serials)


def test_bitmap_mpint_gets_a_leading_zero_when_its_top_bit_is_set():
    data = serials_krl([8, 9, 10, 11, 13, 14, 15]).to_bytes()  # offset 8, top bit 7
    assert data.endswith(encode_uint64(8) + encode_mpint(0b11101111))
    assert encode_mpint(0b11101111) == encode_string(b"\x00\xef")


# --- serial sets -------------------------------------------------------------

def test_serial_set_merges_overlapping_and_abutting_ranges():
    serials = krl.SerialSet.from_ranges([(10, 20), (1, 3), (4, 5), (15, 30), (40, 40)])
    assert list(serials.ranges()) == [(1, 5), (10, 30), (40, 40)]
    assert serials.count() == 5 + 21 + 1
    assert serials.find(12) == (10, 30)
    assert serials.find(6) is None
    assert serials.find(0) is None


def test_removing_from_the_middle_splits_a_range():
    serials = krl.SerialSet.from_ranges([(1, 100)])
    cut = serials.difference(krl.SerialSet.from_ranges([(50, 50), (90, 200)]))
    assert list(cut.ranges()) == [(1, 49), (51, 89)]


ranges_strategy = st.lists(st.tuples(st.integers(1, 300), st.integers(0, 20)).map(lambda p: (p[0], p[0] + p[1])),
                           max_size=25)


def as_set(pairs):
    return set(s for lo, hi in pairs for s in range(lo, hi + 1))


@given(ranges_strategy, ranges_strategy)
def test_set_operations_match_python_sets(a, b):
    left, right = krl.SerialSet.from_ranges(a), krl.SerialSet.from_ranges(b)
    expected = {"union": as_set(a) | as_set(b), "intersection": as_set(a) & as_set(b),
                "difference": as_set(a) - as_set(b)}
    for name, want in expected.items():
        result = getattr(left, name)(right)
        assert as_set(result.ranges()) == want
        assert result == krl.SerialSet.from_serials(want)  # canonical: merged, sorted


@given(st.lists(st.integers(1, 10 ** 6), max_size=200))
def test_from_serials_and_the_written_krl_agree(serials):
    data = serials_krl(serials).to_bytes()
    assert as_set(krl.parse_krl(data).cert_sections.get(b"", krl.CertSection()).serials.ranges()) == set(serials)


# --- queries -----------------------------------------------------------------

def test_check_names_the_entry_that_revokes(ca, other_ca, subject):
    k = krl.Krl()
    k.cert_section(ca.public_key.blob, create=True).serials = krl.SerialSet.from_ranges([(40, 50), (7, 7)])
    k.cert_section(ca.public_key.blob).key_ids.add("mallory")
    k.cert_section(b"", create=True).serials = krl.SerialSet.from_ranges([(900, 900)])
    fp = ca.public_key.fingerprint
    assert k.check(sign(ca, subject, 42)) == "serial 42 (range 40-50) of CA %s" % fp
    assert k.check(sign(ca, subject, 7)) == "serial 7 of CA %s" % fp
    assert k.check(sign(ca, subject, 8, "mallory")) == 'key id "mallory" of CA %s' % fp
    assert k.check(sign(other_ca, subject, 42)) is None
    assert k.check(sign(other_ca, subject, 900)) == "serial 900 of any CA"
    assert k.check(subject) is None


def test_serial_zero_is_matched_by_key_id_only(ca, subject):
    k = krl.Krl()
    k.cert_section(b"", create=True).serials = krl.SerialSet.from_ranges([(1, 10)])
    assert k.check(sign(ca, subject, 0)) is None
    k.cert_section(b"").key_ids.add("someone")
    assert k.check(sign(ca, subject, 0)) == 'key id "someone" of any CA'


def test_a_revoked_key_revokes_its_certificates_and_a_revoked_ca_everything(ca, subject):
    cert = sign(ca, subject, 5)
    for kind, field, label in (("sha1s", "sha1", "sha1 fingerprint SHA1:"), ("sha256s", "sha256", "sha256 fingerprint"),
                               ("keys", "blob", "key")):
        k = krl.Krl()
        getattr(k, kind).add(getattr(subject, field))
        assert k.check(subject).startswith(label)
        assert k.check(cert).startswith(label)
        k = krl.Krl()
        getattr(k, kind).add(getattr(ca.public_key, field))
        assert k.check(cert).startswith("CA key %s itself is revoked (%s" % (ca.public_key.fingerprint, label))


# --- edits -------------------------------------------------------------------

def request_of(**options):
    return krl_request.build_revocations(**options)


def test_revoke_reports_only_what_is_new_and_unrevoke_only_what_was_there(ca):
    k = krl.Krl()
    ca_line = ca.public_key.to_line()
    fp = ca.public_key.fingerprint
    assert k.revoke(request_of(ca_public_key=ca_line, serials=[5, "10-20"], key_ids=["bob"])) == [
        "serial 5 of CA %s" % fp, "serials 10-20 of CA %s" % fp, 'key id "bob" of CA %s' % fp]
    assert k.revoke(request_of(ca_public_key=ca_line, serials=["4-12"])) == [
        "serial 4 of CA %s" % fp, "serials 6-9 of CA %s" % fp]
    assert list(k.cert_sections[ca.public_key.blob].serials.ranges()) == [(4, 20)]
    assert k.unrevoke(request_of(ca_public_key=ca_line, serials=["15", "30-40"], key_ids=["bob", "eve"])) == [
        "serial 15 of CA %s" % fp, 'key id "bob" of CA %s' % fp]
    assert list(k.cert_sections[ca.public_key.blob].serials.ranges()) == [(4, 14), (16, 20)]
    k.unrevoke(request_of(ca_public_key=ca_line, serials=["1-100"]))
    assert k.cert_sections == {}


def test_a_plain_key_is_revoked_by_hash_and_unrevoked_by_every_entry(subject):
    k = krl.Krl()
    assert k.revoke(request_of(public_keys=[subject.to_line()])) == [
        "sha256 fingerprint %s (ssh-ed25519 key)" % subject.fingerprint]
    assert k.sha256s == {subject.sha256}
    k.sha256s.clear()
    k.keys.add(subject.blob)  # as ssh-keygen -k revokes a bare key
    k.sha1s.add(subject.sha1)
    assert k.revoke(request_of(public_keys=[subject.to_line()])) == []  # already revoked
    removed = k.unrevoke(request_of(public_keys=[subject.to_line()]))
    assert [r.split()[0] for r in removed] == ["key", "sha1"]
    assert not (k.keys or k.sha1s or k.sha256s)


# --- the reader's errors -----------------------------------------------------

def full_krl(ca, subject):
    k = krl.Krl(version=4, generated=NOW, comment="c")
    section_ca = k.cert_section(ca.public_key.blob, create=True)
    section_ca.serials = krl.SerialSet.from_ranges([(3, 3), (10, 12), (20, 5000)] + [(s, s) for s in range(6000, 6400, 3)])
    section_ca.key_ids.add("id")
    k.cert_section(b"", create=True).key_ids.add("any")
    k.keys.add(subject.blob)
    k.sha1s.add(subject.sha1)
    k.sha256s.add(subject.sha256)
    return k.to_bytes()


@pytest.mark.parametrize("data, message", [
    (b"", "bad magic"),
    (b"SSHKRL\n\x01" + b"\x00" * 40, "bad magic"),
    (krl.KRL_MAGIC + encode_uint32(2), "unsupported format version 2"),
    (header() + section(9, b""), "unknown section type 9"),
    (header() + section(krl.SECTION_SIGNATURE, b""), "signed KRLs are not supported"),
    (header() + section(krl.SECTION_EXTENSION, encode_string(b"x@y") + b"\x01" + encode_string(b"")),
     "unsupported critical extension 'x@y'"),
    (header() + cert_section(b"", section(0x30, b"")), "unknown subsection type 0x30"),
    (header() + cert_section(b"", section(krl.CERT_SERIAL_LIST, encode_uint64(0))), "serial 0"),
    (header() + cert_section(b"", section(krl.CERT_SERIAL_LIST, b"\x00" * 9)), "1 trailing bytes"),
    (header() + cert_section(b"", section(krl.CERT_SERIAL_RANGE, encode_uint64(9) + encode_uint64(5))),
     "invalid range 9-5"),
    (header() + cert_section(b"", section(krl.CERT_SERIAL_RANGE, encode_uint64(0) + encode_uint64(5))),
     "invalid range 0-5"),
    (header() + cert_section(b"", section(krl.CERT_SERIAL_BITMAP, encode_uint64(0) + encode_mpint(1))), "serial 0"),
    (header() + cert_section(b"", section(krl.CERT_SERIAL_BITMAP, encode_uint64(UINT64_MAX) + encode_mpint(3))),
     "wraps past serial 2^64-1"),
    (header() + cert_section(b"", section(krl.CERT_SERIAL_BITMAP, encode_uint64(1) + encode_string(b"\x80"))),
     "negative bitmap"),
    (header() + cert_section(b"", section(krl.CERT_SERIAL_BITMAP, encode_uint64(1) + encode_mpint(1 << 16384))),
     "larger than OpenSSH reads"),
    (header() + cert_section(b"", section(krl.CERT_KEY_ID, encode_string(b"a\x00b"))), "contains a NUL byte"),
    (header(comment=b"a\x00"), "KRL header: comment contains a NUL byte"),
    (header() + section(krl.SECTION_FINGERPRINT_SHA1, encode_string(b"x" * 19)), "entry of 19 bytes, expected 20"),
    (header() + section(krl.SECTION_FINGERPRINT_SHA256, encode_string(b"x" * 20)), "entry of 20 bytes, expected 32"),
    (header() + cert_section(b"\x00\x00\x00\x03abc"), "CA key is not a usable public key"),
])
def test_reader_errors_name_the_problem(data, message):
    with pytest.raises(WireError) as error:
        krl.parse_krl(data)
    assert message in str(error.value)
    assert "at byte offset" in str(error.value)


def test_largest_bitmap_openssh_reads_is_accepted():
    top = (1 << krl.MAX_BITMAP_BITS) - 1  # 2048 bytes with the top bit set: 2049 with the zero
    data = header() + cert_section(b"", section(krl.CERT_SERIAL_BITMAP, encode_uint64(1) + encode_mpint(top)))
    assert krl.parse_krl(data).cert_sections[b""].serials.count() == krl.MAX_BITMAP_BITS


def test_error_offsets_point_into_the_file():
    data = header() + cert_section(b"", section(krl.CERT_SERIAL_RANGE, encode_uint64(9) + encode_uint64(5)))
    with pytest.raises(WireError) as error:
        krl.parse_krl(data)
    assert error.value.offset == len(data) - 16


def section_ends(data):
    """Offsets where a KRL may end: after the header, after each section."""
    reader = WireReader(data[len(header(comment=b"c")):], len(header(comment=b"c")))
    ends = [reader.offset]
    while not reader.at_end():
        reader.read_byte()
        reader.read_string()
        ends.append(reader.offset)
    return ends


def test_every_truncation_is_a_clean_error(ca, subject):
    data = full_krl(ca, subject)
    ends = section_ends(data)
    assert len(ends) == 6 and ends[-1] == len(data)
    for cut in range(len(data)):
        if cut in ends:
            krl.parse_krl(data[:cut])  # whole sections: a shorter but valid KRL
        else:
            with pytest.raises(WireError):
                krl.parse_krl(data[:cut])


@pytest.fixture(scope="module")
def sample_krl():
    return full_krl(new_signer(), new_key())


@settings(max_examples=400, deadline=1000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_krls_parse_or_fail_cleanly(sample_krl, data):
    mutated = bytearray(sample_krl)
    for _index in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(mutated) - 1))
        mutated[position] = data.draw(st.integers(0, 255))
    try:
        parsed = krl.parse_krl(bytes(mutated))
    except WireError:
        return
    assert krl.parse_krl(parsed.to_bytes()).to_bytes() == parsed.to_bytes()


@settings(max_examples=300, deadline=1000)
@given(st.binary(max_size=300))
def test_garbage_after_a_header_fails_cleanly(tail):
    try:
        krl.parse_krl(header() + tail)
    except WireError:
        pass


def test_struct_packing_matches_the_spec():
    k = krl.Krl()
    k.cert_section(b"", create=True).serials = krl.SerialSet.from_ranges([(100, 100000)])
    data = k.to_bytes()
    assert data.endswith(section(krl.CERT_SERIAL_RANGE, struct.pack(">QQ", 100, 100000)))
