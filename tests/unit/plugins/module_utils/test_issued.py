# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/issued.py: the issuance log as an audit trail, on a real SQLite log and a KRL made by ssh-keygen."""

import hashlib
import os
import subprocess

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import certs, keys, signers
from ansible_collections.fleetca.ssh.plugins.module_utils.issued import issued_certificates
from ansible_collections.fleetca.ssh.plugins.module_utils.store import IssuanceLog
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import UINT64_MAX, FleetcaError

NOW = 1_800_000_000
HOUR = 3600
DAY = 86400


def new_public_key():
    return keys.parse_public_key("public key", signers.public_key_line(signers.generate_private_key("ed25519")))


# name: (type, principals, key id, requester, valid_after, valid_before); signed in this order (serials 1..5)
ISSUED = {
    "alice": (certs.USER_CERT, ["alice"], "alice@default", "alice", NOW - HOUR, NOW + HOUR),
    "web1": (certs.HOST_CERT, ["web1", "web1.example.com"], "web1", "web1", NOW - 100, NOW + 30 * DAY),
    "bob-expired": (certs.USER_CERT, ["bob"], "bob@default", "bob", NOW - 2 * HOUR, NOW - HOUR),
    "carol-future": (certs.USER_CERT, ["carol", "ops"], "carol@ops", "carol", NOW + HOUR, NOW + 2 * HOUR),
    "forever": (certs.HOST_CERT, ["db1"], "db1", None, 0, UINT64_MAX),
}


@pytest.fixture(scope="module")
def issued_log(tmp_path_factory):
    """A log holding ISSUED (serials 1 to 5, in order), its path, the certificates, and the CA public key file."""
    directory = tmp_path_factory.mktemp("issued")
    signer = signers.KeySigner(signers.generate_private_key("ed25519"))
    path = str(directory / "issued.db")
    log = IssuanceLog(path)
    jobs = [(certs.CertRequest(kind, new_public_key(), principals, key_id, after, before), requester)
            for kind, principals, key_id, requester, after, before in ISSUED.values()]
    signed = log.issue(lambda serials: [(certs.sign_certificate(request, serial, signer), requester)
                                        for (request, requester), serial in zip(jobs, serials)], len(jobs))
    log.close()
    ca_pub = directory / "ca.pub"
    ca_pub.write_text(signer.public_key.to_line() + "\n")
    return path, dict(zip(ISSUED, signed)), str(ca_pub)


def key_ids(found):
    return [entry["key_id"] for entry in found]


@pytest.mark.parametrize("state, expected", [
    ("valid", ["alice@default", "web1", "db1"]),
    ("expired", ["bob@default"]),
    ("all", ["alice@default", "web1", "bob@default", "carol@ops", "db1"]),
])
def test_state_selects_by_validity_now(issued_log, state, expected):
    path, dummy, dummy_ca = issued_log
    assert key_ids(issued_certificates(path, NOW, state=state)) == expected


def test_valid_is_the_default_state_and_a_certificate_not_valid_yet_is_listed_by_all_only(issued_log):
    path, dummy, dummy_ca = issued_log
    assert "carol@ops" not in key_ids(issued_certificates(path, NOW))
    assert "carol@ops" not in key_ids(issued_certificates(path, NOW, state="expired"))


@pytest.mark.parametrize("span, expected", [
    ("+2h", ["alice@default"]),
    ("31d", ["alice@default", "web1"]),
    ("+30m", []),
])
def test_expiring_within_is_still_valid_and_ending_within_the_span(issued_log, span, expected):
    path, dummy, dummy_ca = issued_log
    assert key_ids(issued_certificates(path, NOW, expiring_within=span)) == expected
    assert key_ids(issued_certificates(path, NOW, expiring_within=span, state="all")) == expected


@pytest.mark.parametrize("filters, expected", [
    ({"requester": "alice"}, ["alice@default"]),
    ({"principal": "ops"}, ["carol@ops"]),
    ({"principal": "web1.example.com"}, ["web1"]),
    ({"key_id": "bob@default"}, ["bob@default"]),
    ({"cert_type": "host"}, ["web1", "db1"]),
    ({"serial": 4}, ["carol@ops"]),
    ({"cert_type": "user", "principal": "alice"}, ["alice@default"]),
    ({"cert_type": "host", "requester": "alice"}, []),
])
def test_filters_are_exact_and_combine(issued_log, filters, expected):
    path, dummy, dummy_ca = issued_log
    assert key_ids(issued_certificates(path, NOW, state="all", **filters)) == expected


def test_a_record_carries_what_the_certificate_says(issued_log):
    path, signed, dummy_ca = issued_log
    web1, forever = (entry for entry in issued_certificates(path, NOW, cert_type="host"))
    cert = signed["web1"]
    assert web1 == {
        "serial": cert.serial, "cert_type": "host", "key_id": "web1", "principals": ["web1", "web1.example.com"],
        "valid_after": certs.format_time(NOW - 100), "valid_before": certs.format_time(NOW + 30 * DAY),
        "valid_after_epoch": NOW - 100, "valid_before_epoch": NOW + 30 * DAY, "requester": "web1",
        "public_key_fingerprint": cert.public_key.fingerprint,
        "signing_ca_fingerprint": cert.signature_key.fingerprint, "issued_at": web1["issued_at"]}
    assert web1["valid_before"] == "2027-02-14T08:00:00Z" and web1["issued_at"].endswith("Z")
    assert (forever["valid_before"], forever["valid_before_epoch"], forever["requester"]) == (
        "forever", UINT64_MAX, None)


def test_with_a_krl_each_record_says_whether_it_is_revoked(issued_log, tmp_path):
    path, signed, ca_pub = issued_log
    spec, krl = tmp_path / "spec", tmp_path / "revoked.krl"
    spec.write_text("serial: %d\nid: web1\n" % signed["alice"].serial)
    subprocess.run(["ssh-keygen", "-q", "-k", "-f", str(krl), "-s", ca_pub, str(spec)], check=True)
    found = issued_certificates(path, NOW, state="all", krl=str(krl))
    assert [(entry["key_id"], entry["revoked"]) for entry in found] == [
        ("alice@default", True), ("web1", True), ("bob@default", False), ("carol@ops", False), ("db1", False)]
    assert "revoked" not in issued_certificates(path, NOW)[0]


@pytest.mark.parametrize("options, message", [
    ({"state": "expired", "expiring_within": "+7d"}, "expiring_within selects certificates still valid"),
    ({"expiring_within": "a week"}, "expiring_within: 'a week' is not a duration"),
    ({"state": "current"}, "state must be one of valid, expired, all"),
    ({"krl": "/nonexistent/revoked.krl"}, "krl: /nonexistent/revoked.krl does not exist"),
])
def test_bad_filters_name_the_option(issued_log, options, message):
    path, dummy, dummy_ca = issued_log
    with pytest.raises(FleetcaError) as error:
        issued_certificates(path, NOW, **options)
    assert str(error.value).startswith(message), str(error.value)


def test_a_krl_that_is_not_one_is_named(issued_log, tmp_path):
    path, dummy, dummy_ca = issued_log
    garbage = tmp_path / "garbage.krl"
    garbage.write_bytes(b"not a KRL")
    with pytest.raises(FleetcaError, match="^krl: .*garbage.krl is not a valid KRL"):
        issued_certificates(path, NOW, krl=str(garbage))


def test_a_missing_store_is_an_error_and_is_not_created(tmp_path):
    missing = tmp_path / "issued.db"
    with pytest.raises(FleetcaError, match="^store: .*issued.db does not exist"):
        issued_certificates(str(missing), NOW)
    assert not os.path.exists(str(missing))


def test_reading_changes_nothing_in_the_log(issued_log):
    path, dummy, dummy_ca = issued_log
    before = hashlib.sha256(open(path, "rb").read()).hexdigest(), os.stat(path).st_mtime_ns
    issued_certificates(path, NOW, state="all")
    assert (hashlib.sha256(open(path, "rb").read()).hexdigest(), os.stat(path).st_mtime_ns) == before
