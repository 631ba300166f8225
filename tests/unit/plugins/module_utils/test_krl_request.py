# SPDX-License-Identifier: GPL-3.0-or-later
"""What a krl module call asks for: options checked one by one (errors name the field),
certificate lines revoked as ssh-keygen -k revokes them, and the new version decided."""

import hashlib
import os

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import certs, keys, krl, krl_request, signers
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import UINT64_MAX, FleetcaError, encode_string

NOW = 1_800_000_000


def new_signer():
    return signers.KeySigner(signers.generate_private_key("ed25519"))


def sign(ca, subject, serial, key_id="someone"):
    request = certs.CertRequest(certs.USER_CERT, subject, ["someone"], key_id, NOW - 300, NOW + 3600)
    return certs.sign_certificate(request, serial, ca) if serial else _sign_serial_zero(request, ca)


def _sign_serial_zero(request, ca):
    """sign_certificate refuses serial 0 (rightly); a KRL must still judge such certs."""
    tbs = certs.tbs_blob(request, 0, ca.public_key, os.urandom(certs.NONCE_LEN))
    return certs.parse_certificate_blob(tbs + encode_string(ca.sign(tbs)))


def request_of(**options):
    return krl_request.build_revocations(**options)


@pytest.fixture(scope="module")
def ca():
    return new_signer()


@pytest.fixture(scope="module")
def subject():
    return keys.parse_public_key("public key", signers.public_key_line(signers.generate_private_key("ed25519")))


# --- options -------------------------------------------------------------------

def test_a_certificate_line_is_revoked_as_ssh_keygen_revokes_it(ca, subject):
    k = krl.Krl()
    by_serial, by_id = sign(ca, subject, 77), sign(ca, subject, 0, "zero")
    k.revoke(request_of(public_keys=[by_serial.to_line(), by_id.to_line()]))
    section = k.cert_sections[ca.public_key.blob]
    assert list(section.serials.ranges()) == [(77, 77)] and section.key_ids == {"zero"}
    assert b"" not in k.cert_sections  # a certificate names its CA; ca_public_key does not apply


def test_sha256_fingerprints_as_ssh_keygen_prints_them(subject):
    k = krl.Krl()
    k.revoke(request_of(sha256_fingerprints=[subject.fingerprint]))
    assert k.check(subject) == "sha256 fingerprint %s" % subject.fingerprint


@pytest.mark.parametrize("options, message", [
    (dict(serials=[0]), "serials: 0: serial 0 cannot be revoked"),
    (dict(serials=["0-5"]), "serial 0 cannot be revoked"),
    (dict(serials=["9-5"]), "serials: '9-5': range minimum is larger than its maximum"),
    (dict(serials=["abc"]), "serials: 'abc' is not a serial number"),
    (dict(serials=["1.5"]), "is not a serial number"),
    (dict(serials=[True]), "serials: True is not a serial"),
    (dict(serials=[2 ** 64]), "larger than 2^64-1"),
    (dict(key_ids=[""]), "key_ids: '' is not a key id"),
    (dict(public_keys=["ssh-ed25519 AAAA"]), "public_keys[0]"),
    (dict(public_keys=["not a key"]), "public_keys[0]"),
    (dict(sha256_fingerprints=["SHA256:abc"]), "sha256_fingerprints: 'SHA256:abc' is not a SHA256 fingerprint"),
    (dict(sha256_fingerprints=["MD5:00:11"]), "sha256_fingerprints"),
    (dict(ca_public_key="ssh-ed25519 AAAA"), "ca_public_key"),
])
def test_bad_options_name_the_field(options, message):
    with pytest.raises(FleetcaError) as error:
        request_of(**options)
    assert message in str(error.value)


def test_serial_options_accept_ints_numbers_and_ranges():
    assert krl_request.parse_serial_option("serials", 5) == (5, 5)
    assert krl_request.parse_serial_option("serials", "7") == (7, 7)
    assert krl_request.parse_serial_option("serials", "3-3") == (3, 3)
    assert krl_request.parse_serial_option("serials", " 10 - 20 ") == (10, 20)
    assert krl_request.parse_serial_option("serials", "18446744073709551615") == (UINT64_MAX, UINT64_MAX)


def test_fingerprint_option_takes_padding_or_none(subject):
    assert krl_request.parse_sha256_fingerprint("sha256_fingerprints", subject.fingerprint) == subject.sha256
    assert krl_request.parse_sha256_fingerprint("sha256_fingerprints", subject.fingerprint + "=") == subject.sha256


# --- the module's decision ---------------------------------------------------

def test_version_increases_only_when_the_set_changes(ca):
    ca_line = ca.public_key.to_line()
    created = krl_request.plan_update(None, request_of(), now=NOW)
    assert created.changed and created.krl.version == 1 and created.old_version is None
    again = krl_request.plan_update(krl.parse_krl(created.krl.to_bytes()), request_of(), now=NOW + 5)
    assert not again.changed and again.krl.version == 1 and again.krl.generated == NOW
    update = krl_request.plan_update(again.krl, request_of(ca_public_key=ca_line, serials=[3]), now=NOW + 9)
    assert update.changed and update.krl.version == 2 and update.krl.generated == NOW + 9
    assert not krl_request.plan_update(update.krl, request_of(ca_public_key=ca_line, serials=[3])).changed
    assert krl_request.plan_update(update.krl, request_of(), comment="new").krl.version == 3


def test_anti_rollback():
    disk = krl.Krl(version=10, generated=NOW)
    with pytest.raises(FleetcaError, match="version 10, higher than 9: refusing to roll it back"):
        krl_request.plan_update(disk, request_of(), version=9)
    with pytest.raises(FleetcaError, match="needs a higher version"):
        krl_request.plan_update(krl.Krl(version=10), request_of(serials=[1]), version=10)
    assert not krl_request.plan_update(krl.Krl(version=10), request_of(), version=10).changed
    assert krl_request.plan_update(krl.Krl(version=10), request_of(), version=12).krl.version == 12
    with pytest.raises(FleetcaError, match="cannot be increased"):
        krl_request.plan_update(krl.Krl(version=UINT64_MAX), request_of(serials=[1]))


def test_pruning_splits_ranges_per_section_and_skips_expired_requests(ca, subject):
    ca_line = ca.public_key.to_line()
    current = krl_request.plan_update(None, request_of(ca_public_key=ca_line, serials=["10-20"], key_ids=["k"]),
                                      now=NOW).krl
    krl_request.plan_update(current, request_of(serials=["10-12"]), now=NOW)
    expired = krl_request.ExpiredSerials({ca.public_key.fingerprint: [12, 15, 16, 99]}, [11])
    update = krl_request.plan_update(current, request_of(ca_public_key=ca_line, serials=[99, 30]), now=NOW,
                                     expired=expired)
    assert update.pruned == 4 and update.changed  # 12, 15, 16 of the CA; 11 of any CA
    assert update.added == ["serial 30 of CA %s" % ca.public_key.fingerprint]  # 99 is expired: not added
    section = update.krl.cert_section(ca.public_key.blob)
    assert list(section.serials.ranges()) == [(10, 11), (13, 14), (17, 20), (30, 30)]
    assert section.key_ids == {"k"}
    assert list(update.krl.cert_section(b"").serials.ranges()) == [(10, 10), (12, 12)]
    again = krl_request.plan_update(update.krl, request_of(), now=NOW, expired=expired)
    assert not again.changed and again.pruned == 0


def test_pruning_nothing_changes_nothing(ca):
    current = krl_request.plan_update(None, request_of(ca_public_key=ca.public_key.to_line(), serials=[5]),
                                      now=NOW).krl
    update = krl_request.plan_update(current, request_of(), now=NOW, expired=krl_request.ExpiredSerials({}, []))
    assert not update.changed and update.pruned == 0


def test_a_spec_reads_numbers_as_strtoull_and_comments_as_ssh_keygen(ca):
    request = krl_request.Revocations()
    krl_request.add_spec(request, "spec_file", "# head\n\n  serial: 0x10 # hex\nserial: 010\nSerial: 7-0x9\n"
                         "id: gone@x   \n", ca.public_key.blob)
    assert list(request.serials[ca.public_key.blob].ranges()) == [(7, 9), (16, 16)]  # 010 is 8, in 7-9
    assert request.key_ids == {ca.public_key.blob: {"gone@x"}}


@pytest.mark.parametrize("text, message", [
    ("serial: 0\n", "spec_file line 1: serial 0 cannot be revoked"),
    ("serial: 9-3\n", "spec_file line 1: invalid serial range '9-3'"),
    ("\nserial: 08\n", "spec_file line 2: invalid serial '08'"),
    ("serial: 18446744073709551616\n", "spec_file line 1: serial '18446744073709551616' is larger than 2^64-1"),
    ("id:\n", "spec_file line 1: '' is not a key id"),
    ("not a key\n", "spec_file line 1"),
])
def test_a_bad_spec_line_is_named(ca, text, message):
    with pytest.raises(FleetcaError) as error:
        krl_request.add_spec(krl_request.Revocations(), "spec_file", text, ca.public_key.blob)
    assert str(error.value).startswith(message), str(error.value)


# --- a call that names no entries: the krl action's one-round-trip answer -------

def krl_call(path, **changes):
    return dict(dict(path=str(path), state="present", comment=None, krl_version=None), **changes)


def test_an_existing_krl_is_answered_as_the_module_reports_it(tmp_path, ca):
    path = tmp_path / "revoked.krl"
    data = krl_request.plan_update(None, request_of(ca_public_key=ca.public_key.to_line(), serials=["5-7"]),
                                   comment="fleet", now=NOW).krl.to_bytes()
    path.write_bytes(data)
    update, digest, to_write = krl_request.plan_file(str(path), request_of(), "present", None, None)
    assert not update.changed and to_write is None
    answer = krl_request.payload_main(krl_call(path))
    assert answer == krl_request.result_of(update, digest, False)
    assert answer == {"changed": False, "krl_version": 1, "sha256": hashlib.sha256(data).hexdigest(),
                      "previous_version": 1, "added": [], "removed": [], "pruned": 0, "entries": 3}
    assert krl_request.payload_main(krl_call(path, comment="fleet", krl_version=1, state="absent")) == answer


@pytest.mark.parametrize("case", ["missing", "new comment", "higher version", "lower version", "not a krl",
                                  "no directory"])
def test_anything_to_write_or_to_refuse_is_the_modules(tmp_path, case):
    path = tmp_path / "revoked.krl"
    path.write_bytes(krl.Krl(version=3, generated=NOW).to_bytes())
    changes = {"new comment": {"comment": "x"}, "higher version": {"krl_version": 4},
               "lower version": {"krl_version": 2}}.get(case, {})
    if case == "missing":
        path.unlink()
    if case == "not a krl":
        path.write_bytes(b"not a KRL")
    if case == "no directory":
        path = tmp_path / "none" / "revoked.krl"
    assert krl_request.payload_main(krl_call(path, **changes)) == {}
