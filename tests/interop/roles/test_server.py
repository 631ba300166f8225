# SPDX-License-Identifier: GPL-3.0-or-later
"""The server role's input checks, through ansible-playbook on localhost: a bad variable fails
the run before the role probes or changes anything, with a message naming the variable."""

import pytest

PROBE_TASK = "fleetca.ssh.server : Probe the installed OpenSSH, the host keys and the managed files"
CHECK_TASK = "fleetca.ssh.server : Check the role's input"
GOOD_USER_CA = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE8eYh3FDIyq0d7qrdkzmqvLDTbo4HMtAQz7Vn5ar0hR user-ca"


def role_task(variables):
    base = {"fleetca_ssh_ca_host": "localhost", "fleetca_ssh_host_ca_public_key": GOOD_USER_CA,
            "fleetca_ssh_user_ca_public_key": GOOD_USER_CA}
    base.update(variables)
    return {"name": "server role", "ansible.builtin.include_role": {"name": "fleetca.ssh.server"}, "vars": base}


@pytest.mark.parametrize("variables, named", [
    ({"fleetca_ssh_host_key_rsa_bits": 2048}, "fleetca_ssh_host_key_rsa_bits at least 3072 (got 2048)"),
    ({"fleetca_ssh_host_key_replace": ["ecdsa"]}, "fleetca_ssh_host_key_replace a subset of it (got ['ecdsa'])"),
    # -e passes strings: a typo of the rotation request must not enroll without rotating.
    ({"fleetca_ssh_host_key_rotate": "true"}, "Unknown variable fleetca_ssh_host_key_rotate: the server role reads only"),
    ({"fleetca_ssh_sshd_options": {"Match": "User x"}}, 'fleetca_ssh_sshd_options: "Match" must be an sshd keyword'),
    ({"fleetca_ssh_sshd_options": {"Banner": "x\nPermitRootLogin yes"}},
     'fleetca_ssh_sshd_options: "Banner" must be an sshd keyword'),
    ({"fleetca_ssh_authorized_principals": {"../root": ["x"]}},
     'fleetca_ssh_authorized_principals: "../root" must be a user name'),
    ({"fleetca_ssh_authorized_principals": {"alice": ["a,b"]}},
     'fleetca_ssh_authorized_principals: "alice" must be a user name (no slash) mapped to a list of principals without commas'),
    ({"fleetca_ssh_cert_only": True, "fleetca_ssh_user_ca_public_key": ""},
     "Refusing to configure sshd on localhost with no way in"),
    ({"fleetca_ssh_host_ca_public_key": ""}, "No host CA"),
    ({"fleetca_ssh_krl_url": "file:///srv/revoked.krl", "fleetca_ssh_krl_signing_public_key": GOOD_USER_CA},
     'fleetca_ssh_krl_url must be an http:// or https:// URL with a host, the published revoked.krl'),
    ({"fleetca_ssh_krl_url": "http://ca/revoked.krl\nExecStartPre=/bin/sh", "fleetca_ssh_krl_signing_public_key":
      GOOD_USER_CA}, "fleetca_ssh_krl_url must be a URL on one line"),
    ({"fleetca_ssh_krl_url": "http://ca/revoked.krl", "fleetca_ssh_krl_sync_interval": "15 mins",
      "fleetca_ssh_krl_signing_public_key": GOOD_USER_CA},
     'fleetca_ssh_krl_sync_interval must be a systemd time span of at least 1s on one line'),
    ({"fleetca_ssh_krl_url": "http://ca/revoked.krl", "fleetca_ssh_krl_sync_interval": "-5min",
      "fleetca_ssh_krl_signing_public_key": GOOD_USER_CA}, 'fleetca_ssh_krl_sync_interval must be a systemd time span'),
    ({"fleetca_ssh_krl_url": "http://ca/revoked.krl"},
     "fleetca_ssh_krl_url is set but the CA host localhost published no KRL signing key"),
])
def test_bad_input_fails_before_the_probe(ansible_playbook, variables, named):
    play = ansible_playbook.run([role_task(variables)])
    assert play.returncode != 0, play.output
    check = play.results.get(CHECK_TASK, {})
    assert check.get("failed"), play.output
    assert named in check["msg"], check["msg"]
    assert PROBE_TASK not in play.results


def test_two_problems_are_both_named(ansible_playbook):
    play = ansible_playbook.run([role_task({"fleetca_ssh_host_key_rsa_bits": 1024,
                                            "fleetca_ssh_authorized_principals": {"a/b": ["x"]}})])
    message = play.results[CHECK_TASK]["msg"]
    assert "fleetca_ssh_host_key_rsa_bits" in message and '"a/b"' in message
