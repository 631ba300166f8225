# SPDX-License-Identifier: GPL-3.0-or-later
"""The issuance log: records, selectors, and unique serials under real concurrency."""

import json
import multiprocessing
import os
import sqlite3
import stat

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import certs, keys, krl_request, signers, store
from ansible_collections.fleetca.ssh.plugins.module_utils.store import IssuanceLog
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

NOW = 1_800_000_000
PROCESSES = 32
CERTS_PER_PROCESS = 5


def new_public_key():
    return keys.parse_public_key("public key", signers.public_key_line(signers.generate_private_key("ed25519")))


def request(public_key, principals, key_id):
    return certs.CertRequest(certs.USER_CERT, public_key, principals, key_id, NOW, NOW + 3600)


def issue(log, signer, jobs):
    """Sign (request, requester) jobs with serials from the log."""
    def sign_batch(serials):
        return [(certs.sign_certificate(req, serial, signer), requester)
                for (req, requester), serial in zip(jobs, serials)]
    return log.issue(sign_batch, len(jobs))


def test_records_every_field_and_finds_by_selector(tmp_path):
    signer = signers.KeySigner(signers.generate_private_key("ed25519"))
    log = IssuanceLog(str(tmp_path / "issued.db"))
    subject = new_public_key()
    issued = issue(log, signer, [(request(subject, ["alice", "ops"], "alice@laptop"), "web1"),
                                 (request(subject, ["bob"], "bob@laptop"), "web2")])
    assert [c.serial for c in issued] == [1, 2]
    (alice,) = log.find(key_id="alice@laptop")
    assert alice.serial == 1
    assert alice.principals == ["alice", "ops"]
    assert alice.requester == "web1"
    assert alice.cert_type == "user"
    assert alice.subject_fingerprint == subject.fingerprint
    assert alice.ca_fingerprint == signer.public_key.fingerprint
    assert keys.parse_public_key("public key", alice.ca_public_key) == signer.public_key
    assert certs.parse_certificate("certificate", alice.certificate).serial == 1
    assert (alice.valid_after, alice.valid_before) == (NOW, NOW + 3600)
    assert [r.serial for r in log.find(principal="ops")] == [1]
    assert [r.serial for r in log.find(requester="web2")] == [2]
    assert log.find(principal="nobody") == []
    assert stat.S_IMODE(os.stat(tmp_path / "issued.db").st_mode) == 0o600


def test_principals_are_stored_as_json_dumps_writes_them(tmp_path):
    """Logs written before keep being read: the column is exactly what json.dumps made."""
    signer = signers.KeySigner(signers.generate_private_key("ed25519"))
    log = IssuanceLog(str(tmp_path / "issued.db"))
    principals = ["jos\u00e9", 'quo"te', "back\\slash", "\u2603", "\U0001f511"]
    issue(log, signer, [(request(new_public_key(), principals, "jose"), None)])
    (record,) = log.find(key_id="jose")
    assert record.principals == principals
    db = sqlite3.connect(str(tmp_path / "issued.db"))
    assert db.execute("SELECT principals FROM certificates").fetchone()[0] == json.dumps(principals)
    db.close()


def test_one_batch_of_two_cas_records_each_certificates_own_ca(tmp_path):
    first, second = (signers.KeySigner(signers.generate_private_key(kind)) for kind in ("ed25519", "ecdsa"))
    log = IssuanceLog(str(tmp_path / "issued.db"))
    log.record([(certs.sign_certificate(request(new_public_key(), [name], name), serial, signer), None)
                for name, serial, signer in (("a", 1, first), ("b", 2, second), ("c", 3, first))])
    for key_id, signer in (("a", first), ("b", second), ("c", first)):
        (record,) = log.find(key_id=key_id)
        assert record.ca_fingerprint == signer.public_key.fingerprint
        assert keys.parse_public_key("public key", record.ca_public_key) == signer.public_key
    assert [r.serial for r in log.find(ca_fingerprint=second.public_key.fingerprint)] == [2]


def test_failed_signing_records_nothing_and_burns_no_serial(tmp_path):
    log = IssuanceLog(str(tmp_path / "issued.db"))

    def failing(serials):
        raise FleetcaError("boom")

    with pytest.raises(FleetcaError):
        log.issue(failing, 3)
    signer = signers.KeySigner(signers.generate_private_key("ed25519"))
    (cert,) = issue(log, signer, [(request(new_public_key(), ["a"], "a"), None)])
    assert cert.serial == 1


def test_caller_chosen_serials_are_recorded_and_skipped_by_allocation(tmp_path):
    signer = signers.KeySigner(signers.generate_private_key("ed25519"))
    log = IssuanceLog(str(tmp_path / "issued.db"))
    big = 2 ** 64 - 2
    chosen = certs.sign_certificate(request(new_public_key(), ["a"], "a"), big, signer)
    log.record([(chosen, None), (certs.sign_certificate(request(new_public_key(), ["b"], "b"), 40, signer), None)])
    assert [r.serial for r in log.find(key_id="a")] == [big]
    (after,) = issue(log, signer, [(request(new_public_key(), ["c"], "c"), None)])
    assert after.serial == 41


def test_a_file_that_is_not_sqlite_is_a_clear_error(tmp_path):
    path = tmp_path / "issued.db"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(FleetcaError, match="not a usable issuance log"):
        IssuanceLog(str(path))


def _worker(path, barrier, results, index):
    signer = signers.KeySigner(signers.generate_private_key("ed25519"))
    subject = new_public_key()
    barrier.wait()  # start together, so that the processes collide
    log = IssuanceLog(path)
    serials = []
    for number in range(CERTS_PER_PROCESS):
        (cert,) = issue(log, signer, [(request(subject, ["p%d" % index], "w%d-%d" % (index, number)), None)])
        serials.append(cert.serial)
    log.close()
    results.put(serials)


def test_serials_stay_unique_with_32_concurrent_processes(tmp_path):
    path = str(tmp_path / "issued.db")
    IssuanceLog(path).close()
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    workers = [context.Process(target=_worker, args=(path, barrier, results, i)) for i in range(PROCESSES)]
    for worker in workers:
        worker.start()
    per_process = [results.get(timeout=120) for worker in workers]
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0
    everything = [s for serials in per_process for s in serials]
    assert len(everything) == PROCESSES * CERTS_PER_PROCESS
    assert len(set(everything)) == len(everything)
    assert min(everything) == 1 and max(everything) == len(everything)
    for serials in per_process:
        assert serials == sorted(serials)  # monotonic for each signer
    rows = sqlite3.connect(path).execute("SELECT serial FROM certificates").fetchall()
    assert sorted(r[0] for r in rows) == sorted(everything)


# --- issued selectors (the krl module's `issued`) --------------------------------

def test_issued_selectors_revoke_by_serial_under_the_signing_ca(tmp_path):
    ca, other_ca = (signers.KeySigner(signers.generate_private_key("ed25519")) for dummy in range(2))
    subject = new_public_key()
    log = IssuanceLog(str(tmp_path / "issued.db"))
    log.record([(certs.sign_certificate(request(subject, ["alice"], "alice"), 1, ca), "ws1"),
                (certs.sign_certificate(request(subject, ["alice", "ops"], "alice"), 2, other_ca), "ws2"),
                (certs.sign_certificate(request(subject, ["web.example"], "web"), 3, ca), "web")])
    records = store.select_issued(log, [{"principal": "alice", "key_id": None}, {"host": "web"}])
    request_ = krl_request.build_revocations(issued_records=records)
    assert set(request_.serials) == {ca.public_key.blob, other_ca.public_key.blob}
    assert list(request_.serials[ca.public_key.blob].ranges()) == [(1, 1), (3, 3)]
    only_ca = store.select_issued(log, [{"key_id": "alice"}], ca.public_key.blob)
    assert [r.serial for r in only_ca] == [1]
    with pytest.raises(FleetcaError, match=r"issued\[0\]: no certificate in the issuance log has host 'nope'"):
        store.select_issued(log, [{"host": "nope"}])
    with pytest.raises(FleetcaError, match=r"issued\[0\]: give exactly one"):
        store.select_issued(log, [{"host": "web", "key_id": "web"}])


def test_expired_serials_are_those_whose_every_certificate_has_ended(tmp_path):
    ca, other_ca = (signers.KeySigner(signers.generate_private_key(key_type)) for key_type in ("ed25519", "ecdsa"))

    def cert(signer, serial, valid_before):
        req = certs.CertRequest(certs.USER_CERT, new_public_key(), ["a"], "a", NOW - 7200, valid_before)
        return certs.sign_certificate(req, serial, signer), None

    log = IssuanceLog(str(tmp_path / "issued.db"))
    log.record([cert(ca, 1, NOW - 1), cert(ca, 2, NOW + 1), cert(ca, 3, NOW),  # NOW itself: sshd refuses
                cert(ca, 4, NOW - 1), cert(ca, 4, NOW + 60),                   # reissued, one still valid
                cert(other_ca, 1, NOW + 60), cert(ca, 2 ** 64 - 2, NOW - 1)])
    by_ca, any_ca = log.expired_serials(NOW)
    assert list(by_ca) == [ca.public_key.fingerprint] and sorted(by_ca[ca.public_key.fingerprint]) == [1, 3, 2 ** 64 - 2]
    assert sorted(any_ca) == [3, 2 ** 64 - 2]  # serial 1 of other_ca is still valid


def test_read_only_log_finds_by_serial_and_time_and_cannot_write(tmp_path):
    signer = signers.KeySigner(signers.generate_private_key("ed25519"))
    path = str(tmp_path / "issued.db")
    log = IssuanceLog(path)
    issue(log, signer, [(request(new_public_key(), ["alice"], "alice"), "alice")])
    big = certs.CertRequest(certs.HOST_CERT, new_public_key(), ["web1"], "web1", NOW, NOW + 7200, serial=2 ** 64 - 2)
    log.record([(certs.sign_certificate(big, 2 ** 64 - 2, signer), "web1")])
    log.close()
    reader = IssuanceLog(path, read_only=True)
    try:
        assert [r.key_id for r in reader.find(serial=2 ** 64 - 2)] == ["web1"]
        assert [r.key_id for r in reader.find(valid_at=NOW + 1800)] == ["alice", "web1"]
        assert [r.key_id for r in reader.find(valid_at=NOW + 3600)] == ["web1"]  # valid before, not at, its end
        assert [r.key_id for r in reader.find(expired_at=NOW + 5000)] == ["alice"]
        assert [r.key_id for r in reader.find(ends_by=NOW + 3600, cert_type="user")] == ["alice"]
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            issue(reader, signer, [(request(new_public_key(), ["bob"], "bob"), "bob")])
    finally:
        reader.close()
    assert [r.key_id for r in IssuanceLog(path).find()] == ["alice", "web1"]


def test_read_only_open_of_a_missing_or_foreign_file_names_the_store(tmp_path):
    with pytest.raises(FleetcaError, match="^store: .*missing.db does not exist"):
        IssuanceLog(str(tmp_path / "missing.db"), read_only=True)
    assert not os.path.exists(str(tmp_path / "missing.db"))
    foreign = tmp_path / "foreign.db"
    foreign.write_bytes(b"SQLite? no" * 100)
    with pytest.raises(FleetcaError, match="^store: .*foreign.db is not a usable issuance log"):
        IssuanceLog(str(foreign), read_only=True)
