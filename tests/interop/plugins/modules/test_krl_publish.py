# SPDX-License-Identifier: GPL-3.0-or-later
"""fleetca.ssh.krl_publish through ansible-playbook: a signature ssh-keygen -Y verify accepts, the
published copies, idempotence, check mode, kept file attributes and bad input naming the field."""

import os
import stat
import subprocess

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import krl


def publish_task(register, ignore_errors=False, **args):
    entry = {"name": register, "fleetca.ssh.krl_publish": args, "register": register}
    if ignore_errors:
        entry["ignore_errors"] = True
    return entry


def keygen_verifies(signer_pub_line, krl_path, signature_path, workdir):
    allowed = workdir / "allowed_signers"
    allowed.write_text("fleetca-krl namespaces=\"fleetca-krl\" %s\n" % signer_pub_line)
    with open(str(krl_path), "rb") as message:
        result = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(allowed), "-I", "fleetca-krl",
                                 "-n", "fleetca-krl", "-s", str(signature_path)], stdin=message,
                                capture_output=True, check=False)
    return result.returncode == 0


@pytest.fixture
def master(workdir):
    path = workdir / "revoked.krl"
    path.write_bytes(krl.Krl(version=4).to_bytes())
    publish = workdir / "www"
    publish.mkdir()
    return path, publish


@pytest.mark.parametrize("key_type", ["ed25519", "rsa"])
def test_signs_publishes_and_is_idempotent(ansible_playbook, workdir, make_key, master, key_type):
    path, publish = master
    signer = make_key("krl-signer-" + key_type, key_type=key_type, bits=3072 if key_type == "rsa" else None)
    args = dict(path=str(path), signing_key=signer.path, publish_dir=str(publish))
    play = ansible_playbook.run([publish_task("first", **args), publish_task("again", **args)])
    assert play.returncode == 0, play.output
    first, again = play.results["first"], play.results["again"]
    signature = workdir / "revoked.krl.sig"
    assert first["changed"] and sorted(first["written"]) == sorted(
        [str(signature), str(publish / "revoked.krl"), str(publish / "revoked.krl.sig")])
    assert first["krl_version"] == 4 and first["signer"].split()[:2] == signer.public_line.split()[:2]
    assert keygen_verifies(signer.public_line, path, signature, workdir)
    assert keygen_verifies(signer.public_line, publish / "revoked.krl", publish / "revoked.krl.sig", workdir)
    assert (publish / "revoked.krl").read_bytes() == path.read_bytes()
    assert (publish / "revoked.krl.sig").read_bytes() == signature.read_bytes()
    assert stat.S_IMODE(os.stat(str(publish / "revoked.krl")).st_mode) == 0o644
    # kept, even for RSA whose signatures differ at each signing
    assert not again["changed"] and again["written"] == []

    made = krl.parse_krl(path.read_bytes())
    made.version = 5
    path.write_bytes(made.to_bytes())
    os.chmod(str(publish / "revoked.krl"), 0o640)
    play = ansible_playbook.run([publish_task("changed", **args)])
    assert play.results["changed"]["changed"] and play.results["changed"]["krl_version"] == 5
    assert keygen_verifies(signer.public_line, publish / "revoked.krl", publish / "revoked.krl.sig", workdir)
    assert krl.parse_krl((publish / "revoked.krl").read_bytes()).version == 5
    assert stat.S_IMODE(os.stat(str(publish / "revoked.krl")).st_mode) == 0o640  # an existing file keeps its mode



def test_a_current_publication_is_one_command_answered_as_the_module_answered(ansible_playbook, workdir, make_key,
                                                                              master):
    """-vvv shows every command: a publication with nothing to write is one EXEC, no module put."""
    path, publish = master
    args = dict(path=str(path), signing_key=make_key("krl-signer").path, publish_dir=str(publish))
    first = ansible_playbook.run([publish_task("first", **args)])
    assert first.returncode == 0, first.output
    again = ansible_playbook.run([publish_task("again", **args)], verbosity=3)
    assert again.returncode == 0, again.output
    task = again.output.split("TASK [again]")[1]
    assert task.count("EXEC ") == 1 and "PUT " not in task, task
    expected = dict(first.results["first"], changed=False, written=[])
    expected.pop("invocation", None)
    assert again.results["again"] == expected


def test_a_tampered_published_krl_fails_verification_and_is_repaired(ansible_playbook, workdir, make_key, master):
    path, publish = master
    signer = make_key("krl-signer-tamper")
    args = dict(path=str(path), signing_key=signer.path, publish_dir=str(publish))
    assert ansible_playbook.run([publish_task("first", **args)]).returncode == 0
    data = bytearray((publish / "revoked.krl").read_bytes())
    data[-1] ^= 1
    (publish / "revoked.krl").write_bytes(bytes(data))
    assert not keygen_verifies(signer.public_line, publish / "revoked.krl", publish / "revoked.krl.sig", workdir)
    play = ansible_playbook.run([publish_task("repair", **args)])
    assert play.results["repair"]["written"] == [str(publish / "revoked.krl")]
    assert keygen_verifies(signer.public_line, publish / "revoked.krl", publish / "revoked.krl.sig", workdir)


def test_check_mode_writes_nothing(ansible_playbook, workdir, make_key, master):
    path, publish = master
    signer = make_key("krl-signer-check")
    play = ansible_playbook.run([publish_task("would", path=str(path), signing_key=signer.path,
                                              publish_dir=str(publish))], check=True, diff=True)
    assert play.returncode == 0, play.output
    assert play.results["would"]["changed"] and len(play.results["would"]["written"]) == 3
    assert sorted(os.listdir(str(workdir))) == sorted(["ansible", "revoked.krl", "www"])
    assert os.listdir(str(publish)) == []


@pytest.mark.parametrize("change, message", [
    (lambda args, workdir: args.update(publish_dir=str(workdir / "missing")),
     "publish_dir: %(workdir)s/missing is not an existing directory"),
    (lambda args, workdir: args.update(signing_key=str(workdir / "nokey")), "signing_key: cannot read %(workdir)s/nokey"),
    (lambda args, workdir: args.update(path=str(workdir / "none.krl")), "path: %(workdir)s/none.krl does not exist"),
    (lambda args, workdir: (workdir / "revoked.krl").write_bytes(b"garbage"), "path: %(workdir)s/revoked.krl is not a KRL"),
])
def test_bad_input_names_the_field_and_writes_nothing(ansible_playbook, workdir, make_key, master, change, message):
    path, publish = master
    signer = make_key("krl-signer-bad")
    args = dict(path=str(path), signing_key=signer.path, publish_dir=str(publish))
    change(args, workdir)
    play = ansible_playbook.run([publish_task("bad", ignore_errors=True, **args)])
    result = play.results["bad"]
    assert result["failed"] and result["msg"].startswith(message % {"workdir": workdir}), result
    assert not (workdir / "revoked.krl.sig").exists() and os.listdir(str(publish)) == []
