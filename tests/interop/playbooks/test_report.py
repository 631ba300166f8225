# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/report.yml against a real fleet: the ca role on the controller, two Debian 12
servers in systemd containers (tests/bin/containers.sh; Ansible reaches them with docker exec)
enrolled by fleetca.ssh.enroll. One of them is then made to drift by hand, as an operator or a
restored backup would: an older KRL copied over the installed one, its ed25519 host certificate
re-signed to expire in an hour, a stranger's key appended to its trusted user CA keys. The
report must tell it from the good one, change nothing, and fail naming a server it cannot reach."""

import hashlib
import json
import os
import re
import time

import pytest
from fleetca_testing.commands import run, venv_tool

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
CONTAINERS = os.path.join(REPO, "tests", "bin", "containers.sh")
NETWORK = "fleetca-report"
GOOD, DRIFT = "report-good", "report-drift"
HOST_CERT = "/etc/ssh/ssh_host_ed25519_key-cert.pub"
INSTALLED_KRL = "/etc/ssh/fleetca_revoked.krl"
TRUSTED = "/etc/ssh/fleetca_user_ca.pub"
# What the report must not change on a server.
WATCHED = ["/etc/ssh/ssh_host_ed25519_key-cert.pub", "/etc/ssh/ssh_host_rsa_key-cert.pub", INSTALLED_KRL, TRUSTED,
           "/etc/ssh/sshd_config.d/00-fleetca.conf"]


@pytest.fixture(scope="module")
def servers():
    """Two booted systemd containers on their own docker network, removed at the end."""
    run([CONTAINERS, "up", NETWORK, GOOD + ":12", DRIFT + ":12"])
    try:
        yield [GOOD, DRIFT]
    finally:
        run([CONTAINERS, "down", NETWORK, GOOD, DRIFT], check=False)


def docker_exec(name, *command):
    return run(["docker", "exec", name] + list(command)).stdout


def write_inventory(workdir, servers, down=False):
    hosts = dict((name, {"ansible_connection": "community.docker.docker",
                         "ansible_python_interpreter": "/usr/bin/python3"}) for name in servers)
    if down:
        hosts["report-down"] = {"ansible_host": "127.0.0.1", "ansible_port": 1, "ansible_connection": "ssh"}
    inventory = {"all": {
        "vars": {"fleetca_ssh_ca_dir": str(workdir / "ca")},
        "children": {"ssh_ca": {"hosts": {"ca": {"ansible_connection": "local",
                                                 "ansible_python_interpreter": venv_tool("python")}}},
                     "ssh_servers": {"hosts": hosts}}}}
    path = workdir / ("inventory-down.json" if down else "inventory.json")
    path.write_text(json.dumps(inventory))
    return str(path)


def krl_version(path):
    return int(re.search(r"# KRL version (\d+)", run(["ssh-keygen", "-Q", "-l", "-f", str(path)]).stdout).group(1))


def fingerprint(path):
    return run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(path)]).stdout.split()[1]


def watched(names):
    """SHA-256 of every watched file of every server."""
    return dict((name, docker_exec(name, "sha256sum", *WATCHED)) for name in names)


def recap(output):
    """PLAY RECAP counters per host: {host: {"ok": n, "changed": n, ...}}."""
    rows = re.findall(r"^(\S+)\s*:\s*(ok=.*)$", output, re.M)
    return dict((host, dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", counters))) for host, counters in rows)


def drift(workdir, sign_cert, old_krl, make_key):
    """DRIFT by hand: the older KRL back in place, a host certificate ending in an hour, and a
    stranger's key among its trusted user CA keys."""
    run(["docker", "cp", str(old_krl), "%s:%s" % (DRIFT, INSTALLED_KRL)])
    host_key = docker_exec(DRIFT, "cat", "/etc/ssh/ssh_host_ed25519_key.pub").strip()
    short = workdir / "short-cert.pub"
    sign_cert(str(workdir / "ca" / "host_ca"), host_key, cert_type="host", principals=[DRIFT],
              key_id="host:%s:ed25519" % DRIFT, valid_before=int(time.time()) + 3600, path=short)
    run(["docker", "cp", str(short), "%s:%s" % (DRIFT, HOST_CERT)])
    stranger = make_key("report-stranger-ca")
    docker_exec(DRIFT, "sh", "-c", "echo '%s' >> %s" % (stranger.public_line, TRUSTED))
    return short, fingerprint(stranger.pub_path)


def test_the_report_tells_the_drifting_server_from_the_good_one_and_changes_nothing(
        playbook, workdir, servers, sign_cert, make_key):
    inventory = write_inventory(workdir, servers)
    code, output = playbook(inventory, "enroll.yml")
    assert code == 0, output
    old_krl = workdir / "old.krl"
    run(["docker", "cp", "%s:%s" % (DRIFT, INSTALLED_KRL), str(old_krl)])
    code, output = playbook(inventory, "revoke.yml", {"fleetca_ssh_revoke_serials": [4242]})
    assert code == 0, output
    short, stranger = drift(workdir, sign_cert, old_krl, make_key)
    alice = make_key("report-alice")
    code, output = playbook(inventory, "issue.yml", {"fleetca_ssh_issue_user": "alice", "fleetca_ssh_issue_valid_for": "+1h",
                                                     "fleetca_ssh_issue_public_key": alice.public_line})
    assert code == 0, output
    before = watched(servers), sorted(os.listdir(str(workdir / "ca"))), (workdir / "ca" / "issued.db").read_bytes()

    code, output = playbook(inventory, "report.yml", {"fleetca_ssh_report_dest": "report.json"})
    (workdir / "report-output.txt").write_text(output)  # kept with the test's files, to read after a failure
    assert code == 0, output
    assert (watched(servers), sorted(os.listdir(str(workdir / "ca"))), (workdir / "ca" / "issued.db").read_bytes()) \
        == before
    counters = recap(output)
    assert all(counters[name]["changed"] == 0 for name in servers), output
    assert re.findall(r"^changed: \[(.*?)\]", output, re.M) == ["ca -> localhost"], output  # the JSON file only

    report = json.loads((workdir / "report.json").read_text())  # relative to where ansible-playbook ran
    master = workdir / "ca" / "revoked.krl"
    assert report["master"] == {"krl_version": krl_version(master), "sha256": hashlib.sha256(master.read_bytes()).hexdigest()}
    good, drifting = report["servers"][GOOD], report["servers"][DRIFT]

    assert good["krl_current"] is True and good["krl_version"] == krl_version(master)
    assert good["krl_sha256"] == report["master"]["sha256"]
    assert good["trusted_user_ca_ok"] is True and good["problems"] == []
    host_ca = fingerprint(workdir / "ca" / "host_ca.pub")
    assert sorted(cert["path"] for cert in good["host_certificates"]) == [
        "/etc/ssh/ssh_host_ed25519_key-cert.pub", "/etc/ssh/ssh_host_rsa_key-cert.pub"]
    for cert in good["host_certificates"]:
        assert cert["signing_ca_fingerprint"] == host_ca and cert["seconds_left"] > 51 * 7 * 86400
        assert cert["expiring"] is False and cert["expired"] is False

    assert drifting["krl_current"] is False
    assert drifting["krl_version"] == krl_version(old_krl) < report["master"]["krl_version"]
    assert drifting["krl_sha256"] == hashlib.sha256(old_krl.read_bytes()).hexdigest()
    assert drifting["trusted_user_ca_ok"] is False
    ed25519 = [cert for cert in drifting["host_certificates"] if cert["path"] == HOST_CERT][0]
    listing = run(["ssh-keygen", "-L", "-f", str(short)], env=dict(os.environ, TZ="UTC")).stdout
    assert ed25519["key_type"] == "ssh-ed25519-cert-v01@openssh.com"
    assert "to %s" % ed25519["valid_before"].rstrip("Z") in listing
    assert 3000 < ed25519["seconds_left"] <= 3600 and ed25519["expiring"] is True
    assert ed25519["signing_ca_fingerprint"] == host_ca
    problems = "\n".join(drifting["problems"])
    assert "expires in" in problems and "is behind the master's" in problems
    assert "trusts user CA keys the CA host does not publish: %s" % stranger in problems

    assert [(record["key_id"], record["requester"], record["revoked"]) for record in report["expiring"]] == [
        ("alice@default", "alice", False)]
    assert report["unreachable"] == []

    # the table, as the operator reads it in the output
    rows = [line for line in output.splitlines() if GOOD in line or DRIFT in line]
    drift_rows = [row for row in rows if "ed25519" in row and DRIFT in row and "!!" in row]
    assert drift_rows and "!! v%d, master v%d" % (drifting["krl_version"], report["master"]["krl_version"]) \
        in drift_rows[0] and "!! mismatch" in drift_rows[0], output
    assert any("v%d current" % good["krl_version"] in row and "!!" not in row for row in rows if GOOD in row), output
    assert "alice@default" in output

    # a server that cannot be reached: the others are reported, the run fails naming it
    code, output = playbook(write_inventory(workdir, servers, down=True), "report.yml",
                            {"fleetca_ssh_report_dest": "report.json", "fleetca_ssh_report_expiring_within": "+1d"})
    assert code != 0, output
    assert "Could not read (unreachable or failed): report-down" in output, output
    report = json.loads((workdir / "report.json").read_text())
    assert report["unreachable"] == ["report-down"] and sorted(report["servers"]) == sorted(servers)
    assert report["expiring_within"] == "+1d"


def test_an_unknown_variable_fails_naming_it_and_reads_nothing(playbook, workdir):
    inventory = write_inventory(workdir, [])
    play = workdir / "ca.yml"
    play.write_text(json.dumps([{"hosts": "ssh_ca", "gather_facts": False, "roles": ["fleetca.ssh.ca"]}]))
    code, output = playbook(inventory, str(play))
    assert code == 0, output
    for extra_vars, named in [
            ({"fleetca_ssh_report_dst": "report.json"},
             "unknown variable fleetca_ssh_report_dst: fleetca.ssh.report reads only fleetca_ssh_report_dest, "
             "fleetca_ssh_report_expiring_within"),
            ({"fleetca_ssh_report_expiring_within": "soon"}, "fleetca_ssh_report_expiring_within: 'soon' is not a duration")]:
        code, output = playbook(inventory, "report.yml", extra_vars)
        assert code != 0 and named in output, output
        assert "Read the CA's public keys" not in output and not (workdir / "report.json").exists()
