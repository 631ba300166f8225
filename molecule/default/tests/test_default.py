# SPDX-License-Identifier: GPL-3.0-or-later
"""Verify scenario default the way a user would: real ssh logins from the workstation.

Runs as molecule's testinfra verifier after side_effect.yml. Containers are reached with
testinfra's docker backend (`docker exec`), faster than an Ansible round trip per command.

OpenSSH 9.8+ (Debian 13) has PerSourcePenalties on by default: after a few refused logins
from one address sshd refuses that address for a while. The server keeps its defaults; the
refusal tests recognise a penalty (the connection closes before any "Permission denied") and
wait it out before trying again, so each refusal is judged on its real reason.
"""

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
from fleetca_logins import SSH as SSH_BASE, run_ssh  # noqa: E402  pylint: disable=wrong-import-position

CA = "default-ca-deb12"
WS = "default-ws-deb12"
SERVERS = ["default-srv-deb11", "default-ca-deb12", "default-srv-deb13"]
RELEASE = {"default-srv-deb11": "11", "default-ca-deb12": "12", "default-srv-deb13": "13"}
KEY = "/root/alice/id_ed25519"

SSH = f"{SSH_BASE} -o IdentityFile={KEY}"


@pytest.fixture(scope="session")
def hosts():
    return {name: testinfra.get_host(f"docker://{name}") for name in SERVERS + [WS]}


def ssh(hosts, target, options="", command="id -un", user="alice"):
    """Run ssh on the workstation, waiting out PerSourcePenalties (fleetca_logins.run_ssh)."""
    return run_ssh(hosts[WS], f"{SSH} {options} {user}@{target} {command}")


def cert(name):
    return f"-o CertificateFile=/root/alice/{name}-cert.pub"


def denied_publickey_only(result):
    """Refused, and the server offers public key authentication only (no password)."""
    assert result.rc == 255, (result.rc, result.stdout, result.stderr)
    assert re.search(r"Permission denied \(publickey\)", result.stderr), result.stderr


# --- the workstation trusts the host CA, nothing else ---------------------------------

def test_workstation_knows_only_the_host_ca(hosts):
    lines = [line for line in hosts[WS].file("/etc/ssh/ssh_known_hosts").content_string.splitlines()
             if line.strip() and not line.startswith("#")]
    ca_pub = hosts[CA].file("/etc/ssh/fleetca/host_ca.pub").content_string.split()
    assert lines == [f"@cert-authority * {ca_pub[0]} {ca_pub[1]} {ca_pub[2]}"] or \
        [line.split()[:4] for line in lines] == [["@cert-authority", "*", ca_pub[0], ca_pub[1]]]
    assert not hosts[WS].file("/root/.ssh/known_hosts").exists


# --- logins that must work (first: before any refusal could cause a penalty) ------------

@pytest.mark.parametrize("server", SERVERS)
def test_user_certificate_logs_in_without_prompt(hosts, server):
    result = ssh(hosts, server, cert("good") + " -v")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == "alice"
    # The host was authenticated by its certificate from the fleet's host CA.
    assert re.search(r"matches the (ED25519|RSA)-CERT host certificate", result.stderr), result.stderr


def test_sshd_logs_the_certificate_key_id(hosts):
    """LogLevel VERBOSE: the login names the certificate's key id, serial and CA."""
    log = hosts["default-srv-deb13"].run("journalctl -u ssh --no-pager -o cat").stdout
    assert re.search(r"Accepted publickey for alice .*ID alice-good \(serial \d+\) CA ED25519", log), log[-2000:]


def test_host_certificate_from_the_fleet_ca_is_accepted_on_another_port(hosts):
    """Control for the rogue test: the same extra host key, certified by the fleet's host CA."""
    result = ssh(hosts, "default-srv-deb11", cert("good") + " -p 2223")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == "alice"


# --- refusals ------------------------------------------------------------------------

def test_host_certificate_from_a_rogue_ca_is_refused(hosts):
    result = ssh(hosts, "default-srv-deb11", cert("good") + " -p 2222")
    assert result.rc == 255
    assert "Host key verification failed" in result.stderr, result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("case", ["plain-key", "password", "wrong-principal", "expired", "rogue-ca"])
def test_refused(hosts, server, case):
    options = {
        # The plain key is in alice's authorized_keys: AuthorizedKeysFile none ignores it.
        "plain-key": "",
        # The server must not even offer password or keyboard-interactive authentication.
        "password": "-o PubkeyAuthentication=no -o PreferredAuthentications=password,keyboard-interactive",
        "wrong-principal": cert("wrong-principal"),
        "expired": cert("expired"),
        "rogue-ca": cert("rogue"),
    }[case]
    result = ssh(hosts, server, options)
    denied_publickey_only(result)
    assert result.stdout == ""


def test_principals_file_maps_alice_to_ops_team(hosts):
    f = hosts["default-srv-deb13"].file("/etc/ssh/auth_principals/alice")
    assert f.content_string == "ops-team\n"
    assert (f.user, f.group, f.mode) == ("root", "root", 0o644)
    assert not hosts["default-srv-deb11"].file("/etc/ssh/auth_principals").exists


# --- the servers' files and effective configuration ----------------------------------------

@pytest.mark.parametrize("server", SERVERS)
def test_sshd_effective_configuration(hosts, server):
    out = hosts[server].run("/usr/sbin/sshd -T")
    assert out.rc == 0, out.stderr
    conf = {}
    for line in out.stdout.splitlines():
        key, value = (line.split(" ", 1) + [""])[:2]
        conf.setdefault(key, []).append(value)
    one = {k: v[0] for k, v in conf.items()}
    assert one["passwordauthentication"] == "no"
    assert one["kbdinteractiveauthentication"] == "no"
    assert one["pubkeyauthentication"] == "yes"
    assert one["permitrootlogin"] in ("without-password", "prohibit-password")
    assert one["maxauthtries"] == "3"
    assert one["loglevel"] == "VERBOSE"
    assert one["authorizedkeysfile"] == "none"
    assert one["trustedusercakeys"] == "/etc/ssh/fleetca_user_ca.pub"
    assert one["revokedkeys"] == "/etc/ssh/fleetca_revoked.krl"
    if server == "default-srv-deb13":
        assert one["authorizedprincipalsfile"] == "/etc/ssh/auth_principals/%u"
    else:
        assert one["authorizedprincipalsfile"] == "none"
    assert sorted(conf["hostkey"]) == ["/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_rsa_key"]
    assert sorted(conf["hostcertificate"]) == ["/etc/ssh/ssh_host_ed25519_key-cert.pub",
                                               "/etc/ssh/ssh_host_rsa_key-cert.pub"]
    for option in ("kexalgorithms", "ciphers", "macs", "hostkeyalgorithms", "casignaturealgorithms"):
        names = one[option].split(",")
        assert names, option
        for name in names:
            assert not re.search(r"sha1|nistp|cbc|md5|umac-64|^ssh-rsa|ssh-dss|3des", name), (option, name)
    assert one["kexalgorithms"].split(",")[0] in ("mlkem768x25519-sha256", "sntrup761x25519-sha512",
                                                  "curve25519-sha256")


@pytest.mark.parametrize("server", SERVERS)
def test_dropin_is_in_place_and_main_file_untouched(hosts, server):
    dropin = hosts[server].file("/etc/ssh/sshd_config.d/00-fleetca.conf")
    assert (dropin.user, dropin.group, dropin.mode) == ("root", "root", 0o644)
    main = hosts[server].file("/etc/ssh/sshd_config").content_string
    assert "fleetca" not in main
    assert re.search(r"^Include /etc/ssh/sshd_config.d/\*\.conf$", main, re.M)


@pytest.mark.parametrize("server", SERVERS)
def test_host_certificates(hosts, server):
    for key_type in ("ed25519", "rsa"):
        path = f"/etc/ssh/ssh_host_{key_type}_key-cert.pub"
        f = hosts[server].file(path)
        assert (f.user, f.group, f.mode) == ("root", "root", 0o644)
        listing = hosts[server].check_output(f"ssh-keygen -L -f {path}")
        assert "host certificate" in listing
        assert f"Key ID: \"host:{server}:{key_type}\"" in listing
        principals = re.search(r"Principals:\s*\n((?:\s{16}\S+\n)+)", listing + "\n").group(1).split()
        assert principals[0] == server
        assert len(principals) == len(set(principals))
        if server == "default-srv-deb13":
            assert "srv13.fleet.test" in principals
    # An RSA host key of at least 3072 bits.
    bits = int(hosts[server].check_output("ssh-keygen -l -f /etc/ssh/ssh_host_rsa_key.pub").split()[0])
    assert bits >= 3072


@pytest.mark.parametrize("server", SERVERS)
def test_krl_is_the_masters_copy(hosts, server):
    """RevokedKeys names a copy of the CA's master KRL (empty on a new fleet) that OpenSSH loads."""
    f = hosts[server].file("/etc/ssh/fleetca_revoked.krl")
    assert f.content[:8] == b"SSHKRL\n\0"
    assert f.sha256sum == hosts[CA].file("/etc/ssh/fleetca/revoked.krl").sha256sum
    assert (f.user, f.group, f.mode) == ("root", "root", 0o644)
    assert hosts[server].run("ssh-keygen -Q -l -f /etc/ssh/fleetca_revoked.krl").rc == 0
    assert hosts[server].run("ssh-keygen -Q -f /etc/ssh/fleetca_revoked.krl /etc/ssh/fleetca_user_ca.pub").rc == 0


def test_ca_files(hosts):
    ca = hosts[CA]
    assert ca.file("/etc/ssh/fleetca").mode == 0o700
    for name in ("host_ca", "user_ca"):
        assert ca.file(f"/etc/ssh/fleetca/{name}").mode == 0o600
        # Passphrase-protected: ssh-keygen cannot read the key without it.
        assert ca.run(f"ssh-keygen -y -P '' -f /etc/ssh/fleetca/{name}").rc != 0
    host_ca = ca.file("/etc/ssh/fleetca/host_ca.pub").content_string.split()[1]
    user_ca = ca.file("/etc/ssh/fleetca/user_ca.pub").content_string.split()[1]
    assert host_ca != user_ca
    assert ca.file("/etc/ssh/fleetca/revoked.krl").content[:8] == b"SSHKRL\n\0"
    # The issuance log records every host certificate with its requester.
    rows = json.loads(ca.check_output(
        "python3 -c 'import json, sqlite3; print(json.dumps(sqlite3.connect(\"/etc/ssh/fleetca/issued.db\")"
        ".execute(\"select requester, key_id from certificates where cert_type = 2 or cert_type = \\x27host\\x27\")"
        ".fetchall()))'"))
    requested = set(tuple(row) for row in rows)
    for server in SERVERS:
        for key_type in ("ed25519", "rsa"):
            assert (server, f"host:{server}:{key_type}") in requested, rows


# --- ssh-audit: no "fail" line on Debian 11, 12 and 13 ------------------------------------

def ssh_audit():
    found = shutil.which("ssh-audit") or shutil.which("ssh-audit", path=os.path.dirname(sys.executable))
    return found


@pytest.mark.skipif(ssh_audit() is None, reason="ssh-audit (PyPI) is not installed in the verifier's environment")
@pytest.mark.parametrize("server", SERVERS)
def test_ssh_audit_reports_no_failure(hosts, server):
    address = hosts[server].check_output("hostname -I").split()[0]
    result = subprocess.run([ssh_audit(), "--no-colors", "--skip-rate-test", "-t", "20", address],
                            capture_output=True, text=True, timeout=120, check=False)
    fails = [line for line in result.stdout.splitlines() if "[fail]" in line]
    assert "OpenSSH" in result.stdout, result.stdout + result.stderr
    assert fails == [], f"Debian {RELEASE[server]}:\n" + result.stdout


# --- people's certificates delivered by the trust playbook (fleetca_ssh_client_user_certs) -------

DELIVERED = "/home/alice/.ssh/id_ed25519-cert.pub"


def keygen_listing(host, path):
    return host.check_output(f"TZ=UTC ssh-keygen -L -f {path}")


def listed_serial(listing):
    return int(re.search(r"^\s*Serial: (\d+)$", listing, re.M).group(1))


def test_delivered_certificate_is_alices_from_the_user_ca(hosts):
    f = hosts[WS].file(DELIVERED)
    assert (f.user, f.group, f.mode) == ("alice", "alice", 0o644)
    listing = keygen_listing(hosts[WS], DELIVERED)
    assert "user certificate" in listing and 'Key ID: "alice@default"' in listing
    assert re.search(r"Principals:\s*\n\s+alice\n\s*Critical Options", listing), listing
    user_ca = hosts[CA].check_output("ssh-keygen -l -f /etc/ssh/fleetca/user_ca.pub").split()[1]
    assert re.search(rf"Signing CA: ED25519 {re.escape(user_ca)} ", listing), listing
    key = hosts[WS].check_output("ssh-keygen -l -f /home/alice/.ssh/id_ed25519.pub").split()[1]
    assert re.search(rf"Public key: ED25519-CERT {re.escape(key)}$", listing, re.M), listing


def test_delivered_certificate_was_renewed_in_the_window(hosts):
    """side_effect_user_certs.yml ran fleetca.ssh.trust with renew_before +100d: a new serial."""
    before = listed_serial(keygen_listing(hosts[WS], "/root/alice/delivered-before-renewal-cert.pub"))
    assert listed_serial(keygen_listing(hosts[WS], DELIVERED)) != before


@pytest.mark.parametrize("server", ["default-srv-deb11", "default-ca-deb12"])
def test_alice_logs_in_with_her_delivered_certificate(hosts, server):
    """As alice on the workstation, her own key and the certificate beside it, no prompt."""
    result = run_ssh(hosts[WS], f"su - alice -c '{SSH_BASE} -v {server} id -un'")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == "alice"
    assert re.search(r"Server accepts key: /home/alice/\.ssh/id_ed25519\S* ED25519-CERT ", result.stderr), result.stderr
