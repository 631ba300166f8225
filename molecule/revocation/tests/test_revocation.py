# SPDX-License-Identifier: GPL-3.0-or-later
"""Verify scenario revocation the way a CI job and a user would see it.

The job: `ansible-playbook fleetca.ssh.revoke` revokes alice's certificate (by the host it was
requested from, plus her certificate line so that every server proves it now refuses it) while
revocation-srv-deb13 is down (paused: Ansible cannot reach it). The user: real ssh logins from
the workstation with alice's and bob's certificates.

Containers are reached with testinfra's docker backend (`docker exec`); the playbook runs with
molecule's own inventory and ansible.cfg (ANSIBLE_CONFIG, MOLECULE_INVENTORY_FILE come from
molecule's environment).
"""

import collections
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import testinfra

# The verifiers' shared helpers (pytest's rootdir is / under molecule: no conftest reaches here).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared"))
from fleetca_logins import DENIED, SSH, run_ssh  # noqa: E402  pylint: disable=wrong-import-position

CA = "revocation-ca-deb12"
WS = "revocation-ws-deb12"
DOWN = "revocation-srv-deb13"
SERVERS = [CA, "revocation-srv-deb11", DOWN]
MASTER_KRL = "/etc/ssh/fleetca/revoked.krl"
INSTALLED_KRL = "/etc/ssh/fleetca_revoked.krl"

# One stage of the story: a playbook's exit code and output, then who could log in where.
Stage = collections.namedtuple("Stage", "code output logins")


@pytest.fixture(scope="module")
def hosts():
    return {name: testinfra.get_host(f"docker://{name}") for name in SERVERS + [WS]}


def login(hosts, user, server):
    """ssh from the workstation with USER's key and certificate; (rc, stdout, stderr)."""
    result = run_ssh(hosts[WS], f"{SSH} -i /root/{user}/id_ed25519 {user}@{server} id -un")
    return result.rc, result.stdout.strip(), result.stderr


def playbook(name, extra_vars=None):
    """Run a playbook of the collection as a CI job does; (exit code, output)."""
    command = shutil.which("ansible-playbook") or os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    result = subprocess.run([command, "-i", inventory, name, "-e", json.dumps(extra_vars or {})],
                            capture_output=True, text=True, timeout=600, check=False)
    return result.returncode, result.stdout + result.stderr


def revoke_while_down(hosts, extra_vars):
    """fleetca.ssh.revoke while DOWN is paused; then DOWN is back, not converged yet."""
    docker("pause", DOWN)
    try:
        code, output = playbook("fleetca.ssh.revoke", extra_vars)
    finally:
        docker("unpause", DOWN)
    return code, output


def recap(output):
    """PLAY RECAP counters per host: {host: {"ok": n, "changed": n, ...}}."""
    rows = re.findall(r"^(\S+)\s*:\s*(ok=.*)$", output, re.M)
    return {host: {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counters)} for host, counters in rows}


def docker(*args):
    subprocess.run(["docker", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def alice_cert(hosts):
    return hosts[WS].file("/root/alice/id_ed25519-cert.pub").content_string.strip()


@pytest.fixture(scope="module")
def before(hosts):
    """Who logs in where before anything is revoked."""
    return {(user, server): login(hosts, user, server)[0] for user in ("alice", "bob") for server in SERVERS}


def all_logins(hosts):
    return {(user, server): login(hosts, user, server) for user in ("alice", "bob") for server in SERVERS}


@pytest.fixture(scope="module")
def first_rollout(hosts, before, alice_cert):
    """Revoke alice's certificate while DOWN is down."""
    code, output = revoke_while_down(hosts, {"fleetca_ssh_revoke_hosts": ["alice-laptop"],
                                             "fleetca_ssh_revoke_public_keys": [alice_cert]})
    return Stage(code, output, all_logins(hosts))


@pytest.fixture(scope="module")
def rerun(hosts, first_rollout, alice_cert):
    """The same job again with every server up: DOWN converges, the others stay unchanged."""
    code, output = playbook("fleetca.ssh.revoke", {"fleetca_ssh_revoke_hosts": ["alice-laptop"],
                                                   "fleetca_ssh_revoke_public_keys": [alice_cert]})
    return Stage(code, output, all_logins(hosts))


@pytest.fixture(scope="module")
def enrolled_after_revocation(hosts, rerun):
    """Bob's certificate is revoked by key id while DOWN is down; then fleetca.ssh.enroll runs,
    as it does when a server is (re)built: enrollment installs the master KRL too."""
    revoked = revoke_while_down(hosts, {"fleetca_ssh_revoke_key_ids": ["bob@laptop"]})
    code, output = playbook("fleetca.ssh.enroll")
    return revoked, Stage(code, output, all_logins(hosts))


def test_everyone_logs_in_before_the_revocation(before):
    assert before == {key: 0 for key in before}


def test_rollout_with_a_down_server_fails_and_names_it(first_rollout):
    code, output = first_rollout.code, first_rollout.output
    assert code != 0, output
    missed = re.search(r"did not reach: ([\w, -]+)\.", output)
    assert missed and [name.strip() for name in missed.group(1).split(",")] == [DOWN], output


@pytest.mark.parametrize("server", [s for s in SERVERS if s != DOWN])
def test_revoked_certificate_is_refused_where_the_krl_arrived(first_rollout, server):
    logins = first_rollout.logins
    rc, out, err = logins[("alice", server)]
    assert rc == 255 and DENIED in err and out == "", (rc, out, err)
    assert logins[("bob", server)][:2] == (0, "bob"), logins[("bob", server)]


def test_down_server_still_has_the_old_krl(first_rollout):
    """What the failed run reported is true: the server it missed still accepts alice."""
    logins = first_rollout.logins
    assert logins[("alice", DOWN)][:2] == (0, "alice"), logins[("alice", DOWN)]


def test_rerun_converges_the_down_server_and_changes_nothing_elsewhere(rerun):
    code, output = rerun.code, rerun.output
    assert code == 0, output
    assert "verified on every server" in output, output
    counters = recap(output)
    assert counters[DOWN]["changed"] > 0, output
    for server in SERVERS:
        assert counters[server]["failed"] == 0 and counters[server]["unreachable"] == 0, output
        if server != DOWN:
            assert counters[server]["changed"] == 0, output


@pytest.mark.parametrize("server", SERVERS)
def test_after_the_rerun_alice_is_refused_everywhere_and_bob_is_not(hosts, rerun, server):
    logins = rerun.logins
    rc, out, err = logins[("alice", server)]
    assert rc == 255 and DENIED in err and out == "", (rc, out, err)
    assert logins[("bob", server)][:2] == (0, "bob"), logins[("bob", server)]
    # sshd itself says why (LogLevel VERBOSE).
    log = hosts[server].run("journalctl -u ssh --no-pager -o cat").stdout
    assert re.search(r"(?i)revoked", log), log[-2000:]


@pytest.mark.parametrize("server", SERVERS)
def test_installed_krl_is_the_master_and_ssh_keygen_judges_it(hosts, rerun, server):
    master = hosts[CA].file(MASTER_KRL)
    installed = hosts[server].file(INSTALLED_KRL)
    assert installed.sha256sum == master.sha256sum
    assert (installed.user, installed.group, installed.mode) == ("root", "root", 0o644)
    # ssh-keygen -Q exits 1 for a revoked key, 0 for one that is not.
    cert = hosts[WS].file("/root/alice/id_ed25519-cert.pub").content_string
    bob = hosts[WS].file("/root/bob/id_ed25519-cert.pub").content_string
    query = "printf '%s' '{}' > /tmp/q-cert.pub && ssh-keygen -Q -f " + INSTALLED_KRL + " /tmp/q-cert.pub"
    assert hosts[server].run(query.format(cert.strip())).rc == 1
    assert hosts[server].run(query.format(bob.strip())).rc == 0


def test_enrollment_installs_the_master_krl_on_a_server_that_missed_it(enrolled_after_revocation):
    (revoke_code, revoke_output), enroll = enrolled_after_revocation
    code, output, logins = enroll
    assert revoke_code != 0 and f"did not reach: {DOWN}." in revoke_output, revoke_output
    assert code == 0, output
    counters = recap(output)
    assert counters[DOWN]["changed"] > 0, output
    for server in SERVERS:
        if server != DOWN:
            assert counters[server]["changed"] == 0, output
        for user in ("alice", "bob"):
            rc, out, err = logins[(user, server)]
            assert rc == 255 and DENIED in err and out == "", (user, server, rc, out, err)
