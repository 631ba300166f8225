# SPDX-License-Identifier: GPL-3.0-or-later
"""fleetca.ssh.issued_info through Ansible: its answers checked against certificates this test signed
with fleetca.ssh.cert (read back with ssh-keygen -L and -l), revoked with fleetca.ssh.krl."""

import hashlib
import os

import pytest
from fleetca_testing import openssh_keys

PROFILES = {"ops": {"principals": ["{user}", "ops"], "valid_for": "+8h", "max_valid_for": "+12h"}}
USERS = {"alice": {"profiles": ["default", "ops"]}, "bob": {"profiles": ["default"]}}


def info_task(name, store, ignore_errors=False, **filters):
    entry = {"name": name, "register": name, "fleetca.ssh.issued_info": dict(store=store, **filters)}
    if ignore_errors:
        entry["ignore_errors"] = True
    return entry


def fingerprint(run_cmd, path):
    """SHA256:... of the key a file holds, as `ssh-keygen -l` prints it."""
    return run_cmd(["ssh-keygen", "-l", "-f", str(path)]).stdout.split()[1]


@pytest.fixture(scope="module")
def signed(ansible_runner, tmp_path_factory, make_key):
    """Certificates signed through fleetca.ssh.cert: alice (ops, 8 h) and bob (default, 16 h) under the
    policy, two host certificates (52 weeks), one host certificate that expired in 2020; bob's revoked."""
    workdir = tmp_path_factory.mktemp("issued-info")
    ca = make_key("issued-info-ca")
    subjects = dict((name, make_key("issued-info-" + name)) for name in ("alice", "bob", "web1", "web2", "old"))
    store, krl = str(workdir / "issued.db"), str(workdir / "revoked.krl")
    paths = dict((name, str(workdir / ("%s-cert.pub" % name))) for name in subjects)
    runner = ansible_runner(workdir / "ansible")
    people = [dict(person="alice", profile="ops", public_key_path=subjects["alice"].pub_path, path=paths["alice"]),
              dict(person="bob", public_key_path=subjects["bob"].pub_path, path=paths["bob"])]
    hosts = [dict(public_key_path=subjects[name].pub_path, path=paths[name], principals=[name, name + ".example.com"],
                  requester=name) for name in ("web1", "web2")]
    tasks = [
        {"name": "people", "fleetca.ssh.cert": dict(ca_key=ca.path, store=store, user_cert_profiles=PROFILES,
                                                    users=USERS, requests=people)},
        {"name": "hosts", "fleetca.ssh.cert": dict(ca_key=ca.path, store=store, type="host", valid_for="+52w",
                                                   requests=hosts)},
        {"name": "old", "fleetca.ssh.cert": dict(ca_key=ca.path, store=store, type="host", principals=["old"],
                                                 public_key_path=subjects["old"].pub_path, path=paths["old"],
                                                 valid_from="20190101", valid_to="20200101", requester="old")},
    ]
    play = runner.run(tasks)
    assert play.returncode == 0, play.output
    bob = openssh_keys.parse_ssh_keygen_listing(openssh_keys.ssh_keygen_list(paths["bob"]))
    revoke = runner.run([{"name": "revoke", "fleetca.ssh.krl": dict(path=krl, ca_public_key=ca.pub_path,
                                                                    serials=[int(bob["Serial"])])}])
    assert revoke.returncode == 0, revoke.output
    return dict(runner=runner, store=store, krl=krl, paths=paths, ca=ca, subjects=subjects)


def listing(path):
    return openssh_keys.parse_ssh_keygen_listing(openssh_keys.ssh_keygen_list(path))


def test_answers_match_the_certificates_signed(signed, run_cmd):
    play = signed["runner"].run([info_task("valid", signed["store"], krl=signed["krl"])])
    assert play.returncode == 0, play.output
    assert play.results["valid"]["changed"] is False
    found = play.results["valid"]["certificates"]
    assert [entry["requester"] for entry in found] == ["alice", "bob", "web1", "web2"]  # not the expired one
    for entry in found:
        name = entry["requester"]
        fields = listing(signed["paths"][name])
        assert entry["serial"] == int(fields["Serial"]), name
        assert '"%s"' % entry["key_id"] == fields["Key ID"], name
        assert entry["principals"] == fields["Principals"], name
        assert entry["cert_type"] == ("host" if name.startswith("web") else "user")
        start, end = fields["Valid"].split("from ", 1)[1].split(" to ")
        assert (entry["valid_after"], entry["valid_before"]) == (start + "Z", end + "Z"), name
        assert entry["public_key_fingerprint"] == fingerprint(run_cmd, signed["subjects"][name].pub_path)
        assert entry["signing_ca_fingerprint"] == fingerprint(run_cmd, signed["ca"].pub_path)
        assert entry["revoked"] is (name == "bob"), name
    assert [entry["key_id"] for entry in found[:2]] == ["alice@ops", "bob@default"]


def test_filters_as_a_user_asks(signed):
    store = signed["store"]
    play = signed["runner"].run([
        info_task("alice", store, requester="alice"),
        info_task("ops", store, principal="ops"),
        info_task("hosts", store, cert_type="host", state="all"),
        info_task("expired", store, state="expired"),
        info_task("within_12h", store, expiring_within="+12h"),
        info_task("within_17h", store, expiring_within="+17h"),
        info_task("by_key_id", store, key_id="web2", state="all"),
    ])
    assert play.returncode == 0, play.output

    def requesters(name):
        return [entry["requester"] for entry in play.results[name]["certificates"]]

    assert requesters("alice") == ["alice"] and requesters("ops") == ["alice"]
    assert requesters("hosts") == ["web1", "web2", "old"]
    assert requesters("expired") == ["old"]
    assert play.results["expired"]["certificates"][0]["valid_before"] == "2020-01-01T00:00:00Z"
    assert requesters("within_12h") == ["alice"] and requesters("within_17h") == ["alice", "bob"]
    assert requesters("by_key_id") == ["web2"]
    assert "revoked" not in play.results["alice"]["certificates"][0]  # no krl given


def test_check_mode_answers_the_same_and_nothing_changes(signed):
    before = hashlib.sha256(open(signed["store"], "rb").read()).hexdigest()
    tasks = [info_task("all", signed["store"], state="all", krl=signed["krl"])]
    normal, check = signed["runner"].run(tasks), signed["runner"].run(tasks, check=True)
    assert normal.returncode == 0 and check.returncode == 0, check.output
    assert check.results["all"]["certificates"] == normal.results["all"]["certificates"]
    assert len(normal.results["all"]["certificates"]) == 5
    assert hashlib.sha256(open(signed["store"], "rb").read()).hexdigest() == before


def test_bad_input_fails_naming_the_option_and_creates_nothing(signed, tmp_path):
    missing = str(tmp_path / "nowhere.db")
    play = signed["runner"].run([
        info_task("missing_store", missing, ignore_errors=True),
        info_task("missing_krl", signed["store"], ignore_errors=True, krl=str(tmp_path / "nowhere.krl")),
        info_task("expired_and_expiring", signed["store"], ignore_errors=True, state="expired",
                  expiring_within="+7d"),
        info_task("bad_span", signed["store"], ignore_errors=True, expiring_within="next week"),
        info_task("bad_state", signed["store"], ignore_errors=True, state="current"),
    ])
    assert play.recap["ignored"] == 5, play.output
    expected = {"missing_store": "store: %s does not exist" % missing,
                "missing_krl": "krl: %s does not exist" % (tmp_path / "nowhere.krl"),
                "expired_and_expiring": "expiring_within selects certificates still valid",
                "bad_span": "expiring_within: 'next week' is not a duration",
                "bad_state": "state"}
    for name, text in expected.items():
        assert play.results[name]["failed"] is True
        assert text in play.results[name]["msg"], (name, play.results[name]["msg"])
    assert not os.path.exists(missing)
