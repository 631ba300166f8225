# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/cert_jobs.py: what one cert call does with each certificate, signed in a real SQLite log."""

import os
import sqlite3

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import cert_jobs, certs, keys, signers
from ansible_collections.fleetca.ssh.plugins.module_utils.cert_requests import CERT_SPEC, SIGNER_SPEC
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

NOW = 1_800_000_000


def key_line():
    return signers.public_key_line(signers.generate_private_key("ed25519"))


def module_params(requests=None, **given):
    """The parameters as AnsibleModule leaves them: every option present, its default or None."""
    params = dict((name, spec.get("default")) for name, spec in dict(SIGNER_SPEC, **CERT_SPEC).items())
    params.update(given, requests=requests)
    return params


@pytest.fixture
def ca(tmp_path):
    path = str(tmp_path / "ca")
    private_key = signers.generate_private_key("ed25519")
    with open(path, "wb") as handle:
        handle.write(signers.private_key_bytes(private_key))
    with open(path + ".pub", "w") as handle:
        handle.write(signers.public_key_line(private_key) + "\n")
    return path


def log_rows(store):
    db = sqlite3.connect(store)
    try:
        return db.execute("SELECT serial, key_id, requester FROM certificates ORDER BY serial").fetchall()
    finally:
        db.close()


def test_a_batch_signs_what_is_missing_and_keeps_what_is_current(ca, tmp_path):
    store = str(tmp_path / "issued.db")
    first, second = key_line(), key_line()
    params = module_params([{"public_key": first, "principals": ["web1"], "requester": "web1"},
                            {"public_key": second, "principals": ["web2"], "requester": "web2"}],
                           ca_key=ca, store=store, type="host", valid_for="+52w", renew_before="+4w")
    jobs = cert_jobs.jobs_of(params, NOW)
    expected_ca = cert_jobs.ca_public_key(params)
    assert [job.reason for job in cert_jobs.pending_jobs(jobs, expected_ca, NOW)] == ["no certificate yet"] * 2
    signer = cert_jobs.make_signer(params)
    cert_jobs.sign_jobs(signer, expected_ca, jobs, store)
    assert log_rows(store) == [(1, "web1", "web1"), (2, "web2", "web2")]

    again = module_params([{"public_key": first, "principals": ["web1"],
                            "current_certificate": jobs[0].certificate.to_line()},
                           {"public_key": second, "principals": ["web2"], "current_certificate": "not a cert"}],
                          ca_key=ca, store=store, type="host", valid_for="+52w", renew_before="+4w")
    jobs = cert_jobs.jobs_of(again, NOW + 3600)
    pending = cert_jobs.pending_jobs(jobs, expected_ca, NOW + 3600)
    assert [job.reason for job in jobs] == [None, "no certificate yet"]  # an unreadable one is replaced
    cert_jobs.sign_jobs(signer, expected_ca, pending, store)
    assert [row[0] for row in log_rows(store)] == [1, 2, 3]
    result = cert_jobs.result_of(again, jobs, True)
    assert [(entry["changed"], entry["serial"]) for entry in result["certificates"]] == [(False, 1), (True, 3)]
    assert certs.parse_certificate("certificate", result["certificates"][1]["certificate"]).principals == ["web2"]


def test_a_private_key_that_is_not_the_expected_ca_signs_nothing(ca, tmp_path):
    store = str(tmp_path / "issued.db")
    params = module_params(ca_key=ca, store=store, type="user", public_key=key_line(), principals=["alice"],
                           valid_for="+1h")
    jobs = cert_jobs.jobs_of(params, NOW)
    other_ca = keys.parse_public_key("ca_public_key", key_line())
    pending = cert_jobs.pending_jobs(jobs, other_ca, NOW)
    with pytest.raises(FleetcaError, match="^ca_public_key \\(or CA_KEY.pub\\) does not match the CA private key$"):
        cert_jobs.sign_jobs(cert_jobs.make_signer(params), other_ca, pending, store)
    assert not os.path.exists(store)
    assert pending[0].certificate is None


def test_one_certificate_is_answered_at_the_top_level_and_a_batch_as_a_list(ca, tmp_path):
    single = module_params(ca_key=ca, type="user", public_key=key_line(), principals=["alice"], valid_for="+1h")
    jobs = cert_jobs.jobs_of(single, NOW)
    cert_jobs.pending_jobs(jobs, cert_jobs.ca_public_key(single), NOW)
    result = cert_jobs.result_of(single, jobs, True)
    assert (result["changed"], result["reason"], "certificates" in result) == (True, "no certificate yet", False)
    assert (result["valid_after"], result["valid_before"]) == (NOW - 300, NOW + 3600)  # 5 minutes back for skew

    batch = module_params([{"public_key": key_line(), "principals": ["h%d" % i]} for i in range(130)],
                          ca_key=ca, type="host", valid_for="+1d")
    result = cert_jobs.result_of(batch, cert_jobs.jobs_of(batch, NOW), False)
    assert len(result["certificates"]) == 130
    echoed = result["invocation"]["module_args"]["requests"]
    assert len(echoed) == 101 and echoed[-1] == "... and 30 more"


def test_the_diff_shows_the_fields_before_and_what_will_be_signed(ca, tmp_path):
    params = module_params(ca_key=ca, type="user", public_key=key_line(), principals=["alice"], valid_for="+1h",
                           key_id="alice@laptop")
    jobs = cert_jobs.jobs_of(params, NOW)
    cert_jobs.pending_jobs(jobs, cert_jobs.ca_public_key(params), NOW)
    assert cert_jobs.diff_of(jobs) == dict(before="", after="# alice@laptop\n(to be signed: no certificate yet)\n")
    cert_jobs.sign_jobs(cert_jobs.make_signer(params), cert_jobs.ca_public_key(params), jobs,
                        str(tmp_path / "issued.db"))
    assert 'Key ID: "alice@laptop"' in cert_jobs.diff_of(jobs)["after"]


def test_a_bad_request_names_its_element_and_option(ca):
    params = module_params([{"public_key": key_line(), "principals": ["a"]}, {"public_key": key_line()}],
                           ca_key=ca, type="user", valid_for="+1h")
    with pytest.raises(FleetcaError, match=r"^requests\[1\]\.principals is empty"):
        cert_jobs.jobs_of(params, NOW)
    params = module_params(ca_key=ca, type="user", public_key=key_line(), principals=["a"], valid_for="soon")
    with pytest.raises(FleetcaError, match="^valid_for"):
        cert_jobs.jobs_of(params, NOW)


def test_the_default_store_is_beside_the_ca_key(ca):
    assert cert_jobs.default_store(module_params(ca_key=ca)) == os.path.join(os.path.dirname(ca), "issued.db")
    with pytest.raises(FleetcaError, match="^store is required"):
        cert_jobs.default_store(module_params(use_agent=True, ca_public_key=key_line()))
