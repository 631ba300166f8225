# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/issue.yml end to end on the controller as CA host: a person's certificate under the
policy, written on the controller, printed, logged; everything outside the policy or the
playbook's variables fails naming it and signs nothing."""

import json
import os
import sqlite3

import pytest
from fleetca_testing.commands import run, venv_tool

POLICY = {
    "fleetca_ssh_user_cert_profiles": {
        "ops": {"principals": ["{user}", "deploy"], "valid_for": "+8h", "max_valid_for": "+12h",
                "force_command": "/usr/bin/uptime", "source_address": ["192.0.2.0/24"]}},
    "fleetca_ssh_users": {"alice": {"profiles": ["default", "ops"]}, "bob": {"profiles": ["default"]}},
}


@pytest.fixture
def ca(workdir):
    inventory = {"all": {
        "vars": dict(POLICY, ansible_python_interpreter=venv_tool("python"), fleetca_ssh_ca_dir=str(workdir / "ca")),
        "children": {"ssh_ca": {"hosts": {"ca": {"ansible_connection": "local", "ansible_become": False}}}}}}
    path = workdir / "inventory.json"
    path.write_text(json.dumps(inventory))
    play = workdir / "ca.yml"
    play.write_text(json.dumps([{"hosts": "ssh_ca", "gather_facts": False, "roles": ["fleetca.ssh.ca"]}]))
    return str(path)


def logged(workdir):
    """(key id, requester) of every certificate in the issuance log (none before the first)."""
    path = workdir / "ca" / "issued.db"
    if not path.exists():
        return []
    with sqlite3.connect(str(path)) as db:
        return db.execute("SELECT key_id, requester FROM certificates ORDER BY serial").fetchall()


def test_a_person_gets_the_profile_s_certificate_on_the_controller(playbook, workdir, ca, make_key,
                                                                    keygen_list):
    code, output = playbook(ca, str(workdir / "ca.yml"))
    assert code == 0, output
    key = make_key("issue-alice")
    code, output = playbook(ca, "issue.yml", {"fleetca_ssh_issue_user": "alice",
                                                         "fleetca_ssh_issue_profile": "ops",
                                                         "fleetca_ssh_issue_public_key_file": key.pub_path})
    assert code == 0, output
    cert = workdir / "alice-cert.pub"  # the directory ansible-playbook ran in
    listing = keygen_list(str(cert))
    assert 'Key ID: "alice@ops"' in listing and "user certificate" in listing
    principals = listing.split("Principals:")[1].split("Critical Options:")[0].split()
    assert principals == ["alice", "deploy"]
    assert "force-command /usr/bin/uptime" in listing and "source-address 192.0.2.0/24" in listing
    assert "Principals: alice, deploy" in output and "force-command /usr/bin/uptime" in output  # printed fields
    assert logged(workdir) == [("alice@ops", "alice")]
    assert oct(os.stat(str(cert)).st_mode & 0o777) == "0o644"

    code, output = playbook(ca, "issue.yml", {"fleetca_ssh_issue_user": "bob",
                                                         "fleetca_ssh_issue_public_key": key.public_line,
                                                         "fleetca_ssh_issue_dest": "certs-bob.pub"})
    assert code == 0, output
    assert 'Key ID: "bob@default"' in keygen_list(str(workdir / "certs-bob.pub"))
    assert logged(workdir)[-1] == ("bob@default", "bob")


REFUSED = [
    ({"fleetca_ssh_issue_user": "mallory"}, "mallory"),
    ({"fleetca_ssh_issue_user": "bob", "fleetca_ssh_issue_profile": "ops"}, "ops"),
    ({"fleetca_ssh_issue_user": "alice", "fleetca_ssh_issue_profile": "ops", "fleetca_ssh_issue_valid_for": "+2d"},
     "max_valid_for"),
    ({"fleetca_ssh_issue_user": "alice", "fleetca_ssh_issue_profil": "ops"},
     "unknown variable fleetca_ssh_issue_profil: fleetca.ssh.issue reads only fleetca_ssh_issue_dest, "),
    ({}, "fleetca_ssh_issue_user is required"),
    ({"fleetca_ssh_issue_user": "alice", "fleetca_ssh_issue_public_key": None},
     "give exactly one of fleetca_ssh_issue_public_key"),
]


def test_outside_the_policy_or_the_variables_signs_nothing(playbook, workdir, ca, make_key):
    code, output = playbook(ca, str(workdir / "ca.yml"))
    assert code == 0, output
    key = make_key("issue-refused")
    for extra_vars, named in REFUSED:
        if "fleetca_ssh_issue_public_key" not in extra_vars and extra_vars:
            extra_vars = dict(extra_vars, fleetca_ssh_issue_public_key=key.public_line)
        code, output = playbook(ca, "issue.yml", extra_vars)
        assert code != 0, (extra_vars, output)
        assert named in output, (extra_vars, output)
    assert logged(workdir) == []
    assert not [name for name in os.listdir(str(workdir)) if name.endswith("-cert.pub")]


def test_without_a_ca_it_fails_naming_the_user_ca_key(playbook, workdir, ca, make_key):
    key = make_key("issue-no-ca")
    code, output = playbook(ca, "issue.yml", {"fleetca_ssh_issue_user": "bob",
                                              "fleetca_ssh_issue_public_key": key.public_line})
    assert code != 0 and str(workdir / "ca" / "user_ca") in output, output
    assert not (workdir / "bob-cert.pub").exists() and logged(workdir) == []


# --- the profiles' certificates at a real sshd -----------------------------------------------

NOT_A_PRINCIPAL = "name is not a listed principal"


def profiles_inventory(workdir, person, source):
    """The CA on the controller, with one profile per thing a profile can make sshd enforce."""
    profiles = {
        "root": {"principals": ["root"], "valid_for": "+1h", "max_valid_for": "+2h"},
        "forced": {"principals": ["{user}"], "force_command": "echo forced-by-profile"},
        "sourced": {"principals": ["{user}"], "source_address": ["%s/32" % source]},
    }
    policy = {"fleetca_ssh_user_cert_profiles": profiles,
              "fleetca_ssh_users": {person: {"profiles": ["default", "root", "forced", "sourced"]}}}
    inventory = {"all": {
        "vars": dict(policy, ansible_python_interpreter=venv_tool("python"), fleetca_ssh_ca_dir=str(workdir / "ca")),
        "children": {"ssh_ca": {"hosts": {"ca": {"ansible_connection": "local", "ansible_become": False}}}}}}
    path = workdir / "profiles-inventory.json"
    path.write_text(json.dumps(inventory))
    return str(path)


def test_a_real_sshd_enforces_each_profile_s_certificate(playbook, workdir, make_key, sshd, ssh, login_user):
    source = ssh.next_source()  # the one client address the `sourced` profile allows
    allowed = source or "127.0.0.1"
    inventory = profiles_inventory(workdir, login_user, allowed)
    play = workdir / "ca.yml"
    play.write_text(json.dumps([{"hosts": "ssh_ca", "gather_facts": False, "roles": ["fleetca.ssh.ca"]}]))
    code, output = playbook(inventory, str(play))
    assert code == 0, output
    key = make_key("issue-profiles")
    certs = {}
    for profile in ("default", "root", "forced", "sourced"):
        certs[profile] = workdir / ("%s-cert.pub" % profile)
        code, output = playbook(inventory, "issue.yml", {
            "fleetca_ssh_issue_user": login_user, "fleetca_ssh_issue_profile": profile,
            "fleetca_ssh_issue_public_key": key.public_line, "fleetca_ssh_issue_dest": str(certs[profile])})
        assert code == 0, output
    server = sshd(trusted_user_ca_keys=[(workdir / "ca" / "user_ca.pub").read_text()])

    def login(profile, user=login_user, **more):
        return ssh(server, key, certs[profile], user=user, command="id -un", **more)

    # default: the person's own account, not another one
    accepted = login("default")
    assert accepted.returncode == 0 and accepted.stdout.strip() == login_user, accepted.describe()
    assert 'ID "%s@default"' % login_user in accepted.server_log, accepted.describe()
    refused = login("default", user="root")
    assert refused.returncode == 255 and NOT_A_PRINCIPAL in refused.server_log, refused.describe()
    # root: the account the profile names, not the person's own
    accepted = login("root", user="root")
    assert accepted.returncode == 0 and accepted.stdout.strip() == "root", accepted.describe()
    refused = login("root")
    assert refused.returncode == 255 and NOT_A_PRINCIPAL in refused.server_log, refused.describe()

    # forced: the profile's command runs, whatever the client asks for
    forced = ssh(server, key, certs["forced"], user=login_user, command="echo requested-by-client")
    assert forced.returncode == 0 and forced.stdout.strip() == "forced-by-profile", forced.describe()

    # sourced: from the allowed address only
    accepted = login("sourced", source=source)
    assert accepted.returncode == 0 and accepted.stdout.strip() == login_user, accepted.describe()
    other = ssh.next_source()
    if other is None:
        pytest.skip("this kernel gives the client one loopback address only: no other source to refuse")
    refused = login("sourced", source=other)
    assert refused.returncode == 255 and "not from a permitted source address" in refused.server_log, \
        refused.describe()
