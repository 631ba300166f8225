# SPDX-License-Identifier: GPL-3.0-or-later
"""fleetca.ssh.ca_key through Ansible: file modes, passphrase-protected keys that ssh-keygen
reads, concurrent first runs, never a silent regeneration, check mode."""

import base64
import os
import stat

from ansible_collections.fleetca.ssh.plugins.module_utils import keys

PASSPHRASE = "Corr3ct-Horse-Battery-Staple-5219"
WRONG_PASSPHRASE = "Wr0ng-Passphrase-Zebra-7713"


def ca_key_task(register, **args):
    return {"name": register, "fleetca.ssh.ca_key": args, "register": register}


def assert_ok(play, changed=None):
    assert play.returncode == 0, play.output
    assert play.recap.get("failed") == 0, play.output
    if changed is not None:
        assert play.recap.get("changed") == changed, play.output


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def key_material(line):
    """`TYPE BASE64` of a key line, without its comment."""
    return " ".join(line.split()[:2])


def test_ca_key_creates_private_0600_public_0644_and_second_run_changes_nothing(ansible_playbook, workdir,
                                                                                run_cmd):
    specs = {"ed25519": {}, "ecdsa": {"size": 384}, "rsa": {"size": 3072}}
    tasks = [ca_key_task("ca_" + kind, path=str(workdir / ("ca_" + kind)), type=kind, comment="ca " + kind, **extra)
             for kind, extra in specs.items()]
    first = ansible_playbook.run(tasks)
    assert_ok(first, changed=3)
    snapshot = {}
    for kind in specs:
        path = workdir / ("ca_" + kind)
        result = first.results["ca_" + kind]
        assert result["changed"] is True
        assert mode_of(path) == 0o600
        assert mode_of(str(path) + ".pub") == 0o644
        assert path.read_text().startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
        pub = open(str(path) + ".pub").read().strip()
        assert pub == result["public_key"] and pub.endswith(" ca " + kind)
        # ssh-keygen reads the private key and derives the same public key
        derived = run_cmd(["ssh-keygen", "-y", "-f", path]).stdout.strip()
        assert key_material(derived) == key_material(pub)
        printed = run_cmd(["ssh-keygen", "-l", "-E", "sha256", "-f", str(path) + ".pub"]).stdout.split()
        assert printed[1] == result["fingerprint"]
        snapshot[kind] = (path.read_bytes(), open(str(path) + ".pub", "rb").read())
    assert first.results["ca_ecdsa"]["key_type"] == "ecdsa-sha2-nistp384"
    assert keys.parse_public_key("public key", first.results["ca_rsa"]["public_key"]).bits == 3072

    second = ansible_playbook.run(tasks)
    assert_ok(second, changed=0)
    for kind in specs:
        path = workdir / ("ca_" + kind)
        assert second.results["ca_" + kind]["changed"] is False
        assert second.results["ca_" + kind]["public_key"] == first.results["ca_" + kind]["public_key"]
        assert (path.read_bytes(), open(str(path) + ".pub", "rb").read()) == snapshot[kind]
        assert mode_of(path) == 0o600


def test_ca_key_concurrent_first_runs_make_one_matching_pair(ansible_playbook, workdir, run_cmd):
    path = workdir / "ca_new"
    runs = ansible_playbook.run_concurrently([[ca_key_task("ca", path=str(path))] for dummy in range(8)])
    for play in runs:
        assert play.returncode == 0, play.output
    # one run created the pair, the others found it: all answer the same key
    assert sorted(play.results["ca"]["changed"] for play in runs) == [False] * 7 + [True]
    assert len(set(play.results["ca"]["fingerprint"] for play in runs)) == 1
    derived = run_cmd(["ssh-keygen", "-y", "-f", path]).stdout.strip()
    assert key_material(derived) == key_material(open(str(path) + ".pub").read())


def test_ca_key_passphrase_protected_key_loads_in_ssh_keygen(ansible_playbook, workdir, run_cmd):
    path = workdir / "user_ca"
    tasks = [ca_key_task("ca", path=str(path), passphrase=PASSPHRASE)]
    first = ansible_playbook.run(tasks, verbosity=2)
    assert_ok(first, changed=1)
    assert PASSPHRASE not in first.output
    pub = open(str(path) + ".pub").read().strip()
    derived = run_cmd(["ssh-keygen", "-y", "-P", PASSPHRASE, "-f", path]).stdout.strip()
    assert key_material(derived) == key_material(pub)
    # twins: it really is encrypted, and only this passphrase opens it
    for other in ("", WRONG_PASSPHRASE):
        assert run_cmd(["ssh-keygen", "-y", "-P", other, "-f", path], check=False).returncode != 0
    assert b"bcrypt" in base64.b64decode("".join(path.read_text().splitlines()[1:-1]))  # the KDF name
    before = path.read_bytes()

    second = ansible_playbook.run(tasks)
    assert_ok(second, changed=0)
    assert path.read_bytes() == before

    # a lost .pub is rebuilt from the private key (which takes the passphrase), the key kept
    os.unlink(str(path) + ".pub")
    third = ansible_playbook.run(tasks)
    assert_ok(third, changed=1)
    assert path.read_bytes() == before
    assert key_material(open(str(path) + ".pub").read()) == key_material(pub)



def test_ca_key_a_kept_pair_is_one_command_and_its_passphrase_stays_on_the_controller(ansible_playbook, workdir):
    """-vvv shows every command: a kept pair is one EXEC (the .pub read), no module put and no
    passphrase; a .pub to rebuild runs the module, the passphrase in its argument file only."""
    path = workdir / "user_ca"
    tasks = [ca_key_task("ca", path=str(path), passphrase=PASSPHRASE, comment="user ca")]
    first = ansible_playbook.run(tasks)
    assert_ok(first, changed=1)
    kept = ansible_playbook.run(tasks, verbosity=3)
    assert_ok(kept, changed=0)
    task = kept.output.split("TASK [ca]")[1]
    assert task.count("EXEC ") == 1 and "PUT " not in task, task
    assert PASSPHRASE not in kept.output
    expected = dict(first.results["ca"], changed=False)
    expected.pop("invocation", None)
    assert kept.results["ca"] == expected
    os.unlink(str(path) + ".pub")
    rebuilt = ansible_playbook.run(tasks, verbosity=3)
    assert_ok(rebuilt, changed=1)
    assert "PUT " in rebuilt.output.split("TASK [ca]")[1] and PASSPHRASE not in rebuilt.output


def test_ca_key_never_regenerates_without_force(ansible_playbook, workdir):
    path = workdir / "host_ca"
    assert_ok(ansible_playbook.run([ca_key_task("ca", path=str(path))]), changed=1)
    private, public = path.read_bytes(), open(str(path) + ".pub", "rb").read()

    other_type = ansible_playbook.run([ca_key_task("ca", path=str(path), type="rsa")])
    assert other_type.returncode != 0
    message = other_type.results["ca"]["msg"]
    assert "type" in message and "force" in message, message
    other_comment = ansible_playbook.run([ca_key_task("ca", path=str(path), comment="renamed")])
    assert_ok(other_comment, changed=0)
    assert (path.read_bytes(), open(str(path) + ".pub", "rb").read()) == (private, public)

    forced = ansible_playbook.run([ca_key_task("ca", path=str(path), force=True)])
    assert_ok(forced, changed=1)
    assert path.read_bytes() != private
    assert key_material(open(str(path) + ".pub").read()) != key_material(public.decode())
    assert mode_of(path) == 0o600


def test_ca_key_check_mode_writes_nothing(ansible_playbook, workdir):
    path = workdir / "ca"
    play = ansible_playbook.run([ca_key_task("ca", path=str(path))], check=True)
    assert_ok(play, changed=1)
    assert not os.path.exists(str(path)) and not os.path.exists(str(path) + ".pub")
