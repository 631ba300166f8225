# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/revoke.yml end to end: the ca role on the controller, a managed server whose real
sshd reads the KRL the playbook installs, and a server that is down."""

import json
import os
import re
import time

from fleetca_testing.accounts import LOGIN_USER
from fleetca_testing.commands import run, venv_tool

from ansible_collections.fleetca.ssh.plugins.module_utils.store import IssuanceLog

def write_inventory(workdir, with_down_server):
    servers = {"srv-local": {"ansible_connection": "local"}}
    if with_down_server:
        servers["srv-down"] = {"ansible_host": "127.0.0.1", "ansible_port": 1, "ansible_connection": "ssh"}
    inventory = {"all": {
        "vars": {"ansible_python_interpreter": venv_tool("python"),
                 "fleetca_ssh_ca_dir": str(workdir / "ca"),
                 "fleetca_ssh_revoked_keys": str(workdir / "server.krl")},
        "children": {"ssh_ca": {"hosts": {"ca": {"ansible_connection": "local"}}},
                     "ssh_servers": {"hosts": servers}}}}
    path = workdir / ("inventory-%s.json" % ("down" if with_down_server else "up"))
    path.write_text(json.dumps(inventory))
    return str(path)


def test_revoke_rolls_out_to_reachable_servers_reports_the_down_one_and_converges(
        playbook, workdir, sshd, ssh, make_key, login_user):
    inventory_down = write_inventory(workdir, with_down_server=True)
    inventory_up = write_inventory(workdir, with_down_server=False)
    ca_play = workdir / "ca.yml"
    ca_play.write_text(json.dumps([{"hosts": "ssh_ca", "gather_facts": False, "roles": ["fleetca.ssh.ca"]}]))
    code, output = playbook(inventory_up, str(ca_play))
    assert code == 0, output

    keys = dict((name, make_key("revoke-" + name)) for name in ("alice", "bob"))
    sign = [{"fleetca.ssh.cert": {
        "ca_key": str(workdir / "ca" / "user_ca"), "store": str(workdir / "ca" / "issued.db"), "type": "user",
        "public_key": key.public_line, "path": str(workdir / (name + "-cert.pub")), "principals": [LOGIN_USER],
        "key_id": name + "@laptop", "valid_for": "+1h", "requester": name + "-laptop"}}
        for name, key in sorted(keys.items())]
    sign_play = workdir / "sign.yml"
    sign_play.write_text(json.dumps([{"hosts": "ssh_ca", "gather_facts": False, "tasks": sign}]))
    code, output = playbook(inventory_up, str(sign_play))
    assert code == 0, output

    krl = str(workdir / "server.krl")
    run(["ssh-keygen", "-q", "-k", "-f", krl])  # a KRL exists before sshd names it
    user_ca = (workdir / "ca" / "user_ca.pub").read_text()
    server = sshd(trusted_user_ca_keys=[user_ca], options={"RevokedKeys": krl})

    def login(name):
        return ssh(server, keys[name], workdir / (name + "-cert.pub"))

    assert login("alice").returncode == 0 and login("bob").returncode == 0

    alice_cert = (workdir / "alice-cert.pub").read_text().strip()
    revoke_alice = {"fleetca_ssh_revoke_hosts": ["alice-laptop"], "fleetca_ssh_revoke_public_keys": [alice_cert]}
    # check mode: reported, nothing written on the CA host or the server, alice still logs in
    master = workdir / "ca" / "revoked.krl"
    before = (master.read_bytes(), (workdir / "server.krl").read_bytes())
    code, output = playbook(inventory_up, "revoke.yml", revoke_alice, options=["--check", "--diff"])
    assert code == 0 and "serial" in output, output
    assert (master.read_bytes(), (workdir / "server.krl").read_bytes()) == before
    assert login("alice").returncode == 0
    code, output = playbook(inventory_down, "revoke.yml", revoke_alice)
    assert code != 0 and "did not reach: srv-down" in output, output
    refused = login("alice")
    assert refused.returncode == 255 and "revoked" in refused.server_log, refused.describe()
    assert login("bob").returncode == 0

    code, output = playbook(inventory_up, "revoke.yml", revoke_alice)
    assert code == 0 and "verified on every server" in output, output
    assert re.search(r"srv-local\s*:\s*ok=\d+\s+changed=0\s", output), output  # a rerun changes nothing

    code, output = playbook(inventory_up, "revoke.yml",
                            {"fleetca_ssh_revoke_key_ids": ["bob@laptop"]})
    assert code == 0, output
    assert login("bob").returncode == 255 and login("alice").returncode == 255

    code, output = playbook(inventory_up, "revoke.yml",
                            dict(revoke_alice, fleetca_ssh_revoke_state="absent"))
    assert code == 0, output
    assert login("alice").returncode == 0
    assert login("bob").returncode == 255


def test_a_typo_or_nothing_to_revoke_fails_naming_the_variables_and_changes_nothing(playbook, workdir):
    inventory = write_inventory(workdir, with_down_server=False)
    ca_play = workdir / "ca.yml"
    ca_play.write_text(json.dumps([{"hosts": "ssh_ca", "gather_facts": False, "roles": ["fleetca.ssh.ca"]}]))
    code, output = playbook(inventory, str(ca_play))
    assert code == 0, output
    master = workdir / "ca" / "revoked.krl"
    before = master.read_bytes()
    for extra_vars, named in [
            ({"fleetca_ssh_revoke_keyids": ["alice@laptop"]},
             "unknown variable fleetca_ssh_revoke_keyids: fleetca.ssh.revoke reads only fleetca_ssh_revoke_hosts, "
             "fleetca_ssh_revoke_key_ids,"),
            (None, "nothing to revoke: give at least one entry in fleetca_ssh_revoke_hosts,"),
            ({"fleetca_ssh_revoke_serials": "42"}, "fleetca_ssh_revoke_serials must be a list")]:
        code, output = playbook(inventory, "revoke.yml", extra_vars)
        assert code != 0, output
        assert named in output, output
        assert "verified on every server" not in output
        assert master.read_bytes() == before


def test_revoke_prunes_serials_of_expired_certificates_unless_told_not_to(playbook, workdir, make_key,
                                                                          sign_cert):
    inventory = write_inventory(workdir, with_down_server=False)
    ca_play = workdir / "ca.yml"
    ca_play.write_text(json.dumps([{"hosts": "ssh_ca", "gather_facts": False, "roles": ["fleetca.ssh.ca"]}]))
    code, output = playbook(inventory, str(ca_play))
    assert code == 0, output
    ca_dir = workdir / "ca"
    subject = make_key("revoke-prune-subject")
    now = int(time.time())
    expired = sign_cert(str(ca_dir / "user_ca"), subject, serial=9000, valid_after=now - 7200,
                        valid_before=now - 3600, path=workdir / "expired-cert.pub")
    live = sign_cert(str(ca_dir / "user_ca"), subject, serial=9001, path=workdir / "live-cert.pub")
    log = IssuanceLog(str(ca_dir / "issued.db"))
    log.record([(expired, "laptop"), (live, "laptop")])
    log.close()
    master = str(ca_dir / "revoked.krl")
    user_ca = str(ca_dir / "user_ca.pub")

    def revoked(name):
        result = run(["ssh-keygen", "-Q", "-f", master, str(workdir / (name + "-cert.pub"))], check=False)
        return result.returncode == 1

    for prune, expired_still_revoked in [(False, True), (None, False)]:
        run(["ssh-keygen", "-k", "-u", "-s", user_ca, "-f", master, str(workdir / "expired-cert.pub")])
        assert revoked("expired")
        request = {"fleetca_ssh_revoke_serials": [9001]}
        if prune is not None:
            request["fleetca_ssh_revoke_prune_expired"] = prune
        code, output = playbook(inventory, "revoke.yml", request)
        assert code == 0 and "verified on every server" in output, output
        assert revoked("live")
        assert revoked("expired") is expired_still_revoked
