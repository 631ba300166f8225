# SPDX-License-Identifier: GPL-3.0-or-later
"""Verify fleetca.ssh.client the way a user would: the files, and real ssh connections.

Runs as molecule's testinfra verifier. The containers are reached with testinfra's
docker backend (`docker exec`), which is much faster than an Ansible round trip per
command. prepare.yml wrote fixture.json (CA keys, IPs, the hand-kept lines).
"""

import json
import os
import re

import pytest
import testinfra

BEGIN = "# BEGIN fleetca.ssh.client managed block: host CA trust (edits inside are overwritten)"
END = "# END fleetca.ssh.client managed block: host CA trust (edits inside are overwritten)"
DROPIN = "/etc/ssh/ssh_config.d/fleetca.conf"
SHA1_OR_DSA = {"ssh-rsa", "ssh-rsa-cert-v01@openssh.com", "ssh-dss", "ssh-dss-cert-v01@openssh.com"}

# Strict host key checking, no prompt possible, only the known_hosts files we name.
STRICT = "-o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=10 -o LogLevel=ERROR"


@pytest.fixture(scope="session")
def fixture():
    path = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "fixture.json")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="session")
def hosts():
    names = ["client-deb11", "client-deb12", "client-deb13", "client-helper"]
    return {n: testinfra.get_host(f"docker://{n}") for n in names}


def managed_block(content):
    """Return (lines before the block, block lines, lines after the block)."""
    lines = content.splitlines()
    assert lines.count(BEGIN) == 1 and lines.count(END) == 1, content
    b, e = lines.index(BEGIN), lines.index(END)
    assert b < e
    return lines[:b], lines[b + 1:e], lines[e + 1:]


def ssh(host, target, options="", user=None):
    cmd = f"ssh {STRICT} {options} root@{target} hostname"
    if user:
        cmd = f"runuser -u {user} -- {cmd}"
    return host.run(cmd)


# --- known_hosts files -------------------------------------------------------------


@pytest.mark.parametrize("name", ["client-deb11", "client-deb12"])
def test_system_known_hosts_block_and_kept_lines(hosts, fixture, name):
    f = hosts[name].file("/etc/ssh/ssh_known_hosts")
    assert f.user == "root" and f.group == "root" and f.mode == 0o644
    before, block, after = managed_block(f.content_string)
    # Every hand-kept line is still there, unchanged and in order, before the block.
    assert before == fixture["seed"].splitlines()
    assert after == []
    patterns = "*" if name == "client-deb11" else f"client-deb11,{fixture['ips']['client-deb13']}"
    assert block[0] == f"@cert-authority {patterns} {fixture['host_ca_pub']}"
    revoked = [] if name == "client-deb11" else [f"@revoked * {fixture['host_keys']['client-deb11']}"]
    assert block[1:] == revoked


def test_the_offline_workstation_needed_no_package(hosts):
    # prepare.yml removed python3-apt from client-deb12 and cut it off from its mirror: the role
    # passed there without installing anything, since ssh and ssh-keygen were installed.
    h = hosts["client-deb12"]
    assert not h.package("python3-apt").is_installed
    assert h.exists("ssh") and h.exists("ssh-keygen")


def test_user_known_hosts(hosts, fixture):
    h = hosts["client-deb13"]
    d = h.file("/home/alice/.ssh")
    assert d.is_directory and d.user == "alice" and d.group == "alice" and d.mode == 0o700
    f = h.file("/home/alice/.ssh/known_hosts")
    assert f.user == "alice" and f.group == "alice" and f.mode == 0o600
    before, block, after = managed_block(f.content_string)
    assert before == fixture["seed"].splitlines()
    assert block == [f"@cert-authority * {fixture['host_ca_pub']}"] and after == []
    # The user-level run leaves the machine's trust alone.
    assert not h.file("/etc/ssh/ssh_known_hosts").exists


def test_ssh_keygen_finds_the_ca_for_a_host(hosts):
    out = hosts["client-deb11"].check_output("ssh-keygen -F client-deb12 -f /etc/ssh/ssh_known_hosts")
    assert "found: line" in out and " CA" in out and "@cert-authority" in out
    out = hosts["client-deb12"].check_output("ssh-keygen -F client-deb11 -f /etc/ssh/ssh_known_hosts")
    assert "REVOKED" in out and "CA" in out


# --- ssh_config snippet -------------------------------------------------------------


@pytest.mark.parametrize("name", ["client-deb11", "client-deb12"])
def test_client_config_dropin(hosts, name):
    h = hosts[name]
    f = h.file(DROPIN)
    assert f.user == "root" and f.mode == 0o644
    m = re.search(r"^HostKeyAlgorithms (\S+)$", f.content_string, re.M)
    algs = m.group(1).split(",")
    supported = set(h.check_output("ssh -Q HostKeyAlgorithms").split())
    assert set(algs) <= supported
    assert not set(algs) & SHA1_OR_DSA
    certs = [a for a in algs if "-cert-v01@openssh.com" in a]
    assert certs and algs[: len(certs)] == certs, "certificate algorithms must come first"
    assert "ssh-ed25519-cert-v01@openssh.com" == algs[0] and "ssh-ed25519" in algs
    # ssh really reads the drop-in (Debian's ssh_config includes ssh_config.d/*.conf).
    effective = h.check_output("ssh -G some-host.example")
    assert f"hostkeyalgorithms {','.join(algs)}" in effective.splitlines()
    if name == "client-deb12":
        assert re.search(r"^certificatefile ~/.ssh/id_ed25519-cert.pub$", effective, re.M)


def test_no_client_config_when_off(hosts):
    h = hosts["client-deb13"]
    assert not h.file(DROPIN).exists
    assert "fleetca.ssh.client" not in h.file("/etc/ssh/ssh_config").content_string


def test_debian_ssh_config_includes_dropin_dir(hosts):
    for name in ["client-deb11", "client-deb12", "client-deb13"]:
        assert re.search(
            r"^Include /etc/ssh/ssh_config\.d/\*\.conf$",
            hosts[name].file("/etc/ssh/ssh_config").content_string,
            re.M,
        ), name


# --- the real proof: ssh connections --------------------------------------------------


@pytest.mark.parametrize("target", ["client-deb12", "client-deb13"])
def test_certified_host_connects_without_prompt(hosts, target):
    # Only the system-wide file (the role's block) is consulted: no TOFU entry anywhere.
    r = ssh(hosts["client-deb11"], target, "-o UserKnownHostsFile=/dev/null")
    assert r.rc == 0, r.stderr
    assert r.stdout.strip() == target


def test_host_certified_by_another_ca_is_refused(hosts):
    r = ssh(hosts["client-deb11"], "client-helper", "-o UserKnownHostsFile=/dev/null")
    assert r.rc != 0
    assert "Host key verification failed" in r.stderr


def test_ip_pattern(hosts, fixture):
    h = hosts["client-deb12"]
    ip = fixture["ips"]["client-deb13"]
    r = ssh(h, ip, "-o UserKnownHostsFile=/dev/null")
    assert r.rc == 0, r.stderr
    assert r.stdout.strip() == "client-deb13"
    # The same host by a name that no pattern of client-deb12 matches: not trusted.
    r = ssh(h, "client-deb13", "-o UserKnownHostsFile=/dev/null")
    assert r.rc != 0
    assert "Host key verification failed" in r.stderr


def test_revoked_host_key_is_refused(hosts):
    # client-deb11 matches a pattern and has a valid certificate, but its key is @revoked.
    r = ssh(hosts["client-deb12"], "client-deb11", "-o UserKnownHostsFile=/dev/null")
    assert r.rc != 0
    assert "revoked" in r.stderr.lower() or "REVOKED" in r.stderr
    assert "Host key verification failed" in r.stderr


def test_user_known_hosts_trusts_for_that_user_only(hosts):
    h = hosts["client-deb13"]
    # alice: only her own file (the role's block), the system-wide file ignored.
    r = ssh(h, "client-deb11", "-o GlobalKnownHostsFile=/dev/null", user="alice")
    assert r.rc == 0, r.stderr
    assert r.stdout.strip() == "client-deb11"
    r = ssh(h, "client-helper", "-o GlobalKnownHostsFile=/dev/null", user="alice")
    assert r.rc != 0 and "Host key verification failed" in r.stderr
    # root on the same machine has no trust in the CA.
    r = ssh(h, "client-deb11", "-o UserKnownHostsFile=/dev/null")
    assert r.rc != 0 and "Host key verification failed" in r.stderr
