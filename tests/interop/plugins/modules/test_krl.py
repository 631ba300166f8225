# SPDX-License-Identifier: GPL-3.0-or-later
"""fleetca.ssh.krl through Ansible (ansible-playbook, localhost); krl_info reads back what it wrote
(krl_info's own tests are in test_krl_info.py).

Idempotence and versions, check and diff modes, un-revoking by splitting ranges,
anti-rollback, the issuance log selectors, bad input (each a failed task naming
the field, with nothing written and an existing file untouched), and a real sshd
that refuses a revoked certificate and accepts it again once un-revoked.
"""

import glob
import os
import stat
import subprocess
import sys
import time

import pytest
from fleetca_testing.file_attributes import NOBODY, NOGROUP, owner_group_mode, umask

from ansible_collections.fleetca.ssh.plugins.module_utils import krl
from ansible_collections.fleetca.ssh.plugins.module_utils.store import IssuanceLog


def krl_task(register, ignore_errors=False, check_mode=None, **args):
    entry = {"name": register, "fleetca.ssh.krl": args, "register": register}
    if ignore_errors:
        entry["ignore_errors"] = True
    if check_mode is not None:
        entry["check_mode"] = check_mode
    return entry


def info_task(register, **args):
    return {"name": register, "fleetca.ssh.krl_info": args, "register": register}


def assert_ok(play):
    assert play.returncode == 0, play.output
    assert play.recap.get("failed") == 0, play.output


def read(path):
    with open(str(path), "rb") as handle:
        return handle.read()


def keygen_revoked(run_cmd, krl_path, cert_path):
    result = run_cmd(["ssh-keygen", "-Q", "-f", krl_path, cert_path], check=False)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode == 1


@pytest.fixture(scope="module")
def ca(make_key):
    return make_key("krl-module-ca")


@pytest.fixture(scope="module")
def subject(make_key):
    return make_key("krl-module-subject")


def test_revoke_idempotence_versions_and_info(ansible_playbook, workdir, ca, subject, sign_cert, run_cmd):
    path = str(workdir / "revoked.krl")
    cert42 = sign_cert(ca, subject, serial=42, key_id="c42", path=workdir / "c42-cert.pub")
    cert60 = sign_cert(ca, subject, serial=60, key_id="c60", path=workdir / "c60-cert.pub")
    common = dict(path=path, ca_public_key=ca.pub_path)
    play = ansible_playbook.run([
        krl_task("first", serials=[5, "40-50"], key_ids=["bob"], comment="fleet", **common),
        krl_task("again", serials=["40-50", 5], key_ids=["bob"], comment="fleet", **common),
        krl_task("split", serials=["45"], state="absent", **common),
        krl_task("unchanged_absent", serials=["45", "1000-2000"], state="absent", **common),
        info_task("info", path=path, keys=[cert42.to_line(), cert60.to_line(), subject.public_line]),
    ])
    assert_ok(play)
    first, again, split, unchanged, info = (play.results[n] for n in
                                            ("first", "again", "split", "unchanged_absent", "info"))
    fp = cert42.signature_key.fingerprint
    assert first["changed"] and first["krl_version"] == 1 and first["previous_version"] is None
    assert first["added"] == ["serial 5 of CA %s" % fp, "serials 40-50 of CA %s" % fp, 'key id "bob" of CA %s' % fp]
    assert not again["changed"] and again["krl_version"] == 1 and again["added"] == []
    assert split["changed"] and split["krl_version"] == 2 and split["removed"] == ["serial 45 of CA %s" % fp]
    assert not unchanged["changed"] and unchanged["krl_version"] == 2
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert info["krl_version"] == 2 and info["comment"] == "fleet"
    # The digest sha256sum prints: what proves an installed copy is the master.
    assert info["sha256"] == run_cmd(["sha256sum", path]).stdout.split()[0]
    assert info["certificates"][0]["serials"] == ["5", "40-44", "46-50"]
    assert info["certificates"][0]["key_ids"] == ["bob"]
    assert [r["revoked"] for r in info["results"]] == [True, False, False]
    assert info["results"][0]["reason"] == "serial 42 (range 40-44) of CA %s" % fp
    assert keygen_revoked(run_cmd, path, workdir / "c42-cert.pub")
    assert not keygen_revoked(run_cmd, path, workdir / "c60-cert.pub")



def test_an_unchanged_krl_is_one_command_answered_as_the_module_answers(ansible_playbook, workdir, ca):
    """-vvv shows every command: a call that names no entries and changes nothing is one EXEC,
    no module put; a call with a file option runs the module, which answers the same."""
    path = str(workdir / "revoked.krl")
    assert_ok(ansible_playbook.run([krl_task("made", path=path, ca_public_key=ca.pub_path, serials=["7-9"],
                                             comment="fleet")]))
    before = read(path)
    play = ansible_playbook.run([krl_task("exists", path=path, comment="fleet")], verbosity=3)
    assert_ok(play)
    task = play.output.split("TASK [exists]")[1]
    assert task.count("EXEC ") == 1 and "PUT " not in task, task
    module = ansible_playbook.run([krl_task("module", path=path, mode="0644")], verbosity=3)
    assert_ok(module)
    assert "PUT " in module.output.split("TASK [module]")[1]
    answer = module.results["module"]
    answer.pop("invocation", None), answer.pop("diff", None)
    assert play.results["exists"] == answer and answer["changed"] is False and answer["krl_version"] == 1
    assert read(path) == before


def test_check_and_diff_modes_write_nothing(ansible_playbook, workdir, ca):
    path = workdir / "revoked.krl"
    play = ansible_playbook.run([
        krl_task("would_create", check_mode=True, path=str(path), serials=[7], ca_public_key=ca.public_line),
    ], diff=True)
    assert_ok(play)
    result = play.results["would_create"]
    assert result["changed"] and result["krl_version"] == 1 and not path.exists()
    assert "+serial 7 of CA" in play.output and "(no file)" in play.output
    path.write_bytes(krl.Krl(version=9).to_bytes())
    before = read(path)
    play = ansible_playbook.run([
        krl_task("would_add", path=str(path), serials=["1-3"], key_ids=["x"]),
    ], check=True, diff=True)
    assert_ok(play)
    result = play.results["would_add"]
    assert result["changed"] and result["krl_version"] == 10 and result["previous_version"] == 9
    assert result["added"] == ["serials 1-3 of any CA", 'key id "x" of any CA']
    assert read(path) == before
    assert "+serials 1-3 of any CA" in play.output


# --- the file's owner, group and mode, as ansible.builtin.copy keeps them -----------------


def test_rewritten_krl_keeps_owner_group_and_mode(ansible_playbook, workdir):
    path = workdir / "revoked.krl"
    assert_ok(ansible_playbook.run([krl_task("create", path=str(path), serials=[1])]))
    os.chown(str(path), NOBODY, NOGROUP)
    os.chmod(str(path), 0o640)
    play = ansible_playbook.run([krl_task("add", path=str(path), serials=[2])])
    assert_ok(play)
    assert play.results["add"]["changed"] and play.results["add"]["krl_version"] == 2
    assert owner_group_mode(path) == (NOBODY, NOGROUP, 0o640)


def test_owner_group_and_mode_of_the_task_win(ansible_playbook, workdir):
    path = workdir / "revoked.krl"
    assert_ok(ansible_playbook.run([krl_task("create", path=str(path), serials=[1])]))
    os.chown(str(path), NOBODY, NOGROUP)
    os.chmod(str(path), 0o640)
    play = ansible_playbook.run([krl_task("add", path=str(path), serials=[2], owner="root", group="root",
                                          mode="0600")])
    assert_ok(play)
    assert owner_group_mode(path) == (0, 0, 0o600)
    # only the attributes differ: the KRL is kept, the attributes are set
    os.chown(str(path), NOBODY, NOGROUP)
    before = read(path)
    play = ansible_playbook.run([krl_task("same", path=str(path), serials=[2], owner="root")])
    assert_ok(play)
    assert play.results["same"]["changed"] and read(path) == before
    assert owner_group_mode(path) == (0, NOGROUP, 0o600)


def test_new_krl_gets_0644_whatever_the_umask(ansible_playbook, workdir):
    path = workdir / "revoked.krl"
    with umask(0o077):
        assert_ok(ansible_playbook.run([krl_task("create", path=str(path))]))
    assert owner_group_mode(path) == (0, 0, 0o644)


def test_unsafe_writes_replaces_a_krl_that_cannot_be_renamed_over(ansible_playbook, workdir, bind_mounted):
    path = workdir / "revoked.krl"
    path.write_bytes(krl.Krl(version=3).to_bytes())
    bind_mounted(path)  # the bind mount's source is empty: write the KRL into it first
    path.write_bytes(krl.Krl(version=3).to_bytes())
    refused = ansible_playbook.run([krl_task("atomic", ignore_errors=True, path=str(path), serials=[5])])
    assert refused.results["atomic"]["failed"], refused.output
    assert krl.parse_krl(read(path)).version == 3
    play = ansible_playbook.run([krl_task("unsafe", path=str(path), serials=[5], unsafe_writes=True)])
    assert_ok(play)
    assert play.results["unsafe"]["krl_version"] == 4
    assert krl.parse_krl(read(path)).version == 4


def test_check_mode_changes_no_owner_group_mode_or_content(ansible_playbook, workdir):
    path = workdir / "revoked.krl"
    assert_ok(ansible_playbook.run([krl_task("create", path=str(path), serials=[1])]))
    os.chown(str(path), NOBODY, NOGROUP)
    os.chmod(str(path), 0o640)
    before = read(path)
    play = ansible_playbook.run([krl_task("check", path=str(path), serials=[2], owner="root", mode="0600")],
                                check=True)
    assert_ok(play)
    assert play.results["check"]["changed"]
    assert read(path) == before
    assert owner_group_mode(path) == (NOBODY, NOGROUP, 0o640)


def test_anti_rollback(ansible_playbook, workdir):
    path = workdir / "revoked.krl"
    path.write_bytes(krl.Krl(version=50).to_bytes())
    before = read(path)
    play = ansible_playbook.run([
        krl_task("lower", ignore_errors=True, path=str(path), serials=[1], krl_version=49),
        krl_task("equal_changed", ignore_errors=True, path=str(path), serials=[1], krl_version=50),
        krl_task("pinned", path=str(path), serials=[1], krl_version=60),
    ])
    assert play.results["lower"]["failed"]
    assert "refusing to roll it back" in play.results["lower"]["msg"]
    assert "needs a higher version" in play.results["equal_changed"]["msg"]
    assert play.results["pinned"]["krl_version"] == 60
    assert krl.parse_krl(read(path)).version == 60 and before != read(path)


def test_issued_selectors_revoke_from_the_log(ansible_playbook, workdir, ca, make_key, subject, sign_cert, run_cmd):
    other_ca = make_key("krl-module-other-ca")
    store = str(workdir / "issued.db")
    signed = {
        "web": sign_cert(ca, subject, cert_type="host", principals=["web.example"], key_id="web", serial=11,
                         path=workdir / "web-cert.pub"),
        "alice": sign_cert(ca, subject, principals=["alice", "ops"], key_id="alice@x", serial=12,
                           path=workdir / "alice-cert.pub"),
        "alice_other": sign_cert(other_ca, subject, principals=["alice"], key_id="alice@x", serial=12,
                                 path=workdir / "alice_other-cert.pub"),
        "bob": sign_cert(ca, subject, principals=["bob"], key_id="bob@x", serial=13, path=workdir / "bob-cert.pub"),
    }
    log = IssuanceLog(store)
    log.record([(signed["web"], "web1"), (signed["alice"], "laptop"), (signed["alice_other"], "laptop"),
                (signed["bob"], "laptop")])
    log.close()
    path = str(workdir / "revoked.krl")
    play = ansible_playbook.run([
        krl_task("by_host", path=path, store=store, issued=[{"host": "web1"}]),
        krl_task("by_principal_one_ca", path=path, store=store, issued=[{"principal": "alice"}],
                 ca_public_key=ca.pub_path),
        krl_task("typo", ignore_errors=True, path=path, store=store, issued=[{"host": "web01"}]),
        krl_task("two_fields", ignore_errors=True, path=path, store=store, issued=[{"host": "web1", "key_id": "x"}]),
        krl_task("no_store", ignore_errors=True, path=path, issued=[{"host": "web1"}]),
        krl_task("missing_store", ignore_errors=True, path=path, store=str(workdir / "nope.db"),
                 issued=[{"host": "web1"}]),
    ])
    assert play.returncode == 0, play.output
    assert play.results["by_host"]["added"] == ["serial 11 of CA %s" % signed["web"].signature_key.fingerprint]
    assert play.results["by_principal_one_ca"]["added"] == [
        "serial 12 of CA %s" % signed["alice"].signature_key.fingerprint]
    assert "issued[0]: no certificate in the issuance log has host 'web01'" in play.results["typo"]["msg"]
    assert "mutually exclusive" in play.results["two_fields"]["msg"]
    assert "store: required with issued" in play.results["no_store"]["msg"]
    assert "does not exist" in play.results["missing_store"]["msg"]
    assert not os.path.exists(str(workdir / "nope.db"))
    verdicts = dict((name, keygen_revoked(run_cmd, path, workdir / ("%s-cert.pub" % name))) for name in signed)
    assert verdicts == {"web": True, "alice": True, "alice_other": False, "bob": False}


def test_prune_expired_drops_only_what_the_log_proves_expired(ansible_playbook, workdir, ca, make_key, subject,
                                                             sign_cert, run_cmd):
    other_ca = make_key("krl-module-prune-other-ca")
    plain = make_key("krl-module-prune-plain")
    now = int(time.time())
    past = dict(valid_after=now - 7200, valid_before=now - 3600)
    store = str(workdir / "issued.db")
    signed = {
        # serial 21: expired; 22: live; 23: expired, but 23 is also a live certificate of another CA
        "expired": sign_cert(ca, subject, serial=21, path=workdir / "expired-cert.pub", **past),
        "live": sign_cert(ca, subject, serial=22, path=workdir / "live-cert.pub"),
        "expired_23": sign_cert(ca, subject, serial=23, path=workdir / "expired_23-cert.pub", **past),
        "other_live_23": sign_cert(other_ca, subject, serial=23, path=workdir / "other_live_23-cert.pub"),
        # serial 25 reissued by the same CA: one copy expired, one live
        "reissued_old": sign_cert(ca, subject, serial=25, path=workdir / "reissued_old-cert.pub", **past),
        "reissued_new": sign_cert(ca, subject, serial=25, path=workdir / "reissued_new-cert.pub"),
    }
    log = IssuanceLog(store)
    log.record([(cert, "laptop") for cert in signed.values()])
    log.close()
    sign_cert(ca, subject, serial=30, path=workdir / "unknown-cert.pub", **past)  # not in the log, as the next
    sign_cert(ca, subject, serial=40, key_id="gone@x", path=workdir / "key_id-cert.pub", **past)
    path = str(workdir / "revoked.krl")
    # ranges that the pruning must split: 20-26 under the CA, 21-23 under any CA
    assert_ok(ansible_playbook.run([
        krl_task("seed", path=path, ca_public_key=ca.pub_path, serials=["20-26", 30], key_ids=["gone@x"],
                 public_keys=[plain.public_line]),
        krl_task("seed_any_ca", path=path, serials=["21-23"]),
    ]))
    before = read(path)
    names = list(signed) + ["unknown", "key_id"]
    assert all(keygen_revoked(run_cmd, path, workdir / ("%s-cert.pub" % name)) for name in names)
    play = ansible_playbook.run([
        krl_task("check", path=path, store=store, prune_expired=True, check_mode=True),
        krl_task("prune", path=path, store=store, prune_expired=True),
        krl_task("again", path=path, store=store, prune_expired=True),
        krl_task("revoke_expired", path=path, store=store, prune_expired=True, ca_public_key=ca.pub_path,
                 serials=[21]),
        krl_task("no_store", ignore_errors=True, path=path, prune_expired=True),
    ])
    assert play.returncode == 0, play.output
    assert play.results["check"]["changed"] and play.results["check"]["pruned"] == 3
    # under the CA: 21 and 23 (every certificate of that CA with it expired); under any CA: 21 only
    assert play.results["prune"]["changed"] and play.results["prune"]["pruned"] == 3
    assert play.results["prune"]["krl_version"] == play.results["prune"]["previous_version"] + 1
    assert not play.results["again"]["changed"] and play.results["again"]["pruned"] == 0
    assert not play.results["revoke_expired"]["changed"] and play.results["revoke_expired"]["added"] == []
    assert "store: required with prune_expired" in play.results["no_store"]["msg"]
    verdicts = dict((name, keygen_revoked(run_cmd, path, workdir / ("%s-cert.pub" % name))) for name in names)
    assert verdicts == {"expired": False, "live": True, "expired_23": True, "other_live_23": True,
                        "reissued_old": True, "reissued_new": True, "unknown": True, "key_id": True}
    assert keygen_revoked(run_cmd, path, plain.pub_path)
    assert before != read(path)


def keygen_dump(run_cmd, krl_path):
    """`ssh-keygen -Q -l` of a KRL without its header (version and generation time)."""
    lines = run_cmd(["ssh-keygen", "-Q", "-l", "-f", str(krl_path)]).stdout.splitlines()
    return [line for line in lines if not line.startswith(("# KRL version", "# Generated at"))]


def test_a_spec_file_revokes_what_ssh_keygen_k_revokes_for_it(ansible_playbook, workdir, ca, make_key, subject,
                                                                sign_cert, run_cmd):
    explicit, hashed_sha1, hashed_sha256, bare, by_fingerprint = (
        make_key("krl-spec-" + name) for name in ("explicit", "sha1", "sha256", "bare", "fingerprint"))
    cert = sign_cert(ca, subject, serial=77, path=workdir / "bare-cert.pub")
    spec = workdir / "revocations.spec"
    spec.write_text("\n".join([
        "# revocations kept by CI", "", "serial: 5", "  serial: 10-20   # a range", "SERIAL: 0x30",
        "serial: 0100-0110", "id: lost-laptop", "key: " + explicit.public_line, "sha1: " + hashed_sha1.public_line,
        "sha256: " + hashed_sha256.public_line, "hash: " + fingerprint_of(run_cmd, by_fingerprint.pub_path),
        cert.to_line(), ""]))
    keygen_krl = workdir / "keygen.krl"
    run_cmd(["ssh-keygen", "-k", "-f", keygen_krl, "-s", ca.pub_path, spec])
    path = str(workdir / "revoked.krl")
    play = ansible_playbook.run([krl_task("spec", path=path, ca_public_key=ca.pub_path, spec_file=str(spec))])
    assert_ok(play)
    ours, theirs = keygen_dump(run_cmd, path), keygen_dump(run_cmd, keygen_krl)
    assert ours == theirs, "\n".join(["ours:"] + ours + ["ssh-keygen:"] + theirs)
    # A bare plain key line: revoked by its SHA256 hash (as public_keys); some ssh-keygen versions
    # store the key itself. sshd refuses it either way.
    with open(str(spec), "a") as handle:
        handle.write(bare.public_line + "\n")
    play = ansible_playbook.run([
        krl_task("spec", path=path, ca_public_key=ca.pub_path, spec_file=str(spec)),
        krl_task("again", path=path, ca_public_key=ca.pub_path, spec_file=str(spec)),
    ])
    assert_ok(play)
    assert play.results["spec"]["added"] == ["sha256 fingerprint %s (ssh-ed25519 key)" % fingerprint_of(run_cmd, bare.pub_path)]
    assert not play.results["again"]["changed"]
    for revoked in (explicit.pub_path, hashed_sha1.pub_path, hashed_sha256.pub_path, bare.pub_path,
                    by_fingerprint.pub_path, str(workdir / "bare-cert.pub")):
        assert keygen_revoked(run_cmd, path, revoked), revoked
    assert not keygen_revoked(run_cmd, path, subject.pub_path)


def fingerprint_of(run_cmd, pub_path):
    return run_cmd(["ssh-keygen", "-l", "-E", "sha256", "-f", pub_path]).stdout.split()[1]


BAD_SPECS = [
    ("serial: 0\n", "spec_file line 1: serial 0 cannot be revoked"),
    ("serial: 1\nserial: 5-5\n", "spec_file line 2: invalid serial range '5-5'"),
    ("serial: 5 - 9\n", "spec_file line 1: invalid serial '5 '"),
    ("serial: twelve\n", "spec_file line 1: invalid serial 'twelve'"),
    ("\n\nkey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==\n", "spec_file line 3"),
    ("hash: MD5:00:11\n", "spec_file line 1: 'MD5:00:11' is not a SHA256 fingerprint"),
]


@pytest.mark.parametrize("text, message", BAD_SPECS)
def test_a_bad_spec_line_is_named_and_nothing_is_written(ansible_playbook, workdir, ca, run_cmd, text, message):
    spec = workdir / "bad.spec"
    spec.write_text(text)
    keygen = run_cmd(["ssh-keygen", "-k", "-f", workdir / "keygen.krl", "-s", ca.pub_path, spec], check=False)
    assert keygen.returncode != 0, "ssh-keygen -k accepts %r" % text  # we refuse what it refuses
    path = workdir / "revoked.krl"
    play = ansible_playbook.run([krl_task("bad", ignore_errors=True, path=str(path), ca_public_key=ca.pub_path,
                                          spec_file=str(spec)),
                                 krl_task("missing", ignore_errors=True, path=str(path),
                                          spec_file=str(workdir / "none.spec"))])
    assert message in play.results["bad"]["msg"], play.results["bad"]
    assert "spec_file: %s does not exist" % (workdir / "none.spec") in play.results["missing"]["msg"]
    assert not path.exists() and not os.path.exists(str(path) + ".lock")


BAD_INPUTS = [
    ("serial_zero", dict(serials=[0]), "serials: 0: serial 0 cannot be revoked"),
    ("range_reversed", dict(serials=["9-5"]), "serials: '9-5': range minimum is larger than its maximum"),
    ("not_a_number", dict(serials=["twelve"]), "serials: 'twelve' is not a serial number"),
    ("malformed_key", dict(public_keys=["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA=="]), "public_keys[0]"),
    ("bad_fingerprint", dict(sha256_fingerprints=["d4:1d:8c:d9:8f:00:b2:04"]), "sha256_fingerprints: "),
    ("bad_ca", dict(ca_public_key="/nonexistent/ca.pub", serials=[1]), "ca_public_key"),
]


def test_bad_input_fails_naming_the_field_and_writes_nothing(ansible_playbook, workdir):
    path = workdir / "revoked.krl"
    corrupt = workdir / "corrupt.krl"
    corrupt.write_bytes(krl.Krl(version=3).to_bytes()[:-2])
    (workdir / "adir").mkdir()
    tasks = [krl_task(name, ignore_errors=True, path=str(path), **args) for name, args, _message in BAD_INPUTS]
    tasks += [krl_task("corrupt", ignore_errors=True, path=str(corrupt), serials=[1]),
              krl_task("directory", ignore_errors=True, path=str(workdir / "adir"), serials=[1]),
              info_task("info_corrupt", path=str(corrupt))]
    tasks[-1]["ignore_errors"] = True
    play = ansible_playbook.run(tasks)
    assert play.returncode == 0, play.output
    for name, _args, message in BAD_INPUTS:
        assert play.results[name]["failed"], name
        assert message in play.results[name]["msg"], (name, play.results[name]["msg"])
    assert not path.exists()
    assert "corrupt.krl is not a valid KRL: truncated KRL header: comment" in play.results["corrupt"]["msg"]
    assert "at byte offset" in play.results["corrupt"]["msg"]
    assert corrupt.read_bytes() == krl.Krl(version=3).to_bytes()[:-2]
    assert "is a directory" in play.results["directory"]["msg"]
    assert play.results["info_corrupt"]["failed"] and "not a valid KRL" in play.results["info_corrupt"]["msg"]


def test_sshd_refuses_a_revoked_certificate_and_accepts_it_once_unrevoked(
        ansible_playbook, workdir, sshd, ssh, ca, make_key, sign_cert, login_user):
    user_key = make_key("krl-module-login")
    revoked_path = str(workdir / "sshd.krl")
    store = str(workdir / "issued.db")
    target = sign_cert(ca, user_key, key_id="target", serial=501, path=workdir / "target-cert.pub")
    bystander = sign_cert(ca, user_key, key_id="bystander", serial=502, path=workdir / "bystander-cert.pub")
    log = IssuanceLog(store)
    log.record([(target, "host-a"), (bystander, "host-b")])
    log.close()
    assert_ok(ansible_playbook.run([krl_task("empty", path=revoked_path)]))  # before sshd names it
    server = sshd(trusted_user_ca_keys=[ca], options={"RevokedKeys": revoked_path})
    assert ssh(server, user_key, workdir / "target-cert.pub").returncode == 0

    assert_ok(ansible_playbook.run([krl_task("revoke", path=revoked_path, store=store, issued=[{"host": "host-a"}])]))
    refused = ssh(server, user_key, workdir / "target-cert.pub")
    assert refused.returncode == 255 and "revoked" in refused.server_log, refused.describe()
    assert ssh(server, user_key, workdir / "bystander-cert.pub").returncode == 0

    assert_ok(ansible_playbook.run([krl_task("unrevoke", path=revoked_path, store=store,
                                             issued=[{"host": "host-a"}], state="absent")]))
    assert ssh(server, user_key, workdir / "target-cert.pub").returncode == 0


# --- concurrent runs ------------------------------------------------------

LOCK_HOLDER = """
import sys, time
from ansible_collections.fleetca.ssh.plugins.module_utils.locks import FileLock
with FileLock(sys.argv[1], timeout=5):
    print("locked", flush=True)
    time.sleep(600)
"""


def start_lock_holder(path):
    """A process holding the KRL's lock (as a run stuck mid-write would) until it is killed."""
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def wait_for_another_opener(path, holder_pid, timeout=120):
    """Until a process other than the holder has `path` open (/proc/PID/fd)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for fd_dir in glob.glob("/proc/[0-9]*/fd"):
            if fd_dir == "/proc/%d/fd" % holder_pid:
                continue
            try:
                if any(os.readlink(os.path.join(fd_dir, fd)) == path for fd in os.listdir(fd_dir)):
                    return
            except OSError:  # the process ended meanwhile
                continue
        time.sleep(0.2)
    raise AssertionError("no process opened %s within %d s" % (path, timeout))


def test_sixteen_concurrent_runs_all_land(ansible_playbook, workdir, ca, subject, sign_cert, run_cmd):
    path = str(workdir / "revoked.krl")
    serials = range(101, 117)
    runs = ansible_playbook.run_concurrently(
        [[krl_task("revoke", path=path, ca_public_key=ca.pub_path, serials=[serial])] for serial in serials])
    for play in runs:
        assert_ok(play)
        assert play.results["revoke"]["changed"]
    # the version rose once per change: each run edited the file the one before it wrote
    assert sorted(play.results["revoke"]["krl_version"] for play in runs) == list(range(1, 17))
    assert krl.parse_krl(read(path)).version == 16
    for serial in serials:
        cert = sign_cert(ca, subject, serial=serial, path=workdir / ("c%d-cert.pub" % serial))
        assert keygen_revoked(run_cmd, path, workdir / ("c%d-cert.pub" % serial)), cert.serial
    not_revoked = sign_cert(ca, subject, serial=117, path=workdir / "c117-cert.pub")
    assert not keygen_revoked(run_cmd, path, workdir / "c117-cert.pub"), not_revoked.serial


def test_a_held_lock_times_out_naming_the_holder_and_writes_nothing(ansible_playbook, workdir):
    path = workdir / "revoked.krl"
    path.write_bytes(krl.Krl(version=3).to_bytes())
    before = read(path)
    holder = start_lock_holder(path)
    try:
        play = ansible_playbook.run([krl_task("blocked", ignore_errors=True, path=str(path), serials=[9],
                                              lock_timeout=2)])
    finally:
        holder.kill()
        holder.wait()
    message = play.results["blocked"]["msg"]
    assert play.results["blocked"]["failed"]
    assert message.startswith("lock_timeout: gave up after 2 s waiting for the lock %s.lock" % path)
    assert "held by pid %d on " % holder.pid in message
    assert read(path) == before


def test_a_killed_holder_frees_the_lock_and_a_long_wait_is_reported(ansible_playbook, workdir):
    path = workdir / "revoked.krl"
    holder = start_lock_holder(path)
    started = ansible_playbook.start([krl_task("waited", path=str(path), serials=[9], lock_timeout=120)])
    wait_for_another_opener("%s.lock" % path, holder.pid)  # the module is waiting for the lock
    time.sleep(6)  # past the 5 s after which a waiting run says so
    holder.kill()  # SIGKILL: nothing of the holder runs any more, the kernel drops its flock
    holder.wait()
    play = ansible_playbook.finish(started)
    assert_ok(play)
    result = play.results["waited"]
    assert result["changed"] and result["krl_version"] == 1
    assert any(warning.startswith("waited ") and "for the lock %s.lock" % path in warning
               for warning in result["warnings"]), result
    assert krl.parse_krl(read(path)).version == 1


def test_a_large_revocation_lists_100_entries_and_counts_the_rest(ansible_playbook, workdir, run_cmd):
    path = str(workdir / "revoked.krl")
    play = ansible_playbook.run([krl_task("many", path=path, serials=list(range(1, 300, 2)))], diff=True)
    assert_ok(play)
    added = play.results["many"]["added"]
    assert len(added) == 101 and added[:2] == ["serial 1 of any CA", "serial 3 of any CA"]
    assert added[-1] == "... and 50 more"
    assert play.results["many"]["entries"] == 150
    assert "serial: 299\n" in run_cmd(["ssh-keygen", "-Q", "-l", "-f", path]).stdout
