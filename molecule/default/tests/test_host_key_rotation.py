# SPDX-License-Identifier: GPL-3.0-or-later
"""Host key rotation, the way an operator runs it and a user sees it.

After test_default.py (pytest runs this file second): `ansible-playbook fleetca.ssh.enroll
-e fleetca_ssh_host_keys_rotate=true --limit default-ca-deb12` (the CA host, itself a server:
the one server a limited run can target while the CA stays in it). Then the rotated server has
new host keys and certificates of them, its old private keys are gone, sshd was reloaded (same
main PID), the other servers are untouched, and the workstation, which trusts only the host CA,
logs in with StrictHostKeyChecking=yes and sees the new key without any prompt or warning.

The playbook runs with molecule's own inventory and ansible.cfg (ANSIBLE_CONFIG and
MOLECULE_INVENTORY_FILE come from molecule's environment).
"""

import os
import re
import sys

import pytest
import testinfra

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared"))
from fleetca_logins import SSH, run_ssh  # noqa: E402  pylint: disable=wrong-import-position
from fleetca_playbooks import playbook, recap  # noqa: E402  pylint: disable=wrong-import-position

CA = "default-ca-deb12"
WS = "default-ws-deb12"
ROTATED = CA
OTHERS = ["default-srv-deb11", "default-srv-deb13"]
TYPES = {"ed25519": "ssh-ed25519-cert-v01@openssh.com", "rsa": "rsa-sha2-512-cert-v01@openssh.com"}
LOGIN = f"{SSH} -o IdentityFile=/root/alice/id_ed25519 -o CertificateFile=/root/alice/good-cert.pub"


@pytest.fixture(scope="module")
def hosts():
    return {name: testinfra.get_host(f"docker://{name}") for name in [ROTATED, WS] + OTHERS}


def key_path(key_type):
    return f"/etc/ssh/ssh_host_{key_type}_key"


def fingerprint(host, path):
    """SHA256:... of a key or certificate file, as ssh-keygen -l prints it."""
    return host.check_output(f"ssh-keygen -l -f {path}").split()[1]


def state(host):
    """What the rotation must change (or leave): the host keys, the sshd main PID, the reloads."""
    return {
        "public": {key_type: host.file(key_path(key_type) + ".pub").content_string for key_type in TYPES},
        "private_sha256": {key_type: host.file(key_path(key_type)).sha256sum for key_type in TYPES},
        "pid": host.check_output("systemctl show -p MainPID --value ssh"),
        "reloads": host.run("journalctl -u ssh --no-pager -o cat").stdout.count("Received SIGHUP"),
    }


def staged_files(host):
    return sorted(name for name in host.check_output("ls -a /etc/ssh").split() if "fleetca-new" in name)


def login(hosts, key_type, verbose=False):
    """alice from the workstation to the rotated server, the host authenticated by its certificate."""
    return run_ssh(hosts[WS], f"{LOGIN} -o HostKeyAlgorithms={TYPES[key_type]} {'-v ' if verbose else ''}"
                              f"alice@{ROTATED} id -un")


@pytest.fixture(scope="module")
def failed_rotation(hosts):
    """A rotation that fails midway: the new keys are staged, then signing fails (a validity the
    engine refuses). sshd must keep its old keys and certificates."""
    before = state(hosts[ROTATED])
    code, output = playbook("fleetca.ssh.enroll", "--limit", ROTATED, "-e", "fleetca_ssh_host_keys_rotate=true",
                            "-e", "fleetca_ssh_host_cert_valid_for=+forever-ish")
    return {"before": before, "code": code, "output": output, "after": state(hosts[ROTATED]),
            "staged": staged_files(hosts[ROTATED]),
            "logins": {key_type: login(hosts, key_type) for key_type in TYPES}}


@pytest.fixture(scope="module")
def rotation(hosts, failed_rotation):
    before = {name: state(hosts[name]) for name in [ROTATED] + OTHERS}
    code, output = playbook("fleetca.ssh.enroll", "--limit", ROTATED, "-e", "fleetca_ssh_host_keys_rotate=true")
    return {"before": before, "code": code, "output": output,
            "after": {name: state(hosts[name]) for name in [ROTATED] + OTHERS}}


def test_a_rotation_failing_midway_leaves_the_old_keys_and_certificates_in_use(failed_rotation):
    assert failed_rotation["code"] != 0, failed_rotation["output"]
    assert "valid_for" in failed_rotation["output"], failed_rotation["output"]
    # It failed after staging the new keys (so, midway), and before putting them in place.
    assert failed_rotation["staged"] == sorted(f"ssh_host_{key_type}_key.fleetca-new{suffix}"
                                               for key_type in TYPES for suffix in ("", ".pub"))
    assert failed_rotation["after"] == failed_rotation["before"]
    for key_type, result in failed_rotation["logins"].items():
        assert (result.rc, result.stdout.strip(), result.stderr) == (0, "alice", ""), (key_type, result.stderr)


def test_the_rotation_run_succeeds_and_changes_only_the_limited_server(rotation):
    assert rotation["code"] == 0, rotation["output"]
    counters = recap(rotation["output"])
    assert sorted(counters) == [ROTATED] and counters[ROTATED]["changed"] > 0, rotation["output"]


@pytest.mark.parametrize("key_type", TYPES)
def test_the_host_key_is_new_and_the_old_private_key_is_gone(hosts, rotation, key_type):
    before, after = rotation["before"][ROTATED], rotation["after"][ROTATED]
    assert after["public"][key_type] != before["public"][key_type]
    assert after["private_sha256"][key_type] != before["private_sha256"][key_type]
    server = hosts[ROTATED]
    # No file in /etc/ssh still holds an old private key; no staged key is left.
    digests = server.check_output("find /etc/ssh -type f -exec sha256sum {} +")
    assert before["private_sha256"][key_type] not in digests
    assert "fleetca-new" not in server.check_output("ls -a /etc/ssh")
    # The private key is the one of the new .pub, with the modes sshd expects.
    derived = server.check_output(f"ssh-keygen -y -f {key_path(key_type)}").split()[:2]
    assert derived == after["public"][key_type].split()[:2]
    private, public = server.file(key_path(key_type)), server.file(key_path(key_type) + ".pub")
    assert (private.user, private.group, private.mode) == ("root", "root", 0o600)
    assert (public.user, public.group, public.mode) == ("root", "root", 0o644)


@pytest.mark.parametrize("key_type", TYPES)
def test_the_new_key_is_certified_by_the_host_ca(hosts, rotation, key_type):
    assert rotation["code"] == 0, rotation["output"]
    server = hosts[ROTATED]
    listing = server.check_output(f"ssh-keygen -L -f {key_path(key_type)}-cert.pub")
    assert fingerprint(server, key_path(key_type) + ".pub") in re.search(r"Public key: (.*)", listing).group(1)
    ca = fingerprint(hosts[CA], "/etc/ssh/fleetca/host_ca.pub")
    assert re.search(r"Signing CA: \S+ " + re.escape(ca), listing), listing
    assert f'Key ID: "host:{ROTATED}:{key_type}"' in listing and "host certificate" in listing


def test_sshd_was_reloaded_not_restarted(rotation):
    before, after = rotation["before"][ROTATED], rotation["after"][ROTATED]
    assert after["pid"] == before["pid"] and after["pid"] != "0"
    assert after["reloads"] > before["reloads"], (before, after)


@pytest.mark.parametrize("key_type", TYPES)
def test_the_workstation_trusts_the_new_key_without_prompt_or_warning(hosts, rotation, key_type):
    assert rotation["code"] == 0, rotation["output"]
    known_hosts = [line for line in hosts[WS].file("/etc/ssh/ssh_known_hosts").content_string.splitlines()
                   if line.strip() and not line.startswith("#")]
    assert known_hosts and all(line.startswith("@cert-authority ") for line in known_hosts), known_hosts
    quiet = login(hosts, key_type)
    assert (quiet.rc, quiet.stdout.strip(), quiet.stderr) == (0, "alice", ""), quiet.stderr
    # The server presented the certificate of the NEW key.
    verbose = login(hosts, key_type, verbose=True)
    new_key = fingerprint(hosts[ROTATED], key_path(key_type) + ".pub")
    assert re.search(r"Server host certificate: \S+ " + re.escape(new_key), verbose.stderr), verbose.stderr


def test_the_servers_outside_the_limit_keep_their_keys(rotation):
    for name in OTHERS:
        before, after = rotation["before"][name], rotation["after"][name]
        assert after["public"] == before["public"] and after["pid"] == before["pid"], name


def test_a_run_without_the_variable_changes_nothing_after_a_rotation(hosts, rotation):
    assert rotation["code"] == 0, rotation["output"]
    code, output = playbook("fleetca.ssh.enroll", "--limit", ROTATED)
    assert code == 0, output
    assert recap(output)[ROTATED]["changed"] == 0, output
    assert state(hosts[ROTATED])["public"] == rotation["after"][ROTATED]["public"]
