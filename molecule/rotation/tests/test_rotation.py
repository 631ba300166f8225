# SPDX-License-Identifier: GPL-3.0-or-later
"""CA rotations the way an operator runs them and a user sees them.

Each test is one step of the runbook (docs/rotation.md), in file order: `ansible-playbook
fleetca.ssh.rotate` with molecule's inventory, then what alice sees from the workstation - real
logins to every server (Debian 11, 12, 13) with StrictHostKeyChecking=yes, BatchMode and only the
managed @cert-authority block as known hosts, so a prompt or a host key warning fails the test -
and what ssh-keygen reads on the servers. sshd must only ever be reloaded (same main PID).

1. host CA: start then rollback; start, switch then rollback; start, switch, finish. A second sshd
   on rotation-srv-deb11 port 2222 keeps presenting a host certificate of the old host CA: it is
   accepted until finish and refused as revoked after it.
2. user CA: start with rotation-srv-deb13 down (the phase fails naming it, switch refuses to start
   until a rerun of start converges it),
   switch (the trust playbook renews alice's certificate), finish (refused while her old
   certificate is valid, then forced): the old certificate logs in until finish, never after.
3. wrong orders and names fail and change nothing.
"""

import os
import re
import subprocess
import sys

import pytest
import testinfra

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared"))
from fleetca_logins import DENIED, SSH, run_ssh  # noqa: E402  pylint: disable=wrong-import-position
from fleetca_playbooks import playbook, recap  # noqa: E402  pylint: disable=wrong-import-position

CA = "rotation-ca-deb12"
WS = "rotation-ws-deb12"
SERVERS = [CA, "rotation-srv-deb11", "rotation-srv-deb13"]
OLD_CA_SERVER = "rotation-srv-deb11"  # also runs the sshd that presents an old host CA certificate
DOWN = "rotation-srv-deb13"
CA_DIR = "/etc/ssh/fleetca"
TRUST_FILE = "/etc/ssh/fleetca_user_ca.pub"
KNOWN_HOSTS = "/etc/ssh/ssh_known_hosts"
ALICE_KEY = "/home/alice/.ssh/id_ed25519"
DELIVERED = ALICE_KEY + "-cert.pub"
OLD_USER_CERT = "/root/alice-cert-of-the-old-user-ca.pub"
OLD_HOST_CERT = "/root/host-cert-of-the-old-host-ca.pub"
TYPES = {"ed25519": "ssh-ed25519-cert-v01@openssh.com", "rsa": "rsa-sha2-512-cert-v01@openssh.com"}
OLD_CA_SSHD = f"""\
Port 2222
PidFile /run/sshd-old-host-ca.pid
HostKey /etc/ssh/ssh_host_ed25519_key
HostCertificate {OLD_HOST_CERT}
TrustedUserCAKeys {TRUST_FILE}
AuthorizedKeysFile none
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM yes
"""

# What earlier steps saw and later steps compare with.
SEEN = {}


@pytest.fixture(scope="module")
def hosts():
    return {name: testinfra.get_host(f"docker://{name}") for name in SERVERS + [WS]}


def rotate(ca, phase, *more):
    return playbook("fleetca.ssh.rotate", "-e", f"fleetca_ssh_rotate_ca={ca}", "-e", f"fleetca_ssh_rotate_phase={phase}",
                    *more)


def succeeded(result):
    code, output = result
    assert code == 0, output[-6000:]
    return output


def fingerprint(host, path):
    return host.check_output(f"ssh-keygen -l -f {path}").split()[1]


def signer(host, path):
    """The fingerprint of the CA key that signed the certificate at `path`."""
    return re.search(r"Signing CA: \S+ (SHA256:\S+)", host.check_output(f"ssh-keygen -L -f {path}")).group(1)


def login(hosts, server, cert=DELIVERED, key_type="ed25519", port=22, verbose=False):
    return run_ssh(hosts[WS], f"{SSH} -p {port} -o IdentityFile={ALICE_KEY} -o CertificateFile={cert} "
                              f"-o HostKeyAlgorithms={TYPES[key_type]} {'-v ' if verbose else ''}alice@{server} id -un")


def assert_logins(hosts, cert=DELIVERED):
    """alice logs in to every server, each host key type, without a prompt, warning or error."""
    for server in SERVERS:
        for key_type in TYPES:
            result = login(hosts, server, cert, key_type)
            assert (result.rc, result.stdout.strip(), result.stderr) == (0, "alice", ""), (server, key_type, result.stderr)


def sshd_state(host):
    return {"pid": host.check_output("systemctl show -p MainPID --value ssh"),
            "reloads": host.run("journalctl -u ssh --no-pager -o cat").stdout.count("Received SIGHUP")}


def cert_authorities(hosts):
    """The key material of each @cert-authority line of the workstation's managed block."""
    lines = hosts[WS].file(KNOWN_HOSTS).content_string.splitlines()
    return [" ".join(line.split()[2:4]) for line in lines if line.startswith("@cert-authority ")]


def revoked(hosts):
    lines = hosts[WS].file(KNOWN_HOSTS).content_string.splitlines()
    return [" ".join(line.split()[2:4]) for line in lines if line.startswith("@revoked ")]


def material(host, path):
    return " ".join(host.file(path).content_string.split()[:2])


def trusted_user_cas(host):
    return sorted(" ".join(line.split()[:2]) for line in host.file(TRUST_FILE).content_string.splitlines() if line.strip())


def host_cert_signers(hosts):
    return {server: {key_type: signer(hosts[server], f"/etc/ssh/ssh_host_{key_type}_key-cert.pub") for key_type in TYPES}
            for server in SERVERS}


def ca_files(hosts):
    """Every file under the CA directory with its digest: what a refused phase must leave alone."""
    return hosts[CA].check_output(f"find {CA_DIR} -type f -exec sha256sum {{}} + | sort")


def assert_site_changes_nothing():
    output = succeeded(playbook("fleetca.ssh.site"))
    assert all(counters["changed"] == 0 for counters in recap(output).values()), output[-6000:]


def test_the_enrolled_fleet_and_a_second_sshd_presenting_a_certificate_of_the_host_ca(hosts):
    assert_logins(hosts)
    SEEN["sshd"] = {server: sshd_state(hosts[server]) for server in SERVERS}
    SEEN["host_ca"] = material(hosts[CA], f"{CA_DIR}/host_ca.pub")
    server = hosts[OLD_CA_SERVER]
    server.check_output(f"cp /etc/ssh/ssh_host_ed25519_key-cert.pub {OLD_HOST_CERT}")
    server.check_output(f"printf '%s' '{OLD_CA_SSHD}' > /root/old-host-ca-sshd.conf && "
                        "/usr/sbin/sshd -f /root/old-host-ca-sshd.conf")
    accepted = login(hosts, OLD_CA_SERVER, port=2222)
    assert (accepted.rc, accepted.stdout.strip(), accepted.stderr) == (0, "alice", ""), accepted.stderr


def test_host_ca_rollback_after_start_trusts_the_old_key_alone_again(hosts):
    succeeded(rotate("host", "start"))
    assert len(cert_authorities(hosts)) == 2 and cert_authorities(hosts)[0] == SEEN["host_ca"]
    assert_logins(hosts)
    succeeded(rotate("host", "rollback"))
    assert cert_authorities(hosts) == [SEEN["host_ca"]]
    assert not hosts[CA].file(f"{CA_DIR}/host_ca.next").exists
    assert_logins(hosts)


def test_host_ca_rollback_after_switch_re_signs_the_host_certificates_by_the_old_key(hosts):
    old = fingerprint(hosts[CA], f"{CA_DIR}/host_ca.pub")
    succeeded(rotate("host", "start"))
    succeeded(rotate("host", "switch"))
    new = fingerprint(hosts[CA], f"{CA_DIR}/host_ca.pub")
    assert new != old
    assert all(set(signers.values()) == {new} for signers in host_cert_signers(hosts).values())
    assert_logins(hosts)
    succeeded(rotate("host", "rollback"))
    assert fingerprint(hosts[CA], f"{CA_DIR}/host_ca.pub") == old
    assert all(set(signers.values()) == {old} for signers in host_cert_signers(hosts).values())
    assert cert_authorities(hosts) == [SEEN["host_ca"]]
    assert_logins(hosts)


def test_host_ca_start_adds_the_next_key_to_every_client_and_site_keeps_it(hosts):
    succeeded(rotate("host", "start"))
    SEEN["host_ca_next"] = material(hosts[CA], f"{CA_DIR}/host_ca.next.pub")
    assert cert_authorities(hosts) == [SEEN["host_ca"], SEEN["host_ca_next"]]
    assert_site_changes_nothing()
    assert cert_authorities(hosts) == [SEEN["host_ca"], SEEN["host_ca_next"]]
    assert_logins(hosts)


def test_host_ca_switch_re_signs_every_host_certificate_by_the_new_key(hosts):
    succeeded(rotate("host", "switch"))
    new = fingerprint(hosts[CA], f"{CA_DIR}/host_ca.pub")
    assert material(hosts[CA], f"{CA_DIR}/host_ca.pub") == SEEN["host_ca_next"]
    assert all(set(signers.values()) == {new} for signers in host_cert_signers(hosts).values())
    assert_logins(hosts)
    for server in SERVERS:  # the certificate sshd presents is the new one
        verbose = login(hosts, server, verbose=True)
        assert re.search(r"Server host certificate: .* CA \S+ " + re.escape(new), verbose.stderr), verbose.stderr
    # both host CAs are still trusted: the old CA's certificate is accepted
    accepted = login(hosts, OLD_CA_SERVER, port=2222)
    assert (accepted.rc, accepted.stderr) == (0, ""), accepted.stderr
    assert_site_changes_nothing()


def test_host_ca_finish_revokes_the_old_key_on_every_client(hosts):
    succeeded(rotate("host", "finish"))
    assert cert_authorities(hosts) == [SEEN["host_ca_next"]]
    assert revoked(hosts) == [SEEN["host_ca"]]
    assert not hosts[CA].file(f"{CA_DIR}/host_ca.previous").exists
    retired = hosts[CA].check_output(f"cat {CA_DIR}/retired/host_ca.*.pub")
    assert " ".join(retired.split()[:2]) == SEEN["host_ca"]
    assert_logins(hosts)
    refused = login(hosts, OLD_CA_SERVER, port=2222)
    assert refused.rc == 255 and "REVOKED HOST KEY DETECTED" in refused.stderr, refused.stderr
    assert_site_changes_nothing()


def test_host_ca_phases_reloaded_sshd_and_never_restarted_it(hosts):
    for server in SERVERS:
        now = sshd_state(hosts[server])
        assert now["pid"] == SEEN["sshd"][server]["pid"] != "0", server
        assert now["reloads"] > SEEN["sshd"][server]["reloads"], server


def test_user_ca_start_with_a_server_down_names_it_and_a_rerun_converges_it(hosts):
    hosts[WS].check_output(f"cp {DELIVERED} {OLD_USER_CERT}")
    SEEN["user_ca"] = material(hosts[CA], f"{CA_DIR}/user_ca.pub")
    subprocess.run(["docker", "pause", DOWN], check=True)
    try:
        code, output = rotate("user", "start")
    finally:
        subprocess.run(["docker", "unpause", DOWN], check=True)
    assert code != 0 and f"did not reach: {DOWN}. Rerun the same phase" in output, output[-6000:]
    SEEN["user_ca_next"] = material(hosts[CA], f"{CA_DIR}/user_ca.next.pub")
    both = sorted([SEEN["user_ca"], SEEN["user_ca_next"]])
    assert trusted_user_cas(hosts[DOWN]) == [SEEN["user_ca"]]
    assert all(trusted_user_cas(hosts[server]) == both for server in SERVERS if server != DOWN)

    # the next phase waits for it, and changes nothing
    before = ca_files(hosts)
    code, output = rotate("user", "switch")
    assert code != 0 and f"the start phase did not reach {DOWN} yet; rerun start" in output, output[-6000:]
    assert ca_files(hosts) == before

    succeeded(rotate("user", "start"))
    assert all(trusted_user_cas(hosts[server]) == both for server in SERVERS)
    assert_logins(hosts, OLD_USER_CERT)


def test_user_ca_switch_and_the_trust_playbook_renew_alice_by_the_new_key(hosts):
    succeeded(rotate("user", "switch"))
    succeeded(playbook("fleetca.ssh.trust"))
    new = fingerprint(hosts[CA], f"{CA_DIR}/user_ca.pub")
    assert signer(hosts[WS], DELIVERED) == new != signer(hosts[WS], OLD_USER_CERT)
    assert_logins(hosts)                 # the new certificate
    assert_logins(hosts, OLD_USER_CERT)  # and the old one, until finish
    assert_site_changes_nothing()


def test_user_ca_finish_waits_for_the_old_certificate_then_cuts_it_off_when_forced(hosts):
    before = ca_files(hosts)
    code, output = rotate("user", "finish")
    assert code != 0 and "still-valid certificate" in output and "alice" in output, output[-6000:]
    assert ca_files(hosts) == before
    assert_logins(hosts, OLD_USER_CERT)

    succeeded(rotate("user", "finish", "-e", "fleetca_ssh_rotate_force=true"))
    assert all(trusted_user_cas(hosts[server]) == [SEEN["user_ca_next"]] for server in SERVERS)
    assert_logins(hosts)
    for server in SERVERS:
        refused = login(hosts, server, OLD_USER_CERT)
        assert refused.rc == 255 and DENIED in refused.stderr, (server, refused.stderr)
    for server in SERVERS:
        assert sshd_state(hosts[server])["pid"] == SEEN["sshd"][server]["pid"], server


@pytest.mark.parametrize("ca, phase, named", [
    ("host", "switch", "switch without start"),
    ("user", "rollback", "nothing to roll back"),
    ("users", "start", "fleetca_ssh_rotate_ca must be user or host"),
    ("host", "begin", "fleetca_ssh_rotate_phase must be one of start, switch, finish, rollback"),
])
def test_a_wrong_order_or_name_fails_and_changes_nothing(hosts, ca, phase, named):
    before = ca_files(hosts), {server: trusted_user_cas(hosts[server]) for server in SERVERS}, cert_authorities(hosts)
    code, output = rotate(ca, phase)
    assert code != 0 and named in output, output[-6000:]
    assert (ca_files(hosts), {server: trusted_user_cas(hosts[server]) for server in SERVERS},
            cert_authorities(hosts)) == before
