# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/rotate.yml end to end for the user CA: the ca role on the controller, a managed
server whose real sshd on 127.0.0.1 reads the TrustedUserCAKeys file and the KRL the playbook
writes; who can log in is judged by real ssh logins after each phase."""

import json
import os

from fleetca_testing.commands import run, venv_tool

from ansible_collections.fleetca.ssh.plugins.module_utils.store import IssuanceLog

def write_inventory(workdir, trusted_file, krl):
    inventory = {"all": {
        "vars": {"ansible_python_interpreter": venv_tool("python"),
                 "fleetca_ssh_ca_dir": str(workdir / "ca"),
                 "fleetca_ssh_trusted_user_ca_keys_file": trusted_file,
                 "fleetca_ssh_revoked_keys": krl},
        "children": {"ssh_ca": {"hosts": {"ca": {"ansible_connection": "local"}}},
                     "ssh_servers": {"hosts": {"srv-local": {"ansible_connection": "local"}}}}}}
    path = workdir / "inventory.json"
    path.write_text(json.dumps(inventory))
    return str(path)


def rotate(playbook, inventory, phase, **more):
    request = dict({"fleetca_ssh_rotate_ca": "user", "fleetca_ssh_rotate_phase": phase}, **more)
    return playbook(inventory, "rotate.yml", request)


def material(line):
    return " ".join(line.split()[:2])


def trusted(path):
    with open(path) as handle:
        return [material(line) for line in handle if line.strip()]


def ca_pub(workdir, name="user_ca.pub"):
    return material((workdir / "ca" / name).read_text())


def setup(playbook, workdir, sshd):
    """The CA (ca role through ansible-playbook) and a real sshd trusting its user CA, reading the
    trust file and the KRL where the playbook writes them."""
    krl = str(workdir / "server.krl")
    run(["ssh-keygen", "-q", "-k", "-f", krl])  # a KRL exists before sshd names it
    ca_play = workdir / "ca.yml"
    ca_play.write_text(json.dumps([{"hosts": "ssh_ca", "gather_facts": False, "roles": ["fleetca.ssh.ca"]}]))
    server = sshd(options={"RevokedKeys": krl})
    inventory = write_inventory(workdir, server.trusted_path, krl)
    code, output = playbook(inventory, str(ca_play))
    assert code == 0, output
    server.set_trusted_user_ca_keys([(workdir / "ca" / "user_ca.pub").read_text()])
    return server, inventory


def sign(workdir, sign_cert, ca_name, subject, name, record=False):
    path = workdir / (name + "-cert.pub")
    cert = sign_cert(str(workdir / "ca" / ca_name), subject, key_id=name, path=path)
    if record:
        log = IssuanceLog(str(workdir / "ca" / "issued.db"))
        log.record([(cert, name + "-laptop")])
        log.close()
    return path


def test_user_ca_rotation_start_switch_finish_never_locks_anyone_out(
        playbook, workdir, sshd, ssh, make_key, sign_cert, login_user):
    server, inventory = setup(playbook, workdir, sshd)
    old_key, new_key = make_key("rotate-old"), make_key("rotate-new")
    old_cert = sign(workdir, sign_cert, "user_ca", old_key, "old", record=True)
    old_ca = ca_pub(workdir)

    def login(key, cert):
        return ssh(server, key, cert)

    assert login(old_key, old_cert).returncode == 0

    code, output = rotate(playbook, inventory, "start")
    assert code == 0 and "reached every host of ssh_servers" in output, output
    next_ca = ca_pub(workdir, "user_ca.next.pub")
    assert trusted(server.trusted_path) == [old_ca, next_ca]
    assert login(old_key, old_cert).returncode == 0
    code, output = rotate(playbook, inventory, "start")
    assert code == 0 and "changed=0" in output, output  # a rerun changes nothing

    code, output = rotate(playbook, inventory, "switch")
    assert code == 0, output
    assert ca_pub(workdir) == next_ca and trusted(server.trusted_path) == [next_ca, old_ca]
    new_cert = sign(workdir, sign_cert, "user_ca", new_key, "new")  # the new key signs from switch on
    assert login(new_key, new_cert).returncode == 0
    assert login(old_key, old_cert).returncode == 0

    # the issuance log still holds the old certificate, valid for an hour: finish waits for it
    master = (workdir / "ca" / "revoked.krl").read_bytes()
    code, output = rotate(playbook, inventory, "finish")
    assert code != 0 and "1 still-valid certificate of the previous key" in output and "old (serial" in output, output
    assert (workdir / "ca" / "revoked.krl").read_bytes() == master
    assert trusted(server.trusted_path) == [next_ca, old_ca] and login(old_key, old_cert).returncode == 0

    code, output = rotate(playbook, inventory, "finish", fleetca_ssh_rotate_force=True)
    assert code == 0 and "reached every host of ssh_servers" in output, output
    assert trusted(server.trusted_path) == [next_ca]
    refused = login(old_key, old_cert)
    assert refused.returncode == 255, refused.describe()
    assert login(new_key, new_cert).returncode == 0
    # the old CA key itself is revoked in the KRL the server reads
    retired = os.listdir(str(workdir / "ca" / "retired"))
    assert run(["ssh-keygen", "-Q", "-f", str(workdir / "server.krl"),
                str(workdir / "ca" / "retired" / retired[0])], check=False).returncode == 1

    code, output = rotate(playbook, inventory, "finish")
    assert code == 0, output  # a rerun of finish converges, changes nothing
    code, output = rotate(playbook, inventory, "rollback")
    assert code != 0 and "nothing to roll back" in output, output
    assert login(new_key, new_cert).returncode == 0


def test_rollback_after_start_restores_the_old_trust_set(playbook, workdir, sshd, ssh, make_key, sign_cert,
                                                          login_user):
    server, inventory = setup(playbook, workdir, sshd)
    old_key, next_key = make_key("rollback-old"), make_key("rollback-next")
    old_ca = ca_pub(workdir)
    old_cert = sign(workdir, sign_cert, "user_ca", old_key, "rollback-old")

    code, output = rotate(playbook, inventory, "start")
    assert code == 0, output
    # a certificate of the next key logs in once servers trust it...
    next_cert = sign(workdir, sign_cert, "user_ca.next", next_key, "rollback-next")
    assert ssh(server, next_key, next_cert).returncode == 0

    code, output = rotate(playbook, inventory, "rollback")
    assert code == 0 and "reached every host of ssh_servers" in output, output
    assert trusted(server.trusted_path) == [old_ca] and ca_pub(workdir) == old_ca
    assert not (workdir / "ca" / "user_ca.next").exists() and not (workdir / "ca" / "user_ca.next.pub").exists()
    # ...and no longer after the rollback; the old CA's certificates still do
    assert ssh(server, next_key, next_cert).returncode == 255
    assert ssh(server, old_key, old_cert).returncode == 0


def test_a_missing_or_misspelled_variable_or_a_wrong_order_fails_and_changes_nothing(
        playbook, workdir, sshd):
    server, inventory = setup(playbook, workdir, sshd)
    before = sorted(os.listdir(str(workdir / "ca"))), trusted(server.trusted_path)
    for extra_vars, named in [
            ({"fleetca_ssh_rotate_phase": "start"}, "fleetca_ssh_rotate_ca must be user or host"),
            ({"fleetca_ssh_rotate_ca": "user", "fleetca_ssh_rotate_phse": "start"},
             "unknown variable fleetca_ssh_rotate_phse"),
            ({"fleetca_ssh_rotate_ca": "user", "fleetca_ssh_rotate_phase": "switch"}, "switch without start"),
            ({"fleetca_ssh_rotate_ca": "user", "fleetca_ssh_rotate_phase": "finish"}, "no rotation to finish")]:
        code, output = playbook(inventory, "rotate.yml", extra_vars)
        assert code != 0 and named in output, output
        assert "reached every host" not in output
        assert (sorted(os.listdir(str(workdir / "ca"))), trusted(server.trusted_path)) == before


def test_a_host_ca_rotation_in_progress_leaves_a_user_ca_rotation_alone(playbook, workdir, sshd, ssh, make_key,
                                                                       sign_cert, login_user):
    """The two CAs have separate keys, files and trust lists: a host CA rotation started in the
    middle of a user CA rotation changes nothing a user CA phase reads or writes, and the other way
    round (docs/rotation.md)."""
    server, inventory = setup(playbook, workdir, sshd)
    old_key, new_key = make_key("both-old"), make_key("both-new")
    old_cert = sign(workdir, sign_cert, "user_ca", old_key, "both-old")
    host_ca = ca_pub(workdir, "host_ca.pub")

    assert rotate(playbook, inventory, "start")[0] == 0
    code, output = playbook(inventory, "rotate.yml", {"fleetca_ssh_rotate_ca": "host", "fleetca_ssh_rotate_phase": "start"})
    assert code == 0, output
    host_next = ca_pub(workdir, "host_ca.next.pub")
    user_trust = trusted(server.trusted_path)
    assert len(user_trust) == 2 and host_next not in user_trust and host_ca not in user_trust

    assert rotate(playbook, inventory, "switch")[0] == 0
    new_cert = sign(workdir, sign_cert, "user_ca", new_key, "both-new")
    assert ssh(server, old_key, old_cert).returncode == 0 and ssh(server, new_key, new_cert).returncode == 0
    code, output = rotate(playbook, inventory, "finish", fleetca_ssh_rotate_force=True)
    assert code == 0, output
    assert ssh(server, old_key, old_cert).returncode == 255 and ssh(server, new_key, new_cert).returncode == 0
    # the host CA rotation is still where it was
    assert (ca_pub(workdir, "host_ca.pub"), ca_pub(workdir, "host_ca.next.pub")) == (host_ca, host_next)


def test_rollback_after_switch_makes_the_old_key_sign_and_alone_trusted_again(playbook, workdir, sshd, ssh,
                                                                              make_key, sign_cert, login_user):
    server, inventory = setup(playbook, workdir, sshd)
    old_key, new_key = make_key("back-old"), make_key("back-new")
    old_ca = ca_pub(workdir)
    old_cert = sign(workdir, sign_cert, "user_ca", old_key, "back-old")
    for requested in ("start", "switch"):
        assert rotate(playbook, inventory, requested)[0] == 0
    new_cert = sign(workdir, sign_cert, "user_ca", new_key, "back-new")
    assert ssh(server, new_key, new_cert).returncode == 0

    code, output = rotate(playbook, inventory, "rollback")
    assert code == 0 and "reached every host of ssh_servers" in output, output
    assert ca_pub(workdir) == old_ca and trusted(server.trusted_path) == [old_ca]
    assert not [name for name in os.listdir(str(workdir / "ca")) if name.startswith(("user_ca.next", "user_ca.previous"))]
    assert ssh(server, new_key, new_cert).returncode == 255
    assert ssh(server, old_key, old_cert).returncode == 0
