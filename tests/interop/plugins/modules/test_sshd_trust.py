# SPDX-License-Identifier: GPL-3.0-or-later
"""fleetca.ssh.sshd_trust through Ansible (ansible-playbook, localhost).

The files it installs are what ssh-keygen reads (-L on the certificate, -Q on the
KRL), 0644; a second run changes nothing; check mode and a bad input write nothing; a KRL of a
lower version or with the wrong digest is refused; principals files of unlisted users go.
"""

import base64
import hashlib
import os
import stat

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import krl, krl_request
from fleetca_testing.openssh_keys import ssh_keygen_pair

SSH_KEYGEN_LIST_ENV = dict(os.environ, TZ="UTC")


def trust_task(register, ignore_errors=False, **args):
    entry = {"name": register, "fleetca.ssh.sshd_trust": args, "register": register}
    if ignore_errors:
        entry["ignore_errors"] = True
    return entry


def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def krl_bytes(version, revoked_key=None):
    revocations = krl_request.build_revocations(public_keys=[revoked_key]) if revoked_key else None
    made = krl.Krl(version=version, generated=1_800_000_000)
    if revocations:
        made.revoke(revocations)
    return made.to_bytes()


def krl_option(path, data, sha256=None):
    return {"path": str(path), "content": base64.b64encode(data).decode(),
            "sha256": hashlib.sha256(data).hexdigest() if sha256 is None else sha256}


@pytest.fixture
def layout(workdir, make_key, sign_cert):
    """A fake /etc/ssh: a host key, its certificate, a user CA, a KRL revoking one user key."""
    etc = workdir / "etc"
    etc.mkdir()
    host_ca = make_key("trust-host-ca")
    user_ca = make_key("trust-user-ca")
    host_key = make_key("trust-host-key")
    revoked = make_key("trust-revoked-user")
    cert = sign_cert(host_ca, host_key, cert_type="host", principals=["web1.example.com"], key_id="host:web1")
    return {
        "etc": etc,
        "cert": cert,
        "cert_path": etc / "ssh_host_ed25519_key-cert.pub",
        "user_ca": user_ca,
        "revoked": revoked,
        "krl": krl_bytes(3, revoked.public_line),
        "krl_path": etc / "revoked.krl",
    }


def full_args(layout, users=None):
    etc = layout["etc"]
    return dict(
        host_certificates=[{"path": str(layout["cert_path"]), "certificate": layout["cert"].to_line()}],
        trusted_user_ca_keys={"path": str(etc / "user_ca.pub"), "keys": [layout["user_ca"].public_line]},
        revoked_keys=krl_option(layout["krl_path"], layout["krl"]),
        authorized_principals={"directory": str(etc / "principals"),
                               "users": users if users is not None else {"alice": ["alice", "ops"]}},
    )


def test_installs_what_openssh_reads_and_is_idempotent(ansible_playbook, layout, run_cmd):
    etc = layout["etc"]
    args = full_args(layout)
    play = ansible_playbook.run([trust_task("first", **args), trust_task("again", **args)])
    assert play.returncode == 0, play.output
    first, again = play.results["first"], play.results["again"]
    assert first["changed"] and first["host_certificates_changed"]
    assert sorted(first["changed_paths"]) == sorted(
        [str(layout["cert_path"]), str(etc / "user_ca.pub"), str(layout["krl_path"]),
         str(etc / "principals"), str(etc / "principals" / "alice")])
    assert not again["changed"] and again["changed_paths"] == [] and not again["host_certificates_changed"]
    assert first["revoked_keys"]["krl_version"] == 3
    listing = run_cmd(["ssh-keygen", "-L", "-f", str(layout["cert_path"])], env=SSH_KEYGEN_LIST_ENV).stdout
    assert "Type: ssh-ed25519-cert-v01@openssh.com host certificate" in listing
    assert "web1.example.com" in listing
    # ssh-keygen -Q exits 1 for a revoked key, 0 for one that is not.
    revoked = run_cmd(["ssh-keygen", "-Q", "-f", str(layout["krl_path"]), layout["revoked"].pub_path], check=False)
    assert revoked.returncode == 1, revoked.stdout + revoked.stderr
    fine = run_cmd(["ssh-keygen", "-Q", "-f", str(layout["krl_path"]), layout["user_ca"].pub_path], check=False)
    assert fine.returncode == 0, fine.stdout + fine.stderr
    assert (etc / "principals" / "alice").read_text() == "alice\nops\n"
    assert (etc / "user_ca.pub").read_text() == layout["user_ca"].public_line + "\n"
    for path in (layout["cert_path"], etc / "user_ca.pub", layout["krl_path"], etc / "principals" / "alice"):
        assert mode(path) == 0o644, path
    assert mode(etc / "principals") == 0o755


def test_fixes_modes_and_removes_unlisted_principals(ansible_playbook, layout):
    etc = layout["etc"]
    play = ansible_playbook.run([trust_task("first", **full_args(layout, {"alice": ["alice"], "bob": ["bob"]}))])
    assert play.returncode == 0, play.output
    os.chmod(str(layout["cert_path"]), 0o600)
    play = ansible_playbook.run([trust_task("second", **full_args(layout, {"alice": ["alice"]}))], diff=True)
    assert play.returncode == 0, play.output
    second = play.results["second"]
    assert second["changed_paths"] == [str(layout["cert_path"])]
    assert second["removed_paths"] == [str(etc / "principals" / "bob")]
    assert mode(layout["cert_path"]) == 0o644
    assert not (etc / "principals" / "bob").exists()
    assert "mode 0600" in play.output and "mode 0644" in play.output


def test_check_mode_and_diff_write_nothing(ansible_playbook, layout):
    play = ansible_playbook.run([trust_task("would", **full_args(layout))], check=True, diff=True)
    assert play.returncode == 0, play.output
    assert play.results["would"]["changed"]
    assert sorted(os.listdir(str(layout["etc"]))) == []
    assert "KRL version 3, sha256 %s" % hashlib.sha256(layout["krl"]).hexdigest() in play.output
    assert "+alice" in play.output


@pytest.mark.parametrize("field, change, message", [
    ("host_certificates", lambda args, layout: args["host_certificates"][0].update(
        certificate=layout["user_ca"].public_line), "host_certificates[0].certificate is a ssh-ed25519 key"),
    ("trusted_user_ca_keys", lambda args, layout: args["trusted_user_ca_keys"].update(keys=["ssh-ed25519 !!"]),
     "trusted_user_ca_keys.keys[0]"),
    ("revoked_keys", lambda args, layout: args["revoked_keys"].update(sha256="0" * 64),
     "revoked_keys.content has sha256"),
    ("revoked_keys", lambda args, layout: args["revoked_keys"].update(
        krl_option(layout["krl_path"], b"SSHKRL\n\0not a krl")), "revoked_keys.content is not a KRL"),
    ("authorized_principals", lambda args, layout: args["authorized_principals"].update(
        users={"../root": ["x"]}), "authorized_principals.users"),
    ("authorized_principals", lambda args, layout: args["authorized_principals"].update(
        users={"alice": ["a,b"]}), "cannot contain a comma"),
])
def test_bad_input_names_the_field_and_writes_nothing(ansible_playbook, layout, field, change, message):
    args = full_args(layout)
    change(args, layout)
    play = ansible_playbook.run([trust_task("bad", ignore_errors=True, **args)])
    result = play.results["bad"]
    assert result["failed"], play.output
    assert message in result["msg"], result["msg"]
    assert field in result["msg"]
    assert os.listdir(str(layout["etc"])) == []


def test_refuses_to_roll_back_the_krl(ansible_playbook, layout):
    newer = krl_bytes(7)
    layout["krl_path"].write_bytes(newer)
    play = ansible_playbook.run([trust_task("older", ignore_errors=True,
                                            revoked_keys=krl_option(layout["krl_path"], layout["krl"]))])
    result = play.results["older"]
    assert result["failed"] and "version 7, newer than the given version 3" in result["msg"], result
    assert layout["krl_path"].read_bytes() == newer


def test_concurrent_installs_never_roll_the_krl_back(ansible_playbook, layout):
    """Rollouts of versions 1..8 reaching one server at once: the newest stays installed."""
    versions = range(1, 9)
    runs = ansible_playbook.run_concurrently(
        [[trust_task("install", ignore_errors=True,
                     revoked_keys=krl_option(layout["krl_path"], krl_bytes(version)))] for version in versions])
    for version, play in zip(versions, runs):
        result = play.results["install"]
        if result.get("failed"):  # came after a newer one: refused, never written
            assert "newer than the given version %d: refusing to roll it back" % version in result["msg"], result
    assert krl.parse_krl(layout["krl_path"].read_bytes()).version == 8
    assert not runs[-1].results["install"].get("failed")


# --- host key rotation: a staged new key goes in with its certificate, or not at all ------

@pytest.fixture
def rekey(workdir, make_key, sign_cert):
    """An installed host key with its certificate, and a new key staged beside it as the server
    role's rotation writes it (ssh-keygen -f PATH.fleetca-new)."""
    etc = workdir / "etc"
    etc.mkdir()
    host_ca = make_key("trust-host-ca")
    key = str(etc / "ssh_host_ed25519_key")
    old = ssh_keygen_pair(key)
    sign_cert(host_ca, old, cert_type="host", principals=["web1"], key_id="host:web1:ed25519",
              path=key + "-cert.pub")
    new = ssh_keygen_pair(key + ".fleetca-new")
    cert = sign_cert(host_ca, new, cert_type="host", principals=["web1"], key_id="host:web1:ed25519")
    return {"etc": etc, "key": key, "old": old, "new": new, "host_ca": host_ca,
            "entry": {"path": key + "-cert.pub", "certificate": cert.to_line(), "replace_key_from": new.path}}


def fingerprint(run_cmd, path):
    return run_cmd(["ssh-keygen", "-l", "-f", path]).stdout.split()[1]


def test_a_staged_host_key_goes_in_with_its_certificate(ansible_playbook, rekey, run_cmd):
    key, etc = rekey["key"], rekey["etc"]
    old_fp, new_fp = fingerprint(run_cmd, rekey["old"].pub_path), fingerprint(run_cmd, rekey["new"].pub_path)
    files_before = sorted(os.listdir(str(etc)))
    play = ansible_playbook.run([trust_task("would", host_certificates=[rekey["entry"]])], check=True, diff=True)
    assert play.returncode == 0, play.output
    assert play.results["would"]["changed"] and sorted(os.listdir(str(etc))) == files_before
    assert fingerprint(run_cmd, key + ".pub") == old_fp
    assert old_fp in play.output and new_fp in play.output  # the diff names both keys
    play = ansible_playbook.run([trust_task("rotate", host_certificates=[rekey["entry"]])])
    assert play.returncode == 0, play.output
    result = play.results["rotate"]
    assert result["changed_paths"] == [key, key + ".pub", key + "-cert.pub"] and result["host_certificates_changed"]
    derived = run_cmd(["ssh-keygen", "-y", "-f", key]).stdout.split()[:2]
    assert derived == rekey["new"].public_line.split()[:2]
    assert fingerprint(run_cmd, key + ".pub") == new_fp
    listing = run_cmd(["ssh-keygen", "-L", "-f", key + "-cert.pub"], env=SSH_KEYGEN_LIST_ENV).stdout
    assert "Public key: ED25519-CERT " + new_fp in listing
    assert (mode(key), mode(key + ".pub"), mode(key + "-cert.pub")) == (0o600, 0o644, 0o644)
    assert sorted(os.listdir(str(etc))) == ["ssh_host_ed25519_key", "ssh_host_ed25519_key-cert.pub",
                                            "ssh_host_ed25519_key.pub"]


def test_a_staged_host_key_its_certificate_does_not_certify_is_refused(ansible_playbook, rekey, sign_cert):
    entry = dict(rekey["entry"], certificate=sign_cert(rekey["host_ca"], rekey["old"], cert_type="host",
                                                       principals=["web1"], key_id="host:web1:ed25519").to_line())
    before = dict((name, (rekey["etc"] / name).read_bytes()) for name in os.listdir(str(rekey["etc"])))
    play = ansible_playbook.run([trust_task("refused", ignore_errors=True, host_certificates=[entry])])
    result = play.results["refused"]
    assert result["failed"] and not result.get("changed")
    assert "host_certificates[0].replace_key_from" in result["msg"] and "refusing to install a host key" in result["msg"]
    assert dict((name, (rekey["etc"] / name).read_bytes()) for name in os.listdir(str(rekey["etc"]))) == before
