# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/trust.yml delivering people's certificates (fleetca_ssh_client_user_certs) with this
machine as CA host and as workstation: the certificate lands beside the user's key, owned by the
user, signed by the user CA under the policy and logged with the user as requester; a second run
changes nothing; a wide renew window re-signs; a user or key that is not there fails naming the
workstation, the user and the field, and signs nothing."""

import json
import os
import pwd
import re
import sqlite3

import pytest
from fleetca_testing.commands import run, venv_tool


@pytest.fixture
def fleet(workdir, playbook, login_user):
    """An inventory (CA host `ca`, workstation `ws`, both this machine), the CA created, and a key
    pair of the session's login user in ~/.ssh; returns `inventory(user_certs, **ws_vars)`."""
    def inventory(user_certs, **ws_vars):
        ws = dict(ansible_connection="local", ansible_become=False, fleetca_ssh_client_user_certs=user_certs,
                  fleetca_ssh_known_hosts_path=str(workdir / "ssh_known_hosts"), **ws_vars)
        data = {"all": {
            "vars": {"ansible_python_interpreter": venv_tool("python"), "fleetca_ssh_ca_dir": str(workdir / "ca"),
                     "fleetca_ssh_user_cert_profiles": {"ops": {"principals": ["{user}", "ops-team"]}},
                     "fleetca_ssh_users": {login_user: {"profiles": ["default", "ops"]}}},
            "children": {
                "ssh_ca": {"hosts": {"ca": {"ansible_connection": "local", "ansible_become": False}}},
                "ssh_clients": {"hosts": {"ws": ws}}}}}
        path = workdir / "inventory.json"
        path.write_text(json.dumps(data))
        return str(path)

    play = workdir / "ca.yml"
    play.write_text(json.dumps([{"hosts": "ssh_ca", "gather_facts": False, "roles": ["fleetca.ssh.ca"]}]))
    code, output = playbook(inventory([]), str(play))
    assert code == 0, output
    home = pwd.getpwnam(login_user).pw_dir
    ssh_dir = os.path.join(home, ".ssh")
    if os.path.exists(os.path.join(ssh_dir, "id_ed25519")):
        for name in ("id_ed25519", "id_ed25519.pub", "id_ed25519-cert.pub"):
            if os.path.exists(os.path.join(ssh_dir, name)):
                os.unlink(os.path.join(ssh_dir, name))
    run(["su", "-s", "/bin/sh", login_user, "-c",
         "mkdir -p -m 700 ~/.ssh && ssh-keygen -q -t ed25519 -N '' -C laptop -f ~/.ssh/id_ed25519"])
    return inventory


def logged(workdir):
    with sqlite3.connect(str(workdir / "ca" / "issued.db")) as db:
        return db.execute("SELECT serial, key_id, requester FROM certificates ORDER BY serial").fetchall()


def ws_changed(output):
    return int(re.search(r"^ws\s*:.*changed=(\d+)", output, re.M).group(1))


def cert_path(login_user):
    return os.path.join(pwd.getpwnam(login_user).pw_dir, ".ssh", "id_ed25519-cert.pub")


def test_a_certificate_is_delivered_kept_and_renewed(playbook, fleet, workdir, login_user, keygen_list):
    inventory = fleet([{"user": login_user, "profile": "ops"}])
    code, output = playbook(inventory, "trust.yml")
    assert code == 0, output
    path = cert_path(login_user)
    stat = os.stat(path)
    account = pwd.getpwnam(login_user)
    assert (stat.st_uid, stat.st_gid, stat.st_mode & 0o777) == (account.pw_uid, account.pw_gid, 0o644)
    listing = keygen_list(path)
    assert "user certificate" in listing and 'Key ID: "%s@ops"' % login_user in listing
    assert listing.split("Principals:")[1].split("Critical Options:")[0].split() == [login_user, "ops-team"]
    user_ca = run(["ssh-keygen", "-l", "-f", str(workdir / "ca" / "user_ca.pub")]).stdout.split()[1]
    assert re.search(r"Signing CA: ED25519 %s " % re.escape(user_ca), listing), listing
    [(serial, key_id, requester)] = logged(workdir)
    assert (key_id, requester) == ("%s@ops" % login_user, login_user)

    code, output = playbook(inventory, "trust.yml")
    assert code == 0, output
    assert ws_changed(output) == 0, output
    assert len(logged(workdir)) == 1

    code, output = playbook(inventory, "trust.yml", {"fleetca_ssh_client_user_cert_renew_before": "+100d"})
    assert code == 0, output
    assert ws_changed(output) > 0
    [first, second] = logged(workdir)
    assert first[0] == serial and "Serial: %d" % second[0] in keygen_list(path)


def test_a_wrong_mode_is_repaired_without_signing(playbook, fleet, workdir, login_user):
    inventory = fleet([{"user": login_user}])
    code, output = playbook(inventory, "trust.yml")
    assert code == 0, output
    os.chmod(cert_path(login_user), 0o600)
    code, output = playbook(inventory, "trust.yml")
    assert code == 0, output
    assert os.stat(cert_path(login_user)).st_mode & 0o777 == 0o644
    assert len(logged(workdir)) == 1


@pytest.mark.parametrize("entry, named", [
    ({"user": "fleetca-no-such-user"},
     'fleetca_ssh_client_user_certs[0].user: no user \\"fleetca-no-such-user\\" on ws, so nothing is signed'),
    ({"user": "LOGIN", "public_key_path": "~/.ssh/id_missing.pub"},
     "fleetca_ssh_client_user_certs[0].public_key_path: HOME/.ssh/id_missing.pub of user LOGIN on ws is missing"),
    ({"user": "LOGIN", "profile": "admin"}, "requests[0].profile: no profile 'admin'"),
])
def test_a_user_key_or_profile_that_is_not_there_signs_nothing(playbook, fleet, workdir, login_user, entry, named):
    entry = dict((name, value.replace("LOGIN", login_user)) for name, value in entry.items())
    code, output = playbook(fleet([entry]), "trust.yml")
    assert code != 0, output
    named = named.replace("LOGIN", login_user).replace("HOME", pwd.getpwnam(login_user).pw_dir)
    assert named in output, output
    assert not os.path.exists(str(workdir / "ca" / "issued.db")) or logged(workdir) == []
    assert not os.path.exists(cert_path(login_user))
