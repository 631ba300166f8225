# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/rotation_checks.py: the checks that end each phase of a rotation, on real keys and
certificates made by ssh-keygen and host key directories read by the real probe code."""

import subprocess

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import client_trust, rotation_checks, sshd_probe


def keygen(path, comment, key_type="ed25519"):
    subprocess.run(["ssh-keygen", "-q", "-t", key_type, "-N", "", "-C", comment, "-f", str(path)], check=True)
    return (path.parent / (path.name + ".pub")).read_text().strip()


def material(line):
    return " ".join(line.split()[:2])


@pytest.fixture
def cas(tmp_path):
    """Two host CA keys, old and new: {name: (private key path, public key line)}."""
    return dict((name, (tmp_path / name, keygen(tmp_path / name, name + "-host-ca"))) for name in ("old", "new"))


def host_keys(directory, signer_by_type):
    """A host key directory with one key per type, each certified by the CA given for it (None:
    no certificate), read back by the probe's own code."""
    directory.mkdir()
    for key_type, signer in signer_by_type.items():
        base = directory / ("ssh_host_%s_key" % key_type)
        keygen(base, "host", key_type)
        if signer is not None:
            subprocess.run(["ssh-keygen", "-q", "-s", str(signer), "-h", "-I", "web1", "-n", "web1",
                            str(base) + ".pub"], check=True)
    return {"host_keys": sshd_probe.host_keys(sorted(signer_by_type), str(directory)), "not_loaded": []}


def test_presented_signers_lists_each_signing_key_once(tmp_path, cas):
    probe = host_keys(tmp_path / "keys", {"ed25519": cas["new"][0], "rsa": cas["old"][0], "ecdsa": cas["new"][0]})
    assert [material(line) for line in rotation_checks.presented_signers(probe)] == [
        material(cas["new"][1]), material(cas["old"][1])]  # ecdsa, ed25519 (new) then rsa (old)
    assert rotation_checks.presented_signers(host_keys(tmp_path / "none", {"ed25519": None})) == []


def test_host_certificates_pass_only_when_all_are_signed_by_the_key_and_loaded(tmp_path, cas):
    probe = host_keys(tmp_path / "keys", {"ed25519": cas["new"][0], "rsa": cas["new"][0]})
    assert rotation_checks.host_certificates_problem("web1", probe, cas["new"][1]) is None

    problem = rotation_checks.host_certificates_problem("web1", probe, cas["old"][1])
    assert problem.startswith("web1: ") and problem.count("is signed by") == 2

    cert = probe["host_keys"]["rsa"]["path"] + "-cert.pub"
    probe["not_loaded"] = [cert, "/etc/ssh/sshd_config"]
    assert rotation_checks.host_certificates_problem("web1", probe, cas["new"][1]) == (
        "web1: sshd has not loaded %s yet (the host CA key is %s)"
        % (cert, rotation_checks.keys.parse_public_key("k", cas["new"][1]).fingerprint))


def test_a_host_key_without_a_certificate_is_named(tmp_path, cas):
    probe = host_keys(tmp_path / "keys", {"ed25519": cas["new"][0], "rsa": None})
    problem = rotation_checks.host_certificates_problem("web1", probe, cas["new"][1])
    assert "no certificate at %s" % (tmp_path / "keys" / "ssh_host_rsa_key-cert.pub") in problem


def test_the_user_ca_trust_file_is_compared_by_key_not_by_comment_or_order(cas):
    old, new = cas["old"][1], cas["new"][1]
    text = "%s renamed\n\n%s\n" % (material(new), old)
    assert rotation_checks.trusted_user_ca_keys_problem("web1", "/etc/ssh/ca.pub", text, [old, new]) is None
    problem = rotation_checks.trusted_user_ca_keys_problem("web1", "/etc/ssh/ca.pub", old + "\n", [old, new])
    assert problem.startswith("web1: /etc/ssh/ca.pub trusts SHA256:") and "the CA host publishes" in problem


def block(lines):
    return "\n".join([client_trust.KNOWN_HOSTS_MARKER.format(mark="BEGIN")] + lines
                     + [client_trust.KNOWN_HOSTS_MARKER.format(mark="END")])


def test_the_known_hosts_block_must_trust_exactly_the_set_and_revoke_the_retired_keys(cas):
    old, new = cas["old"][1], cas["new"][1]
    text = "other.example ssh-ed25519 AAAA\n" + block(["@cert-authority * " + new, "@revoked * " + old]) + "\n"
    assert rotation_checks.known_hosts_problem("ws1", "/etc/ssh/ssh_known_hosts", text, [new], [old]) is None

    still_trusting = block(["@cert-authority * " + new, "@cert-authority * " + old])
    problem = rotation_checks.known_hosts_problem("ws1", "/k", still_trusting, [new], [old])
    assert problem.startswith("ws1: /k trusts ") and "has no @revoked line for" in problem

    assert rotation_checks.known_hosts_problem("ws1", "/k", "x ssh-ed25519 AAAA\n", [new], []) == (
        "ws1: /k has no fleetca.ssh managed block")
