# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/report.py: the request of playbook fleetca.ssh.report, a server's record from
its probe, the fleet's JSON and the table. Keys and certificates are ssh-keygen's (host
certificates signed with `ssh-keygen -s -h`), so the record is checked against the real tool."""

import os
import re
import subprocess
import time

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import report
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import UINT64_MAX, FleetcaError

TRUSTED = "/etc/ssh/fleetca_user_ca.pub"
KRL = "/etc/ssh/fleetca_revoked.krl"
MASTER = {"version": 5, "sha256": "a" * 64}
DAY = 86400


def keygen(*args):
    return subprocess.run(["ssh-keygen"] + list(args), check=True, capture_output=True, text=True,
                          env=dict(os.environ, TZ="UTC")).stdout


class Keys:
    """ssh-keygen key pairs in one directory: `line(name)`, `fingerprint(name)`, `certify(...)`."""

    def __init__(self, directory):
        self.directory = directory

    def path(self, name):
        path = str(self.directory / name)
        if not os.path.exists(path):
            keygen("-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path)
        return path

    def line(self, name):
        with open(self.path(name) + ".pub") as handle:
            return handle.read().strip()

    def fingerprint(self, name):
        return keygen("-l", "-E", "sha256", "-f", self.path(name) + ".pub").split()[1]

    def certify(self, ca, name, principals, validity):
        keygen("-q", "-s", self.path(ca), "-h", "-I", "host:" + name, "-n", ",".join(principals),
               "-V", validity, self.path(name) + ".pub")
        with open(self.path(name) + "-cert.pub") as handle:
            return handle.read().strip()


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    return Keys(tmp_path_factory.mktemp("report-keys"))


def probe(made, key="web1_ed25519", cert="", trusted_lines=None, effective=None, hostname="web1"):
    """A probe answer as fleetca.ssh.sshd_info returns it, for one ed25519 host key."""
    trusted_lines = [made.line("user_ca")] if trusted_lines is None else trusted_lines
    return {
        "probed_at": time.time(), "hostname": hostname, "fqdn": hostname + ".example.org",
        "host_keys": {"ed25519": {"path": "/etc/ssh/ssh_host_ed25519_key", "private_exists": True,
                                  "public_key": made.line(key), "certificate": cert or None}},
        "files": {TRUSTED: {"content": "\n".join(trusted_lines) + "\n", "mode": "0644"}},
        "effective": ["port 22", "revokedkeys %s" % KRL, "trustedusercakeys %s" % TRUSTED]
        if effective is None else effective,
    }


def expected(made, **more):
    values = {"user_ca_keys": [made.line("user_ca")], "host_ca_keys": [made.line("host_ca")],
              "krl_master": MASTER, "trusted_user_ca_keys_file": TRUSTED, "revoked_keys": KRL,
              "principals_extra": []}
    values.update(more)
    return values


def good_krl():
    return {"krl_version": 5, "sha256": "a" * 64}


def certified(made, validity="-5m:+52w", principals=("web1", "web1.example.org"), ca="host_ca",
              key="web1_ed25519"):
    return made.certify(ca, key, list(principals), validity)


REQUEST = report.report_request({})


# --- the request ----------------------------------------------------------------------------

def test_the_request_defaults_to_fourteen_days_and_no_file():
    assert report.report_request({}) == {"expiring_within": "+14d", "expiring_within_seconds": 14 * DAY,
                                         "dest": None}


def test_dest_is_made_absolute_against_the_start_directory():
    request = report.report_request({"fleetca_ssh_report_dest": "out/report.json",
                                     "fleetca_ssh_report_expiring_within": "+2w"}, cwd="/srv/ci")
    assert request == {"expiring_within": "+2w", "expiring_within_seconds": 14 * DAY, "dest": "/srv/ci/out/report.json"}
    assert report.report_request({"fleetca_ssh_report_expiring_within": 3600})["expiring_within_seconds"] == 3600


@pytest.mark.parametrize("variables, named", [
    ({"fleetca_ssh_report_dst": "x.json"},
     "unknown variable fleetca_ssh_report_dst: fleetca.ssh.report reads only fleetca_ssh_report_dest, "
     "fleetca_ssh_report_expiring_within"),
    ({"fleetca_ssh_report_expiring_within": "two weeks"}, "fleetca_ssh_report_expiring_within: 'two weeks' is not a duration"),
    ({"fleetca_ssh_report_dest": ["a"]}, "fleetca_ssh_report_dest must be a path on the controller"),
])
def test_a_bad_request_names_the_variable(variables, named):
    with pytest.raises(FleetcaError) as raised:
        report.report_request(variables)
    assert named in str(raised.value)


# --- one server -----------------------------------------------------------------------------

def test_a_good_server_has_no_problems_and_the_fields_ssh_keygen_shows(made, tmp_path):
    line = certified(made, validity="-5m:+52w")
    record = report.server_report(probe(made, cert=line), "web1", good_krl(), expected(made))
    assert record["problems"] == []
    assert record["krl_current"] is True and record["krl_version"] == 5 and record["krl_sha256"] == "a" * 64
    assert record["trusted_user_ca_ok"] is True
    [cert] = record["host_certificates"]
    cert_path = tmp_path / "web1-cert.pub"
    cert_path.write_text(line + "\n")
    listing = keygen("-L", "-f", str(cert_path))
    assert cert["path"] == "/etc/ssh/ssh_host_ed25519_key-cert.pub"
    assert cert["key_type"] == "ssh-ed25519-cert-v01@openssh.com" and cert["key_type"] in listing
    assert cert["valid_before"].endswith("Z") and "to %s" % cert["valid_before"][:-1] in listing
    assert cert["signing_ca_fingerprint"] == made.fingerprint("host_ca") and cert["signing_ca_fingerprint"] in listing
    assert 52 * 7 * DAY - 600 < cert["seconds_left"] <= 52 * 7 * DAY
    assert cert["principals"] == ["web1", "web1.example.org"] and cert["key_id"] == "host:web1_ed25519"


def test_a_krl_behind_the_master_or_missing_is_not_current(made):
    line = certified(made)
    behind = report.server_report(probe(made, cert=line), "web1", {"krl_version": 3, "sha256": "b" * 64},
                                  expected(made))
    assert behind["krl_current"] is False and behind["krl_version"] == 3
    assert behind["problems"] == ["KRL version 3 is behind the master's 5"]
    same_version = report.server_report(probe(made, cert=line), "web1", {"krl_version": 5, "sha256": "c" * 64},
                                        expected(made))
    assert same_version["problems"] == ["KRL version 5 differs from the master's 5"]
    missing = report.server_report(probe(made, cert=line), "web1",
                                   {"failed": True, "msg": "path: %s does not exist" % KRL}, expected(made))
    assert missing["krl_current"] is False and missing["krl_version"] is None and missing["krl_sha256"] is None
    assert missing["problems"] == ["no readable KRL at %s (path: %s does not exist)" % (KRL, KRL)]


def test_trust_must_be_exactly_the_published_keys(made):
    line = certified(made)
    extra = report.server_report(probe(made, cert=line, trusted_lines=[made.line("user_ca"), made.line("stranger")]),
                                 "web1", good_krl(), expected(made))
    assert extra["trusted_user_ca_ok"] is False
    assert extra["problems"] == ["trusts user CA keys the CA host does not publish: %s" % made.fingerprint("stranger")]
    short = report.server_report(probe(made, cert=line, trusted_lines=["# only a comment"]), "web1", good_krl(),
                                 expected(made, user_ca_keys=[made.line("user_ca"), made.line("user_ca_next")]))
    assert short["trusted_user_ca_ok"] is False
    assert short["problems"] == ["does not trust the published user CA keys %s" % ", ".join(
        sorted([made.fingerprint("user_ca"), made.fingerprint("user_ca_next")]))]
    no_file = probe(made, cert=line)
    no_file["files"][TRUSTED] = None
    assert report.server_report(no_file, "web1", good_krl(), expected(made))["problems"] == [
        "no trusted user CA keys file %s" % TRUSTED]
    # the same keys in another order, with comments, are exactly the published set
    rotated = probe(made, cert=line, trusted_lines=[made.line("user_ca_next") + " next", made.line("user_ca")])
    assert report.server_report(rotated, "web1", good_krl(), expected(
        made, user_ca_keys=[made.line("user_ca"), made.line("user_ca_next")]))["trusted_user_ca_ok"] is True


def test_sshd_reading_other_files_than_the_role_s_is_named(made):
    other = probe(made, cert=certified(made), effective=["revokedkeys none", "trustedusercakeys /etc/ssh/other.pub"])
    record = report.server_report(other, "web1", good_krl(), expected(made))
    assert record["trusted_user_ca_ok"] is False
    assert record["problems"] == ["sshd reads RevokedKeys none, not %s" % KRL,
                                  "sshd reads TrustedUserCAKeys /etc/ssh/other.pub, not %s" % TRUSTED]
    # without sshd -T (it failed) the files alone decide
    unknown = probe(made, cert=certified(made), effective=[])
    unknown["effective"] = None
    assert report.server_report(unknown, "web1", good_krl(), expected(made))["problems"] == []


def test_a_misnamed_foreign_or_mismatched_certificate_is_named(made):
    misnamed = report.server_report(probe(made, cert=certified(made, principals=["web2"])), "web1", good_krl(),
                                    expected(made))
    assert misnamed["host_certificates"][0]["problems"] == [
        "does not name web1, web1.example.org (principals: web2)"]
    foreign = report.server_report(probe(made, cert=certified(made, ca="rogue_ca")), "web1", good_krl(),
                                   expected(made))
    assert foreign["host_certificates"][0]["problems"] == [
        "signed by %s, not a host CA key the CA host publishes" % made.fingerprint("rogue_ca")]
    other_key = report.server_report(probe(made, cert=certified(made, key="web2_ed25519")), "web1", good_krl(),
                                     expected(made))
    assert other_key["host_certificates"][0]["problems"] == [
        "certifies another key than /etc/ssh/ssh_host_ed25519_key.pub"]


def test_a_staged_key_of_an_unfinished_rotation_is_named(made):
    staged = probe(made, cert=certified(made))
    staged["host_keys"]["ed25519"]["staged_files"] = ["/etc/ssh/ssh_host_ed25519_key.fleetca-new"]
    record = report.server_report(staged, "web1", good_krl(), expected(made))
    assert record["problems"] == ["ed25519 host key rotation left unfinished: "
                                  "/etc/ssh/ssh_host_ed25519_key.fleetca-new (rerun fleetca.ssh.enroll)"]


def test_a_key_without_certificate_or_an_unreadable_one_is_named(made):
    bare = report.server_report(probe(made), "web1", good_krl(), expected(made))
    assert bare["host_certificates"] == []
    assert bare["problems"] == ["ed25519 host key has no certificate (/etc/ssh/ssh_host_ed25519_key-cert.pub): "
                                "clients fall back to a host key prompt"]
    garbage = report.server_report(probe(made, cert="ssh-ed25519-cert-v01@openssh.com AAAA"), "web1", good_krl(),
                                   expected(made))
    [cert] = garbage["host_certificates"]
    assert cert["key_type"] is None and "is malformed" in cert["problems"][0]
    marked = report.fleet_report({"web1": garbage}, MASTER, [], [], REQUEST)["servers"]["web1"]
    assert marked["host_certificates"][0]["expired"] is False
    assert marked["problems"] == ["/etc/ssh/ssh_host_ed25519_key-cert.pub: " + cert["problems"][0]]
    broken_key = probe(made, cert=certified(made))
    broken_key["host_keys"]["ed25519"]["public_key"] = "ssh-ed25519 AAAA"
    record = report.server_report(broken_key, "web1", good_krl(), expected(made))
    assert "/etc/ssh/ssh_host_ed25519_key.pub" in record["host_certificates"][0]["problems"][0]


# --- the fleet and the table ----------------------------------------------------------------

def fleet(made, now=None):
    good = report.server_report(probe(made, cert=certified(made)), "web1", good_krl(), expected(made))
    short = certified(made, validity="-5m:+1h", key="web2_ed25519", principals=["web2", "web2.example.org"])
    drifting = report.server_report(
        probe(made, key="web2_ed25519", hostname="web2", cert=short,
              trusted_lines=[made.line("user_ca"), made.line("stranger")]),
        "web2", {"krl_version": 3, "sha256": "b" * 64}, expected(made))
    expiring = [{"serial": 7, "cert_type": "user", "key_id": "alice@default", "principals": ["alice"],
                 "valid_before": "2030-01-01T00:00:00Z", "valid_before_epoch": int(time.time()) + 3 * 3600,
                 "requester": "alice", "revoked": False}]
    return report.fleet_report({"web2": drifting, "web1": good}, MASTER, expiring, ["web3"], REQUEST, now=now)


def test_the_fleet_json_has_the_contract_s_shape_and_flags_expiry(made):
    result = fleet(made)
    assert set(result) >= {"master", "servers", "expiring"}
    assert result["master"] == {"krl_version": 5, "sha256": "a" * 64}
    assert sorted(result["servers"]) == ["web1", "web2"] and result["unreachable"] == ["web3"]
    for record in result["servers"].values():
        assert set(record) >= {"krl_version", "krl_sha256", "krl_current", "trusted_user_ca_ok", "host_certificates"}
        for cert in record["host_certificates"]:
            assert set(cert) >= {"path", "key_type", "valid_before", "seconds_left", "signing_ca_fingerprint"}
    good, drifting = result["servers"]["web1"], result["servers"]["web2"]
    assert good["problems"] == [] and good["host_certificates"][0]["expiring"] is False
    assert drifting["host_certificates"][0]["expiring"] is True and drifting["host_certificates"][0]["expired"] is False
    assert re.match(r"host certificate /etc/ssh/ssh_host_ed25519_key-cert\.pub expires in (59m|1h 00m) \(valid before ",
                    drifting["problems"][0]), drifting["problems"]
    assert drifting["problems"][1:] == ["KRL version 3 is behind the master's 5",
                                        "trusts user CA keys the CA host does not publish: %s"
                                        % made.fingerprint("stranger")]
    assert result["expiring"][0]["key_id"] == "alice@default"


def test_an_expired_certificate_is_flagged_expired(made):
    line = certified(made, validity="-2d:-1d")
    record = report.server_report(probe(made, cert=line), "web1", good_krl(), expected(made))
    result = report.fleet_report({"web1": record}, MASTER, [], [], REQUEST)
    cert = result["servers"]["web1"]["host_certificates"][0]
    assert cert["seconds_left"] == 0 and cert["expired"] is True and cert["expiring"] is False
    assert "expired (valid before %s)" % cert["valid_before"] in result["servers"]["web1"]["problems"][0]
    assert "!! expired" in "\n".join(report.report_lines(result))


def test_the_table_marks_every_problem_and_aligns_columns(made):
    lines = report.report_lines(fleet(made))
    assert lines[0].startswith("fleetca.ssh.report at ") and "2 servers, master KRL version 5; 1 with problems, " \
        "1 unreachable; 1 certificate expiring within +14d" in lines[0]
    header = lines[1]
    assert header.split() == ["SERVER", "HOST", "KEY", "VALID", "UNTIL", "LEFT", "KRL", "USER", "CA"]
    rows = dict((line.split()[0], line) for line in lines[2:5])
    assert "!!" not in rows["web1"] and "v5 current" in rows["web1"] and rows["web1"].rstrip().endswith("ok")
    assert re.search(r"!! (59m|1h 00m)", rows["web2"])
    assert "!! v3, master v5" in rows["web2"] and "!! mismatch" in rows["web2"]
    assert "!! unreachable" in rows["web3"]
    # every column starts where its header does
    for column in ("VALID UNTIL", "KRL", "USER CA"):
        start = header.index(column)
        assert all(row[start - 2:start] == "  " and row[start] != " " for row in rows.values() if len(row) > start)
    assert "Problems:" in lines
    assert any(line.startswith("!! web2: KRL version 3 is behind the master's 5") for line in lines)
    assert "Certificates in the issuance log expiring within +14d:" in lines
    assert any(line.split()[:3] == ["7", "user", "alice@default"] and "3h" in line and line.split()[-2:] == ["alice", "no"]
               for line in lines)
    assert lines[-1] == "!! not reported (unreachable or failed): web3"


def test_a_quiet_fleet_says_so():
    result = report.fleet_report({}, MASTER, [], [], REQUEST)
    assert report.report_lines(result)[1:] == ["No server in group ssh_servers.",
                                               "No certificate in the issuance log expires within +14d."]


@pytest.mark.parametrize("seconds, text", [
    (0, "expired"), (30, "1m"), (59 * 60, "59m"), (5 * 3600 + 120, "5h 02m"), (364 * DAY + 23 * 3600, "364d 23h"),
    (UINT64_MAX, "forever")])
def test_spans_are_coarse_and_readable(seconds, text):
    assert report.span_text(seconds) == text
