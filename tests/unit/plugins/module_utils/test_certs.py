# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the certificate engine: format rules, validity, parsing robustness."""

import base64
import gc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.fleetca.ssh.plugins.module_utils import certs, keys, signers
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import (
    UINT64_MAX,
    FleetcaError,
    WireError,
    encode_string,
)

NOW = 1_800_000_000


@pytest.fixture(scope="module")
def ca():
    return signers.KeySigner(signers.generate_private_key("ed25519"))


@pytest.fixture(scope="module")
def subject():
    return keys.parse_public_key("public key", signers.public_key_line(signers.generate_private_key("ed25519")) + " me")


def user_request(subject, **overrides):
    fields = dict(cert_type=certs.USER_CERT, public_key=subject, principals=["alice"], key_id="alice",
                  valid_after=NOW - 300, valid_before=NOW + 3600)
    fields.update(overrides)
    return certs.CertRequest(**fields)


def test_signed_certificate_round_trips_through_the_parser(ca, subject):
    request = user_request(subject, critical_options={"force-command": "/bin/true"},
                           extensions=certs.DEFAULT_USER_EXTENSIONS)
    cert = certs.sign_certificate(request, 7, ca, "me")
    again = certs.parse_certificate("certificate", cert.to_line())
    assert again.serial == 7
    assert again.key_type == "ssh-ed25519-cert-v01@openssh.com"
    assert again.principals == ["alice"]
    assert dict(again.critical_options) == {"force-command": "/bin/true"}
    assert again.signature_key == ca.public_key
    assert again.signature_valid(ca.public_key)
    assert again.comment == "me"


def test_certificate_line_takes_each_comment_asked_for(ca, subject):
    """The line is encoded once and reused: asking with one comment never leaks into the next."""
    cert = certs.sign_certificate(user_request(subject), 3, ca, "me")
    body = "ssh-ed25519-cert-v01@openssh.com " + base64.b64encode(cert.blob).decode("ascii")
    assert [cert.to_line(""), cert.to_line("other"), cert.to_line(), cert.to_line("")] == [
        body, body + " other", body + " me", body]


def test_options_are_sorted_by_bytes_not_by_case_folding(ca, subject):
    cert = certs.sign_certificate(user_request(subject, extensions=certs.DEFAULT_USER_EXTENSIONS), 1, ca)
    names = [pair[0] for pair in cert.extensions]
    assert names == sorted(names, key=lambda n: n.encode())
    assert names[0] == "permit-X11-forwarding"  # 'X' (0x58) sorts before 'a' (0x61)


def test_option_values_are_nested_strings(ca, subject):
    cert = certs.sign_certificate(user_request(subject, critical_options={"force-command": "a"},
                                               extensions={"permit-pty": ""}), 1, ca)
    assert encode_string("force-command") + bytes.fromhex("00000005 00000001 61") in cert.blob
    assert encode_string("permit-pty") + bytes.fromhex("00000000") in cert.blob


def test_tampered_certificate_fails_verification(ca, subject):
    cert = certs.sign_certificate(user_request(subject), 1, ca)
    index = cert.blob.index(b"alice")
    tampered = cert.blob[:index] + b"mallo" + cert.blob[index + 5:]
    assert not certs.parse_certificate_blob(tampered).signature_valid(ca.public_key)


def test_verification_against_another_ca_fails(ca, subject):
    cert = certs.sign_certificate(user_request(subject), 1, ca)
    other = keys.parse_public_key("public key", signers.public_key_line(signers.generate_private_key("ed25519")))
    assert cert.signature_valid(ca.public_key)
    assert not cert.signature_valid(other)


@pytest.mark.parametrize("overrides, message", [
    (dict(principals=["al\nice"]), "principals"),
    (dict(principals=["a,b"]), "principals"),
    (dict(principals=[]), "allow_any_principal"),
    (dict(principals=["a", "a"]), "repeat"),
    (dict(serial=0), "serial"),
    (dict(valid_after=NOW, valid_before=NOW - 1), "valid_to"),
    (dict(critical_options={"no-such-option": ""}), "critical_options"),
    (dict(cert_type=certs.HOST_CERT, extensions={"permit-pty": ""}), "host certificates"),
    (dict(key_id="a\nb"), "key_id"),
])
def test_format_rules_refuse_bad_requests(subject, overrides, message):
    with pytest.raises(FleetcaError, match=message):
        user_request(subject, **overrides)


def test_any_principal_and_unknown_options_need_explicit_consent(subject):
    assert user_request(subject, principals=[], allow_any_principal=True).principals == []
    request = user_request(subject, critical_options={"x-custom@example.com": ""},
                           allow_unknown_critical_options=True)
    assert "x-custom@example.com" in request.critical_options


def test_serial_zero_is_never_signed(ca, subject):
    with pytest.raises(FleetcaError, match="serial"):
        certs.sign_certificate(user_request(subject), 0, ca)


def test_a_batch_pauses_the_cycle_collector_and_gives_it_back(ca, subject):
    with certs.batch_without_cycle_collection():
        assert not gc.isenabled()
        certs.sign_certificate(user_request(subject), 1, ca)
    assert gc.isenabled()
    with pytest.raises(FleetcaError, match="serial"):
        with certs.batch_without_cycle_collection():
            certs.sign_certificate(user_request(subject), 0, ca)
    assert gc.isenabled()


def test_a_batch_leaves_a_collector_paused_by_the_caller_paused():
    gc.disable()
    try:
        with certs.batch_without_cycle_collection():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize("text, expected", [
    ("+52w", NOW + 52 * 604800),
    ("-5m", NOW - 300),
    ("+1w2d3h4m5s", NOW + 604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5),
    ("20270101", 1798761600),
    ("202701011230", 1798761600 + 12 * 3600 + 30 * 60),
    ("20270101123005", 1798761600 + 12 * 3600 + 30 * 60 + 5),
    ("2027-01-01T00:00:00Z", 1798761600),
    ("2027-01-01T02:00:00+02:00", 1798761600),
    ("1798761600", 1798761600),
    ("always", 0),
])
def test_start_times(text, expected):
    assert certs.parse_time("valid_from", text, NOW, False) == expected


def test_end_times_forever():
    assert certs.parse_time("valid_to", "forever", NOW, True) == UINT64_MAX
    assert certs.parse_time("valid_to", "always", NOW, True) == UINT64_MAX


@pytest.mark.parametrize("text", ["+", "+5x", "soon", "2027-13-01", "+w", "1" * 30 + "x"])
def test_bad_times_name_the_field(text):
    with pytest.raises(FleetcaError, match="valid_to"):
        certs.parse_time("valid_to", text, NOW, True)


def test_validity_window_defaults_and_errors():
    assert certs.validity_window(valid_for="+1h", now=NOW) == (NOW - 300, NOW + 3600)
    assert certs.validity_window(valid_for="forever", now=NOW) == (NOW - 300, UINT64_MAX)
    with pytest.raises(FleetcaError, match="valid_to"):
        certs.validity_window(valid_from="20270101", valid_to="20260101", now=NOW)
    with pytest.raises(FleetcaError, match="required"):
        certs.validity_window(now=NOW)


def test_fixed_bounds_compare_only_absolute_times():
    assert certs.fixed_bounds(valid_for="+1h", now=NOW) == (None, None)
    assert certs.fixed_bounds(valid_from="20270101", valid_to="20280101", now=NOW) == (1798761600, 1830297600)


def test_renewal_reasons(ca, subject):
    request = user_request(subject)
    cert = certs.sign_certificate(request, 3, ca)
    assert certs.renewal_reason(cert, request, ca.public_key, NOW) is None
    assert certs.renewal_reason(None, request, ca.public_key, NOW) == "no certificate yet"
    assert certs.renewal_reason(cert, request, ca.public_key, NOW + 3600) == "expired"
    assert certs.renewal_reason(cert, request, ca.public_key, NOW, renew_before=3601) == "inside the renew window"
    assert certs.renewal_reason(cert, user_request(subject, principals=["bob"]), ca.public_key, NOW)
    assert certs.renewal_reason(cert, user_request(subject, serial=4), ca.public_key, NOW) == "serial differs"


def test_duration_parsing():
    assert certs.parse_duration("renew_before", "4w") == 4 * 604800
    assert certs.parse_duration("renew_before", "+1d12h") == 36 * 3600
    with pytest.raises(FleetcaError, match="renew_before"):
        certs.parse_duration("renew_before", "soon")


def _sample_certificate():
    signer = signers.KeySigner(signers.generate_private_key("ed25519"))
    subject = keys.parse_public_key("public key", signers.public_key_line(signers.generate_private_key("ed25519")))
    request = certs.CertRequest(certs.USER_CERT, subject, ["alice", "ops"], "id", NOW, NOW + 60,
                                critical_options={"force-command": "x"}, extensions={"permit-pty": ""})
    return certs.sign_certificate(request, 9, signer).blob


SAMPLE = _sample_certificate()
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=600))
def test_random_blobs_give_clean_errors(blob):
    for parse in (certs.parse_certificate_blob, keys.parse_public_key_blob):
        try:
            parse(blob)
        except WireError:
            pass


@FUZZ
@given(st.integers(min_value=0, max_value=len(SAMPLE) - 1), st.integers(min_value=0, max_value=255))
def test_mutated_certificates_give_clean_errors(position, value):
    mutated = SAMPLE[:position] + bytes([value]) + SAMPLE[position + 1:]
    try:
        certs.parse_certificate_blob(mutated)
    except WireError as exc:
        assert exc.offset is None or 0 <= exc.offset <= len(mutated)


@FUZZ
@given(st.integers(min_value=0, max_value=len(SAMPLE) - 1))
def test_truncated_certificates_give_an_error_with_offset(length):
    with pytest.raises(WireError) as caught:
        certs.parse_certificate_blob(SAMPLE[:length])
    assert caught.value.offset is not None


@FUZZ
@given(st.text(max_size=200))
def test_random_key_lines_give_clean_errors(text):
    try:
        certs.parse_key_or_certificate("key", text)
    except FleetcaError:
        pass
