# SPDX-License-Identifier: GPL-3.0-or-later
"""Verify scenario pull: revocations reach the server only through its fleetca-krl-sync timer.

Every revocation here is made on the CA host only (fleetca.ssh.krl + fleetca.ssh.krl_publish,
molecule/pull/revoke_on_ca.yml), never pushed: the only way the server's KRL changes is the
timer's service downloading the published one. Bad publications (a tampered KRL, a signature
by another key, an older KRL) and an unreachable web server must each leave the installed KRL
byte for byte as it was, the service failed and the reason in the journal, while logins go on
as before. Then the URL is unset (everything the role installed for it goes) and set again.

Logins are real: ssh from the CA container (the workstation here) with alice's and bob's keys
and certificates. Containers are reached with testinfra's docker backend.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest
import testinfra

# The verifiers' shared helpers (pytest's rootdir is / under molecule: no conftest reaches here).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared"))
from fleetca_logins import DENIED, SSH, run_ssh  # noqa: E402  pylint: disable=wrong-import-position

CA = "pull-ca-deb12"
SERVER = "pull-srv-deb12"
PUBLISHED = "/srv/fleetca-krl/revoked.krl"
INSTALLED_KRL = "/etc/ssh/fleetca_revoked.krl"
SERVICE = "fleetca-krl-sync.service"
TIMER = "fleetca-krl-sync.timer"
ROLE_FILES = {"/usr/local/libexec/fleetca-krl-sync": 0o755, "/etc/ssh/fleetca_krl_allowed_signers": 0o644,
              "/etc/systemd/system/fleetca-krl-sync.service": 0o644,
              "/etc/systemd/system/fleetca-krl-sync.timer": 0o644}
SCENARIO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# fleetca_ssh_krl_sync_interval is 10 s: a pull must come well within this.
PULL_WAIT = 40


@pytest.fixture(scope="module")
def hosts():
    return {name: testinfra.get_host(f"docker://{name}") for name in (CA, SERVER)}


def login(hosts, user):
    """ssh from the CA container to the server as USER; (rc, stdout, stderr)."""
    result = run_ssh(hosts[CA], f"{SSH} -i /root/{user}/id_ed25519 {user}@{SERVER} id -un")
    return result.rc, result.stdout.strip(), result.stderr


def logins(hosts):
    return {user: login(hosts, user) for user in ("alice", "bob")}


def assert_alice_refused_bob_admitted(found):
    rc, out, err = found["alice"]
    assert rc == 255 and DENIED in err and out == "", found["alice"]
    assert found["bob"][:2] == (0, "bob"), found["bob"]


def playbook(*args):
    """ansible-playbook with molecule's inventory and ansible.cfg; (exit code, output)."""
    command = shutil.which("ansible-playbook") or os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    result = subprocess.run([command, "-i", inventory, *args], capture_output=True, text=True, timeout=600,
                            check=False)
    return result.returncode, result.stdout + result.stderr


def recap(output):
    """PLAY RECAP counters per host: {host: {"ok": n, "changed": n, ...}}."""
    rows = re.findall(r"^(\S+)\s*:\s*(ok=.*)$", output, re.M)
    return {host: {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counters)} for host, counters in rows}


def revoke_on_ca(key_id):
    code, output = playbook(os.path.join(SCENARIO, "revoke_on_ca.yml"), "-e", json.dumps({"pull_key_ids": [key_id]}))
    assert code == 0, output


def sha256(host, path):
    return host.file(path).sha256sum


def journal_since(host, since):
    return host.run(f"journalctl -u {SERVICE} --since @{since} --no-pager -o cat").stdout


def wait_for(predicate, timeout=PULL_WAIT):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(1)
    return predicate()


def pull_now(server):
    """Start the service as the timer does; (exit code, when it started)."""
    since = int(server.run("date +%s").stdout.strip())
    time.sleep(1)  # journalctl --since has second resolution
    return server.run(f"systemctl start {SERVICE}").rc, since


@pytest.fixture(scope="module")
def published_before(hosts):
    """The publication before any revocation (KRL and signature), for the rollback case."""
    ca = hosts[CA]
    return {name: ca.file(PUBLISHED + suffix).content for name, suffix in (("krl", ""), ("sig", ".sig"))}


@pytest.fixture(scope="module")
def revoked_by_pull(hosts, published_before):
    """alice@laptop revoked on the CA only; the server's KRL changes when its timer pulls."""
    server = hosts[SERVER]
    before = {"krl": sha256(server, INSTALLED_KRL), "logins": logins(hosts)}
    since = int(server.run("date +%s").stdout.strip())
    revoke_on_ca("alice@laptop")
    published = sha256(hosts[CA], PUBLISHED)
    arrived = wait_for(lambda: sha256(server, INSTALLED_KRL) == published)
    return {"before": before, "published": published, "arrived": arrived, "since": since,
            "journal": journal_since(server, since), "logins": logins(hosts)}


def test_the_role_installed_the_pull_sync(hosts):
    server = hosts[SERVER]
    for path, mode in ROLE_FILES.items():
        installed = server.file(path)
        assert (installed.user, installed.group, installed.mode) == ("root", "root", mode), path
    signers = server.file("/etc/ssh/fleetca_krl_allowed_signers").content_string
    signing_key = hosts[CA].file("/etc/ssh/fleetca/krl_signing.pub").content_string.split()[:2]
    assert f'fleetca-krl namespaces="fleetca-krl" {" ".join(signing_key)}\n' in signers
    assert server.run(f"systemctl is-enabled {TIMER}").stdout.strip() == "enabled"
    assert server.run(f"systemctl is-active {TIMER}").stdout.strip() == "active"
    assert "ExecStart=" in server.run(f"systemctl cat {SERVICE}").stdout


def test_before_the_revocation_both_log_in_and_the_server_has_the_published_krl(hosts, published_before):
    assert sha256(hosts[SERVER], INSTALLED_KRL) == sha256(hosts[CA], PUBLISHED)
    found = logins(hosts)
    assert found["alice"][:2] == (0, "alice") and found["bob"][:2] == (0, "bob"), found


def test_a_revocation_on_the_ca_reaches_the_server_through_the_timer(hosts, revoked_by_pull):
    assert revoked_by_pull["before"]["logins"]["alice"][:2] == (0, "alice")
    assert revoked_by_pull["published"] != revoked_by_pull["before"]["krl"]
    assert revoked_by_pull["arrived"], "the pulled KRL did not arrive within %d s" % PULL_WAIT
    # Who wrote it: the service the timer started, in its own words.
    assert re.search(r"fleetca-krl-sync: installed KRL version \d+ from http://pull-ca-deb12:8080/revoked.krl",
                     revoked_by_pull["journal"]), revoked_by_pull["journal"]
    triggered = hosts[SERVER].run(f"systemctl show -P LastTriggerUSec {TIMER}").stdout.strip()
    assert triggered and triggered != "n/a", triggered
    assert_alice_refused_bob_admitted(revoked_by_pull["logins"])


def tamper(ca, published_before):
    """The KRL changed by one byte after it was signed."""
    ca.run(f"python3 -c \"import sys; p='{PUBLISHED}'; d=bytearray(open(p,'rb').read()); d[-1]^=1; "
           f"open(p,'wb').write(bytes(d))\"")


def forge_with_another_key(ca, published_before):
    """A forger's KRL: empty (alice would log in again) with a far higher version, signed in the
    right namespace by a key that is not the KRL signing key."""
    ca.run("rm -f /root/intruder /root/intruder.pub && ssh-keygen -q -t ed25519 -N '' -f /root/intruder"
           f" && ssh-keygen -q -k -z 999999 -f {PUBLISHED}.forged && mv {PUBLISHED}.forged {PUBLISHED}"
           f" && rm -f {PUBLISHED}.sig && ssh-keygen -q -Y sign -f /root/intruder -n fleetca-krl {PUBLISHED}")


def publish_the_older_krl(ca, published_before):
    """The publication from before the revocation: validly signed, but an older version."""
    write_bytes(ca, PUBLISHED, published_before["krl"])
    write_bytes(ca, PUBLISHED + ".sig", published_before["sig"])


def stop_the_web_server(ca, published_before):
    ca.run("systemctl stop pull-krl-http.service")


def write_bytes(host, path, data):
    """Replace the file at `path` in the container by `data`, atomically (the web server may be reading it)."""
    subprocess.run(["docker", "exec", "-i", host.backend.name, "sh", "-c", f"cat > {path}.new && mv {path}.new {path}"],
                   input=data, check=True, timeout=30)


BAD_PUBLICATIONS = [
    (tamper, r"kept the installed KRL /etc/ssh/fleetca_revoked.krl: the signature does not verify"),
    (forge_with_another_key, r"kept the installed KRL /etc/ssh/fleetca_revoked.krl: the signature does not verify"),
    (publish_the_older_krl, r"kept the installed KRL /etc/ssh/fleetca_revoked.krl: the published KRL has version "
                            r"\d+, older than the installed version \d+: refusing to roll back"),
    (stop_the_web_server, r"kept the installed KRL /etc/ssh/fleetca_revoked.krl: cannot download "
                          r"http://pull-ca-deb12:8080/revoked.krl"),
]


@pytest.mark.parametrize("spoil, reason", BAD_PUBLICATIONS, ids=["tampered", "forged-by-another-key", "older", "unreachable"])
def test_a_bad_publication_keeps_the_installed_krl_and_fails_the_service(hosts, published_before, revoked_by_pull,
                                                                         spoil, reason):
    ca, server = hosts[CA], hosts[SERVER]
    good = {suffix: ca.file(PUBLISHED + suffix).content for suffix in ("", ".sig")}
    installed = sha256(server, INSTALLED_KRL)
    spoil(ca, published_before)
    try:
        code, since = pull_now(server)
        assert code != 0
        assert server.run(f"systemctl is-failed {SERVICE}").stdout.strip() == "failed"
        assert re.search(reason, journal_since(server, since)), journal_since(server, since)
        assert sha256(server, INSTALLED_KRL) == installed
        assert_alice_refused_bob_admitted(logins(hosts))
        # A failed pull does not stop the pulls: the timer still waits for the next one.
        assert server.run(f"systemctl is-active {TIMER}").stdout.strip() == "active"
    finally:
        for suffix, data in good.items():
            write_bytes(ca, PUBLISHED + suffix, data)
        ca.run("systemctl start pull-krl-http.service")
    # The next pull of the good publication succeeds again.
    code, since = pull_now(server)
    assert code == 0, journal_since(server, since)
    assert server.run(f"systemctl is-failed {SERVICE}").stdout.strip() != "failed"


@pytest.fixture(scope="module")
def unset(hosts, revoked_by_pull):
    """fleetca_ssh_krl_url unset (null), in check mode, then for real, then once more."""
    server = hosts[SERVER]
    push_only = json.dumps({"fleetca_ssh_krl_url": None})
    checked = playbook("fleetca.ssh.enroll", "--check", "--diff", "-e", push_only)
    after_check = {path: server.file(path).exists for path in ROLE_FILES}
    removed = playbook("fleetca.ssh.enroll", "-e", push_only)
    again = playbook("fleetca.ssh.enroll", "-e", push_only)
    return {"checked": checked, "after_check": after_check, "removed": removed, "again": again,
            "timer": server.run(f"systemctl is-enabled {TIMER}"), "logins": logins(hosts)}


def test_unsetting_the_url_in_check_mode_shows_the_removal_and_removes_nothing(unset):
    code, output = unset["checked"]
    assert code == 0 and recap(output)[SERVER]["changed"] > 0, output
    assert "/usr/local/libexec/fleetca-krl-sync" in output, output
    assert all(unset["after_check"].values()), unset["after_check"]


def test_unsetting_the_url_removes_what_the_role_installed_and_keeps_the_krl(hosts, unset):
    code, output = unset["removed"]
    assert code == 0 and recap(output)[SERVER]["changed"] > 0, output
    server = hosts[SERVER]
    assert [path for path in ROLE_FILES if server.file(path).exists] == []
    assert unset["timer"].rc != 0 and unset["timer"].stdout.strip() != "enabled", unset["timer"].stdout
    assert server.run(f"systemctl list-timers --all --no-legend {TIMER}").stdout.strip() == ""
    assert_alice_refused_bob_admitted(unset["logins"])
    code, output = unset["again"]
    assert code == 0 and recap(output)[SERVER]["changed"] == 0, output


def test_setting_the_url_again_installs_the_pull_sync_again(hosts, unset):
    code, output = playbook("fleetca.ssh.enroll")
    assert code == 0 and recap(output)[SERVER]["changed"] > 0, output
    test_the_role_installed_the_pull_sync(hosts)
