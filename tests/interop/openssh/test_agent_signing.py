# SPDX-License-Identifier: GPL-3.0-or-later
"""Signing through a real ssh-agent: the CA private key never reaches the module.

The module gets only `use_agent`, the CA public key and the agent socket (or
SSH_AUTH_SOCK); `ssh-keygen -L` shows our CA and signature algorithm, and a real sshd
accepts the certificate. An agent that does not hold the CA key gives a clear error.
"""

import os
import re
import sqlite3

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import certs, keys


@pytest.fixture(scope="module")
def agent_cas(make_key):
    return {"ed25519": make_key("agent-ca-ed25519"), "rsa": make_key("agent-ca-rsa", "rsa")}


@pytest.fixture(scope="module")
def agent(ssh_agent, agent_cas):
    """An agent holding both CA keys."""
    return ssh_agent(agent_cas["ed25519"], agent_cas["rsa"])


@pytest.fixture(scope="module")
def other_agent(ssh_agent, make_key):
    """A running agent holding some key, but not the CA's."""
    return ssh_agent(make_key("agent-unrelated"))


@pytest.fixture(scope="module")
def user_key(make_key):
    return make_key("agent-user")


@pytest.fixture(scope="module")
def server(sshd, agent_cas, login_user):
    return sshd(trusted_user_ca_keys=list(agent_cas.values()))


def agent_cert_task(name, ca, user_key, login_user, workdir, ignore_errors=False, environment=None, **extra):
    args = dict(use_agent=True, ca_public_key=ca.pub_path, store=str(workdir / "issued.db"), type="user",
                public_key_path=user_key.pub_path, path=str(workdir / ("%s-cert.pub" % name)),
                principals=[login_user], key_id="agent-" + name, valid_for="+1h")
    args.update(extra)
    entry = {"name": name, "fleetca.ssh.cert": args}
    if ignore_errors:
        entry["ignore_errors"] = True
    if environment:
        entry["environment"] = environment
    return entry


def signing_ca_line(listing):
    return re.search(r"^\s*Signing CA: (.*)$", listing, re.MULTILINE).group(1)


def assert_signed_and_accepted(ssh, server, user_key, login_user, ca, path, algorithm, keygen_list):
    """ssh-keygen -L names our CA and algorithm; sshd accepts the cert and logs its id and serial."""
    cert = certs.parse_certificate("certificate", open(str(path)).read())
    ca_public = keys.parse_public_key("public key", ca.public_line)
    assert cert.signature_valid(ca_public)
    listing = keygen_list(path)
    label = {"ssh-ed25519": "ED25519", "ssh-rsa": "RSA"}[ca_public.key_type]
    assert signing_ca_line(listing) == "%s %s (using %s)" % (label, ca_public.fingerprint, algorithm), listing
    assert 'Key ID: "%s"' % cert.key_id in listing and "Serial: %d" % cert.serial in listing
    result = ssh(server, user_key, path)
    assert result.returncode == 0, result.describe()
    assert "ID %s (serial %d) CA %s %s" % (cert.key_id, cert.serial, label, ca_public.fingerprint) \
        in result.server_log, result.describe()
    return cert


def test_agent_signs_ed25519_with_agent_socket(ansible_playbook, agent, agent_cas, user_key, login_user, server,
                                               ssh, keygen_list, workdir):
    ca = agent_cas["ed25519"]
    play = ansible_playbook.run([agent_cert_task("ed25519", ca, user_key, login_user, workdir, agent_socket=agent)])
    assert play.returncode == 0, play.output
    assert play.recap["changed"] == 1
    cert = assert_signed_and_accepted(ssh, server, user_key, login_user, ca, workdir / "ed25519-cert.pub",
                                      "ssh-ed25519", keygen_list)
    assert play.results["ed25519"]["serial"] == cert.serial

    # up to date: nothing to sign, so no agent is needed at all
    again = ansible_playbook.run([agent_cert_task("ed25519", ca, user_key, login_user, workdir,
                                                  agent_socket=str(workdir / "no-agent.sock"))])
    assert again.returncode == 0, again.output
    assert again.recap["changed"] == 0


def test_agent_signs_through_ssh_auth_sock(ansible_playbook, agent, agent_cas, user_key, login_user, server, ssh,
                                           keygen_list, workdir):
    ca = agent_cas["ed25519"]
    # the CA public key as a key line this time (not a path): the store is then required
    play = ansible_playbook.run([agent_cert_task("env", ca, user_key, login_user, workdir,
                                                 environment={"SSH_AUTH_SOCK": agent},
                                                 ca_public_key=ca.public_line)])
    assert play.returncode == 0, play.output
    assert play.recap["changed"] == 1
    assert_signed_and_accepted(ssh, server, user_key, login_user, ca, workdir / "env-cert.pub", "ssh-ed25519",
                               keygen_list)


def test_agent_rsa_ca_signs_rsa_sha2_512_by_default_and_256_on_request(ansible_playbook, agent, agent_cas, user_key,
                                                                       login_user, server, ssh, keygen_list,
                                                                       workdir):
    ca = agent_cas["rsa"]
    play = ansible_playbook.run([
        agent_cert_task("rsa-default", ca, user_key, login_user, workdir, agent_socket=agent),
        agent_cert_task("rsa-256", ca, user_key, login_user, workdir, agent_socket=agent,
                        rsa_algorithm="rsa-sha2-256"),
    ])
    assert play.returncode == 0, play.output
    assert play.recap["changed"] == 2
    assert_signed_and_accepted(ssh, server, user_key, login_user, ca, workdir / "rsa-default-cert.pub",
                               "rsa-sha2-512", keygen_list)
    assert_signed_and_accepted(ssh, server, user_key, login_user, ca, workdir / "rsa-256-cert.pub",
                               "rsa-sha2-256", keygen_list)


def test_agent_without_the_ca_key_fails_clearly(ansible_playbook, agent, other_agent, agent_cas, user_key,
                                                login_user, workdir):
    ca = agent_cas["ed25519"]
    fingerprint = keys.parse_public_key("public key", ca.public_line).fingerprint
    play = ansible_playbook.run([
        agent_cert_task("no-key", ca, user_key, login_user, workdir, ignore_errors=True, agent_socket=other_agent),
        agent_cert_task("no-agent", ca, user_key, login_user, workdir, ignore_errors=True,
                        agent_socket=str(workdir / "missing.sock")),
        agent_cert_task("no-socket-given", ca, user_key, login_user, workdir, ignore_errors=True),
        agent_cert_task("twin", ca, user_key, login_user, workdir, agent_socket=agent),
    ])
    assert play.returncode == 0, play.output
    assert play.recap["ignored"] == 3, play.output
    expected = {
        "no-key": ["use_agent", "refused to sign", fingerprint, "ssh-add -l"],
        "no-agent": ["use_agent", "cannot connect to ssh-agent", str(workdir / "missing.sock")],
        "no-socket-given": ["use_agent", "SSH_AUTH_SOCK is not set"],
    }
    for name, texts in expected.items():
        result = play.results[name]
        assert result["failed"] is True, result
        for text in texts:
            assert text in result["msg"], (name, text, result["msg"])
        assert not os.path.exists(str(workdir / ("%s-cert.pub" % name)))
    # the twin, the same request through the agent that holds the key, is signed and logged alone
    assert play.results["twin"]["changed"] is True
    assert os.path.exists(str(workdir / "twin-cert.pub"))
    db = sqlite3.connect(str(workdir / "issued.db"))
    try:
        assert [row[0] for row in db.execute("SELECT key_id FROM certificates")] == ["agent-twin"]
    finally:
        db.close()
