# SPDX-License-Identifier: GPL-3.0-or-later
"""fleetca.ssh.cert through Ansible: ansible-playbook against localhost (connection local).

Idempotence (a second run reports changed=0, batches included), the
renew window, check and diff modes, the issuance log, and bad input: every bad input is
a failed task whose message names the field, with no certificate written and no row
logged, next to a twin task (the same input, corrected) that succeeds.
"""

import base64
import datetime
import json
import os
import pathlib
import sqlite3
import stat

import pytest
from fleetca_testing import commands, openssh_keys
from fleetca_testing.file_attributes import NOBODY, NOGROUP, owner_group_mode, umask

import ansible_collections.fleetca.ssh.plugins.modules.cert as cert_module
from ansible_collections.fleetca.ssh.plugins.module_utils import certs, keys, signers
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError, encode_mpint, encode_string

PASSPHRASE = "Corr3ct-Horse-Battery-Staple-5219"
WRONG_PASSPHRASE = "Wr0ng-Passphrase-Zebra-7713"


def task(name, module, register=None, **args):
    entry = {"name": name, module: args}
    if register:
        entry["register"] = register
    return entry


def cert_task(register, ignore_errors=False, **args):
    entry = task(register, "fleetca.ssh.cert", register, **args)
    if ignore_errors:
        entry["ignore_errors"] = True
    return entry


def assert_ok(play, changed=None):
    assert play.returncode == 0, play.output
    assert play.recap.get("failed") == 0, play.output
    if changed is not None:
        assert play.recap.get("changed") == changed, play.output


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def read_cert(path):
    return certs.parse_certificate("certificate", open(str(path)).read())


def key_material(line):
    """`TYPE BASE64` of a key line, without its comment."""
    return " ".join(line.split()[:2])


def store_rows(store):
    """The issuance log's certificate rows, in insertion order."""
    if not os.path.exists(str(store)):
        return []
    db = sqlite3.connect(str(store))
    try:
        db.row_factory = sqlite3.Row
        rows = [dict(row) for row in db.execute("SELECT * FROM certificates ORDER BY rowid")]
    finally:
        db.close()
    for row in rows:
        row["principals"] = json.loads(row["principals"])
    return rows


@pytest.fixture(scope="module")
def ca(make_key):
    return make_key("module-ca")


@pytest.fixture(scope="module")
def pass_ca(make_key):
    return make_key("module-ca-passphrase", passphrase=PASSPHRASE)


@pytest.fixture(scope="module")
def subjects(make_key):
    return {
        "ed25519": make_key("subject-ed25519"),
        "ecdsa": make_key("subject-ecdsa", "ecdsa"),
        "rsa": make_key("subject-rsa", "rsa"),
    }


# --- cert: idempotence, renewal, check and diff ---------------------------------


def user_cert_args(ca, subject, workdir, **overrides):
    args = dict(ca_key=ca.path, store=str(workdir / "issued.db"), type="user", public_key_path=subject.pub_path,
                path=str(workdir / "alice-cert.pub"), principals=["alice", "ops-team"], key_id="alice@example.com",
                valid_for="+1h", requester="laptop-alice")
    args.update(overrides)
    return args


def test_cert_second_run_reports_changed_0(ansible_playbook, ca, subjects, workdir, keygen_list):
    host_path = workdir / "web1-cert.pub"
    tasks = [
        cert_task("user", **user_cert_args(ca, subjects["ed25519"], workdir)),
        cert_task("host", ca_key=ca.path, store=str(workdir / "issued.db"), type="host",
                  public_key=subjects["ecdsa"].public_line, path=str(host_path),
                  principals=["web1", "web1.example.com"], valid_for="+52w", renew_before="+4w", requester="web1"),
    ]
    first = ansible_playbook.run(tasks)
    assert_ok(first, changed=2)
    user_path = workdir / "alice-cert.pub"
    for path in (user_path, host_path):
        assert mode_of(path) == 0o644
    user, host = read_cert(user_path), read_cert(host_path)
    ca_public = keys.parse_public_key("public key", ca.public_line)
    assert user.signature_valid(ca_public) and host.signature_valid(ca_public)
    assert (user.type_name, user.principals, user.key_id) == ("user", ["alice", "ops-team"], "alice@example.com")
    assert (host.type_name, host.principals, host.key_id) == ("host", ["web1", "web1.example.com"], "web1")
    assert first.results["user"]["serial"] == user.serial
    assert first.results["user"]["certificate"] == open(str(user_path)).read().strip()
    listing = keygen_list(user_path)
    assert 'Key ID: "alice@example.com"' in listing and "Serial: %d" % user.serial in listing
    contents = (user_path.read_bytes(), host_path.read_bytes())

    second = ansible_playbook.run(tasks)
    assert_ok(second, changed=0)
    assert (user_path.read_bytes(), host_path.read_bytes()) == contents
    for name in ("user", "host"):
        assert second.results[name]["changed"] is False
        assert second.results[name]["reason"] is None
        assert second.results[name]["serial"] == first.results[name]["serial"]
    assert len(store_rows(workdir / "issued.db")) == 2


def test_batch_requests_three_certs_then_changed_0(ansible_playbook, ca, subjects, workdir, keygen_list):
    requests = [dict(type="host", public_key=subjects[kind].public_line, path=str(workdir / ("%s-cert.pub" % kind)),
                     principals=["web-%s" % kind, "web-%s.example.com" % kind], valid_for="+52w",
                     renew_before="+4w", requester="web-%s" % kind)
                for kind in ("ed25519", "ecdsa", "rsa")]
    tasks = [cert_task("batch", ca_key=ca.path, store=str(workdir / "issued.db"), requests=requests)]
    first = ansible_playbook.run(tasks)
    assert_ok(first, changed=1)
    entries = first.results["batch"]["certificates"]
    assert [e["changed"] for e in entries] == [True, True, True]
    serials = [e["serial"] for e in entries]
    assert len(set(serials)) == 3 and 0 not in serials
    for kind, entry in zip(("ed25519", "ecdsa", "rsa"), entries):
        path = workdir / ("%s-cert.pub" % kind)
        cert = read_cert(path)
        assert cert.serial == entry["serial"] and entry["path"] == str(path)
        assert cert.principals == ["web-%s" % kind, "web-%s.example.com" % kind]
        assert cert.public_key == keys.parse_public_key("public key", subjects[kind].public_line)
        assert cert.key_type == certs.cert_type_name(cert.public_key.key_type)
        assert "Type: %s host certificate" % cert.key_type in keygen_list(path)
    contents = [open(e["path"], "rb").read() for e in entries]

    second = ansible_playbook.run(tasks)
    assert_ok(second, changed=0)
    assert [e["changed"] for e in second.results["batch"]["certificates"]] == [False, False, False]
    assert [e["serial"] for e in second.results["batch"]["certificates"]] == serials
    assert [open(e["path"], "rb").read() for e in entries] == contents
    assert len(store_rows(workdir / "issued.db")) == 3


def keygen_fields(keygen_list, path):
    return openssh_keys.parse_ssh_keygen_listing(keygen_list(path))


def validity_days(fields):
    """The days between `Valid: from A to B` of ssh-keygen -L (TZ=UTC), rounded."""
    start, end = fields["Valid"].split("from ", 1)[1].split(" to ")
    seconds = (datetime.datetime.fromisoformat(end) - datetime.datetime.fromisoformat(start)).total_seconds()
    return round(seconds / 86400.0)


def test_batch_top_level_options_are_every_entrys_default(ansible_playbook, ca, subjects, workdir, keygen_list):
    paths = dict((kind, workdir / ("%s-cert.pub" % kind)) for kind in ("ed25519", "ecdsa", "rsa"))
    requests = [
        dict(public_key=subjects["ed25519"].public_line, path=str(paths["ed25519"]), principals=["web1"]),
        dict(public_key=subjects["ecdsa"].public_line, path=str(paths["ecdsa"]), principals=["web2"],
             valid_for="+2d"),  # its own value wins (and it is outside the renew window)
        dict(public_key_path=subjects["rsa"].pub_path, path=str(paths["rsa"]), principals=["web3"],
             valid_to="20991231"),  # one of a pair: replaces the top-level valid_for, no conflict
    ]
    tasks = [cert_task("batch", ca_key=ca.path, store=str(workdir / "issued.db"), type="host", valid_for="+52w",
                       renew_before="+1d", requester="ci", requests=requests)]
    first = ansible_playbook.run(tasks)
    assert_ok(first, changed=1)
    listed = dict((kind, keygen_fields(keygen_list, path)) for kind, path in paths.items())
    for kind, principal in (("ed25519", "web1"), ("ecdsa", "web2"), ("rsa", "web3")):
        assert listed[kind]["Type"].endswith(" host certificate"), listed[kind]
        assert listed[kind]["Principals"] == [principal]
    assert validity_days(listed["ed25519"]) == 364
    assert validity_days(listed["ecdsa"]) == 2
    assert listed["rsa"]["Valid"].endswith(" to 2099-12-31T00:00:00"), listed["rsa"]
    assert [row["requester"] for row in store_rows(workdir / "issued.db")] == ["ci", "ci", "ci"]

    second = ansible_playbook.run(tasks)
    assert_ok(second, changed=0)
    assert len(store_rows(workdir / "issued.db")) == 3


def test_batch_bad_entry_names_it_and_signs_nothing(ansible_playbook, ca, subjects, workdir):
    good = dict(public_key=subjects["ed25519"].public_line, path=str(workdir / "good-cert.pub"), principals=["web1"])
    cases = {
        "bad_value": (dict(good, path=str(workdir / "bad-cert.pub"), valid_for="+52x"), "requests[1].valid_for"),
        "unknown_option": (dict(good, path=str(workdir / "bad-cert.pub"), principal=["web2"]),
                           "requests[1] unsupported options: principal"),
        "both_of_a_pair": (dict(good, path=str(workdir / "bad-cert.pub"), valid_to="20991231", valid_for="+1d"),
                           "valid_to"),
    }
    tasks = [cert_task(case, ignore_errors=True, ca_key=ca.path, store=str(workdir / "issued.db"), type="host",
                       valid_for="+52w", requests=[good, bad]) for case, (bad, dummy) in sorted(cases.items())]
    play = ansible_playbook.run(tasks)
    assert play.recap.get("ignored") == len(cases), play.output
    for case, (dummy, named) in cases.items():
        assert play.results[case]["failed"] is True
        assert named in play.results[case]["msg"], (case, play.results[case]["msg"])
    assert not os.path.exists(str(workdir / "good-cert.pub")) and not os.path.exists(str(workdir / "bad-cert.pub"))
    assert store_rows(workdir / "issued.db") == []


def test_ansible_doc_shows_what_a_request_may_hold(run_cmd):
    done = run_cmd([commands.venv_tool("ansible-doc"), "--json", "fleetca.ssh.cert"],
                   env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=commands.collections_root()))
    options = json.loads(done.stdout)["fleetca.ssh.cert"]["doc"]["options"]
    suboptions = options["requests"]["suboptions"]
    assert set(suboptions) == set(cert_module.CERT_SPEC), sorted(suboptions)
    for name, spec in cert_module.CERT_SPEC.items():
        # documented once: the same text at the top level and in an entry
        assert suboptions[name]["description"] == options[name]["description"], name
        # validate-modules checks the top level against the argument spec; the elements are checked
        # by the module itself against CERT_SPEC, so their documentation is compared here
        for key in ("type", "elements", "choices"):
            assert suboptions[name].get(key) == spec.get(key), (name, key)


def test_cert_file_mode_octal_and_symbolic(ansible_playbook, ca, subjects, workdir):
    tasks = [
        cert_task("octal", **user_cert_args(ca, subjects["ed25519"], workdir, path=str(workdir / "octal-cert.pub"),
                                            mode="0600")),
        cert_task("symbolic", **user_cert_args(ca, subjects["ecdsa"], workdir,
                                               path=str(workdir / "symbolic-cert.pub"), mode="u=rw,g=r,o=")),
    ]
    first = ansible_playbook.run(tasks)
    assert_ok(first, changed=2)
    assert mode_of(workdir / "octal-cert.pub") == 0o600
    assert mode_of(workdir / "symbolic-cert.pub") == 0o640
    assert_ok(ansible_playbook.run(tasks), changed=0)
    # only the mode drifted: check mode predicts the change without making it, a real run fixes it
    os.chmod(str(workdir / "octal-cert.pub"), 0o644)
    check = ansible_playbook.run(tasks, check=True)
    assert_ok(check, changed=1)
    assert check.results["octal"]["changed"] is True and check.results["symbolic"]["changed"] is False
    assert mode_of(workdir / "octal-cert.pub") == 0o644
    assert_ok(ansible_playbook.run(tasks), changed=1)
    assert mode_of(workdir / "octal-cert.pub") == 0o600


# --- cert: the file's owner, group and mode, as ansible.builtin.copy keeps them ---------


def resign_args(ca, subject, workdir, path, **overrides):
    """A user certificate at `path` that every run re-signs (the renew window is longer than its validity)."""
    return user_cert_args(ca, subject, workdir, path=str(path), renew_before="+2h", **overrides)


def test_resigned_certificate_keeps_owner_group_and_mode(ansible_playbook, ca, subjects, workdir):
    single, batch_a, batch_b = (workdir / name for name in ("single-cert.pub", "a-cert.pub", "b-cert.pub"))
    requests = [dict(type="user", public_key_path=subjects[kind].pub_path, path=str(path), principals=["alice"],
                     valid_for="+1h", renew_before="+2h") for kind, path in (("ecdsa", batch_a), ("rsa", batch_b))]
    tasks = [cert_task("single", **resign_args(ca, subjects["ed25519"], workdir, single)),
             cert_task("batch", ca_key=ca.path, store=str(workdir / "issued.db"), requests=requests)]
    assert_ok(ansible_playbook.run(tasks), changed=2)
    os.chown(str(single), NOBODY, NOGROUP)
    os.chmod(str(single), 0o640)
    os.chown(str(batch_a), NOBODY, NOGROUP)
    os.chmod(str(batch_a), 0o600)
    os.chmod(str(batch_b), 0o444)
    before = [read_cert(path).serial for path in (single, batch_a, batch_b)]

    assert_ok(ansible_playbook.run(tasks), changed=2)
    assert [read_cert(path).serial for path in (single, batch_a, batch_b)] != before  # re-signed
    assert owner_group_mode(single) == (NOBODY, NOGROUP, 0o640)
    assert owner_group_mode(batch_a) == (NOBODY, NOGROUP, 0o600)
    assert owner_group_mode(batch_b) == (0, 0, 0o444)


def test_owner_group_and_mode_of_the_task_win(ansible_playbook, ca, subjects, workdir):
    single, batched = workdir / "single-cert.pub", workdir / "batched-cert.pub"
    assert_ok(ansible_playbook.run([cert_task("sign", **resign_args(ca, subjects["ed25519"], workdir, single))]))
    os.chown(str(single), NOBODY, NOGROUP)
    os.chmod(str(single), 0o640)
    request = dict(type="user", public_key_path=subjects["ecdsa"].pub_path, path=str(batched), principals=["bob"],
                   valid_for="+1h")
    play = ansible_playbook.run([
        cert_task("single", **resign_args(ca, subjects["ed25519"], workdir, single, owner="root", group="root",
                                          mode="0600")),
        cert_task("batch", ca_key=ca.path, store=str(workdir / "issued.db"), requests=[request],
                  owner="nobody", group="nogroup", mode="u=rw,g=r,o="),
    ])
    assert_ok(play, changed=2)
    assert owner_group_mode(single) == (0, 0, 0o600)
    assert owner_group_mode(batched) == (NOBODY, NOGROUP, 0o640)


def test_new_certificate_gets_0644_whatever_the_umask(ansible_playbook, ca, subjects, workdir):
    path = workdir / "new-cert.pub"
    with umask(0o077):
        assert_ok(ansible_playbook.run([cert_task("sign", **user_cert_args(ca, subjects["ed25519"], workdir,
                                                                           path=str(path)))]), changed=1)
    assert owner_group_mode(path) == (0, 0, 0o644)


def test_unsafe_writes_replaces_a_file_that_cannot_be_renamed_over(ansible_playbook, ca, subjects, workdir,
                                                                   bind_mounted):
    path = workdir / "mounted-cert.pub"
    path.write_bytes(b"")
    bind_mounted(path)  # renaming over a mount point fails (EBUSY), as for a file bind-mounted into a container
    args = user_cert_args(ca, subjects["ed25519"], workdir, path=str(path))
    refused = ansible_playbook.run([cert_task("atomic", ignore_errors=True, **args)])
    assert refused.results["atomic"]["failed"], refused.output
    assert "mounted-cert.pub" in refused.results["atomic"]["msg"]
    assert path.read_bytes() == b""
    assert_ok(ansible_playbook.run([cert_task("unsafe", unsafe_writes=True, **args)]), changed=1)
    assert read_cert(path).principals == ["alice", "ops-team"]


def test_check_mode_changes_no_owner_group_mode_or_content(ansible_playbook, ca, subjects, workdir):
    path = workdir / "kept-cert.pub"
    assert_ok(ansible_playbook.run([cert_task("sign", **resign_args(ca, subjects["ed25519"], workdir, path))]))
    os.chown(str(path), NOBODY, NOGROUP)
    os.chmod(str(path), 0o640)
    content = path.read_bytes()
    check = ansible_playbook.run([cert_task("check", **resign_args(ca, subjects["ed25519"], workdir, path,
                                                                   owner="root", mode="0600"))], check=True)
    assert_ok(check, changed=1)
    assert path.read_bytes() == content
    assert owner_group_mode(path) == (NOBODY, NOGROUP, 0o640)


def test_cert_inside_the_renew_window_is_resigned(ansible_playbook, ca, subjects, workdir):
    path = workdir / "alice-cert.pub"
    first = ansible_playbook.run([cert_task("sign", **user_cert_args(ca, subjects["ed25519"], workdir))])
    assert_ok(first, changed=1)
    signed = path.read_bytes()
    # an hour left: a 30 minute window keeps it, a 2 hour window (longer than the validity) re-signs it
    second = ansible_playbook.run([
        cert_task("outside", **user_cert_args(ca, subjects["ed25519"], workdir, renew_before="30m")),
        cert_task("inside", **user_cert_args(ca, subjects["ed25519"], workdir, renew_before="+2h")),
    ])
    assert_ok(second, changed=1)
    assert second.results["outside"]["changed"] is False
    assert second.results["inside"]["changed"] is True
    assert second.results["inside"]["reason"] == "inside the renew window"
    assert second.results["inside"]["serial"] > first.results["sign"]["serial"]
    assert path.read_bytes() != signed
    assert read_cert(path).serial == second.results["inside"]["serial"]
    assert len(store_rows(workdir / "issued.db")) == 2


def test_check_mode_writes_nothing_and_reports_changed(ansible_playbook, ca, subjects, workdir):
    path, store = workdir / "alice-cert.pub", workdir / "issued.db"
    tasks = [cert_task("sign", **user_cert_args(ca, subjects["ed25519"], workdir))]
    check_new = ansible_playbook.run(tasks, check=True)
    assert_ok(check_new, changed=1)
    assert check_new.results["sign"]["reason"] == "no certificate yet"
    assert not os.path.exists(str(path))
    assert store_rows(store) == []

    assert_ok(ansible_playbook.run(tasks), changed=1)
    signed, rows = path.read_bytes(), store_rows(store)
    check = ansible_playbook.run([
        cert_task("same", **user_cert_args(ca, subjects["ed25519"], workdir)),
        cert_task("renew", **user_cert_args(ca, subjects["ed25519"], workdir, renew_before="+2h")),
    ], check=True)
    assert_ok(check, changed=1)
    assert check.results["same"]["changed"] is False
    assert check.results["renew"]["changed"] is True
    assert check.results["renew"]["reason"] == "inside the renew window"
    assert path.read_bytes() == signed
    assert store_rows(store) == rows


def test_diff_mode_shows_fields_before_and_after(ansible_playbook, ca, subjects, workdir):
    args = user_cert_args(ca, subjects["ed25519"], workdir, principals=["alice"])
    first = ansible_playbook.run([cert_task("sign", **args)], diff=True)
    assert_ok(first, changed=1)
    assert first.results["sign"]["diff"]["before"] == ""
    assert "Principals: alice\n" in first.results["sign"]["diff"]["after"]
    old_serial = first.results["sign"]["serial"]

    args.update(principals=["alice", "bob"], key_id="alice+bob")
    second = ansible_playbook.run([cert_task("sign", **args)], diff=True)
    assert_ok(second, changed=1)
    diff = second.results["sign"]["diff"]
    new_serial = second.results["sign"]["serial"]
    for text, principals, key_id, serial in ((diff["before"], "alice", "alice@example.com", old_serial),
                                             (diff["after"], "alice, bob", "alice+bob", new_serial)):
        assert "Type: ssh-ed25519-cert-v01@openssh.com user certificate" in text, text
        assert "Principals: %s\n" % principals in text, text
        assert 'Key ID: "%s"' % key_id in text, text
        assert "Serial: %d\n" % serial in text, text
        assert "Signing CA: ssh-ed25519 %s" % keys.parse_public_key("public key", ca.public_line).fingerprint in text, text
    # the diff is what ansible-playbook --diff prints
    assert "+Principals: alice, bob" in second.output and "-Principals: alice" in second.output, second.output

    renew = dict(args, renew_before="+2h")
    check = ansible_playbook.run([cert_task("sign", **renew)], check=True, diff=True)
    assert_ok(check, changed=1)
    assert "Serial: %d" % new_serial in check.results["sign"]["diff"]["before"]
    assert "to be signed: inside the renew window" in check.results["sign"]["diff"]["after"]


def test_issuance_log_has_one_row_per_certificate(ansible_playbook, ca, subjects, workdir):
    store = workdir / "issued.db"
    requests = [dict(type="host", public_key=subjects[kind].public_line, path=str(workdir / ("%s-cert.pub" % kind)),
                     principals=[kind + ".example.com"], key_id="host-" + kind, valid_for="+52w",
                     requester="web-" + kind) for kind in ("ecdsa", "rsa")]
    tasks = [
        cert_task("user", **user_cert_args(ca, subjects["ed25519"], workdir)),
        cert_task("batch", ca_key=ca.path, store=str(store), requests=requests),
        cert_task("fixed", **user_cert_args(ca, subjects["ecdsa"], workdir, path=str(workdir / "fixed-cert.pub"),
                                            principals=["bob"], key_id="bob-fixed", serial=50000,
                                            requester="laptop-bob")),
        cert_task("after", **user_cert_args(ca, subjects["rsa"], workdir, path=str(workdir / "after-cert.pub"),
                                            principals=["carol"], key_id="carol", requester=None)),
    ]
    tasks[-1]["fleetca.ssh.cert"].pop("requester")
    play = ansible_playbook.run(tasks)
    assert_ok(play, changed=4)
    paths = [workdir / "alice-cert.pub", workdir / "ecdsa-cert.pub", workdir / "rsa-cert.pub",
             workdir / "fixed-cert.pub", workdir / "after-cert.pub"]
    requesters = ["laptop-alice", "web-ecdsa", "web-rsa", "laptop-bob", None]
    rows = store_rows(store)
    assert len(rows) == 5
    ca_public = keys.parse_public_key("public key", ca.public_line)
    for row, path, requester in zip(rows, paths, requesters):
        cert = read_cert(path)
        assert row["serial"] == cert.serial
        assert row["key_id"] == cert.key_id
        assert row["principals"] == cert.principals
        assert row["cert_type"] == cert.type_name
        assert row["requester"] == requester
        assert (row["valid_after"], row["valid_before"]) == (cert.valid_after, cert.valid_before)
        assert row["subject_fingerprint"] == cert.public_key.fingerprint
        assert row["ca_fingerprint"] == ca_public.fingerprint
        assert key_material(row["certificate"]) == key_material(cert.to_line())
    serials = [row["serial"] for row in rows]
    assert 0 not in serials
    assert serials == sorted(set(serials)), serials  # unique and increasing in issue order
    assert serials[3:] == [50000, 50001]  # an explicit serial moves the allocator past it

    again = ansible_playbook.run(tasks)
    assert_ok(again, changed=0)
    assert len(store_rows(store)) == 5


# --- bad input --------------------------------------------------------------------

def dss_line():
    """An ssh-dss key line (DSA: parsed by OpenSSH, not signable here)."""
    blob = encode_string("ssh-dss") + b"".join(encode_mpint(v) for v in (2 ** 1023 + 1, 2 ** 159 + 7, 2, 5))
    return "ssh-dss %s dsa-key" % base64.b64encode(blob).decode()


def bad_input_cases(subject_line, cert_line, workdir):
    """name -> (bad overrides, twin overrides, substrings the failure message must contain)."""
    key_type, encoded = subject_line.split()[:2]
    blob = base64.b64decode(encoded)
    return {
        "malformed-key-line": (dict(public_key="ssh-ed25519"), {}, ["public_key", "TYPE BASE64"]),
        "truncated-base64": (dict(public_key="%s %s" % (key_type, encoded[:-3])), {},
                             ["public_key", "base64"]),
        "truncated-key-blob": (dict(public_key="%s %s" % (key_type, base64.b64encode(blob[:-8]).decode())), {},
                               ["public_key", "malformed"]),
        "unsupported-key-type": (dict(public_key=dss_line()), {}, ["public_key", "ssh-dss"]),
        "certificate-as-public-key": (dict(public_key=cert_line), {}, ["public_key", "certificate"]),
        "missing-public-key-path": (dict(public_key=None, public_key_path=str(workdir / "nowhere.pub")), {},
                                    ["public_key_path", "does not exist"]),
        "newline-in-principal": (dict(principals=["alice\nroot"]), dict(principals=["alice", "root"]),
                                 ["principals", "\\n"]),
        "comma-in-principal": (dict(principals=["alice,root"]), dict(principals=["alice", "root"]),
                               ["principals", "','"]),
        "serial-0": (dict(serial=0), dict(serial=77000), ["serial"]),
        "valid-to-before-valid-from": (dict(valid_from="20300101", valid_to="20290101", valid_for=None),
                                       dict(valid_from="20290101", valid_to="20300101", valid_for=None),
                                       ["valid_to", "valid_from"]),
        "bad-valid-for": (dict(valid_for="+52x"), dict(valid_for="+52w"), ["valid_for", "+52x"]),
        "unknown-critical-option": (dict(critical_options={"no-such-option": "yes"}),
                                    dict(critical_options={"force-command": "/bin/true"}),
                                    ["critical_options", "no-such-option"]),
        "host-cert-with-critical-options": (dict(type="host", critical_options={"force-command": "/bin/true"}),
                                            dict(type="host"), ["critical_options"]),
        "cert-path-in-missing-directory": (dict(path=str(workdir / "missing" / "dir" / "cert.pub")), {},
                                           ["path", "does not exist"]),
        "user-cert-without-principals": (dict(principals=[]), dict(principals=[], allow_any_principal=True),
                                         ["principals", "allow_any_principal"]),
    }


def _register_name(case, suffix):
    return "r_%s_%s" % (case.replace("-", "_"), suffix)


BASELINE = "baseline"  # the twin of every case whose corrected input is the unchanged base input


def _twin_of(case, cases):
    return case if cases[case][1] else BASELINE


@pytest.fixture(scope="module")
def bad_input_play(ansible_runner, tmp_path_factory, ca, subjects, sign_cert):
    """One playbook: every bad input (ignore_errors) and its twin; run once for the module."""
    workdir = tmp_path_factory.mktemp("bad-input")
    cert_line = sign_cert(ca, subjects["rsa"], principals=["x"]).to_line()
    cases = bad_input_cases(subjects["ed25519"].public_line, cert_line, workdir)
    runs = [(BASELINE, "twin", {})]
    for case, (bad, good, _expected) in sorted(cases.items()):
        runs.append((case, "bad", bad))
        if good:
            runs.append((case, "twin", good))
    tasks, paths = [], {}
    for case, suffix, overrides in runs:
        args = dict(ca_key=ca.path, store=str(workdir / "issued.db"), type="user",
                    public_key=subjects["ed25519"].public_line, path=str(workdir / ("%s-%s-cert.pub" % (case, suffix))),
                    principals=["alice"], key_id="%s-%s" % (case, suffix), valid_for="+1h")
        args.update(overrides)
        args = dict((k, v) for k, v in args.items() if v is not None)
        paths[case, suffix] = args["path"]
        tasks.append(cert_task(_register_name(case, suffix), ignore_errors=(suffix == "bad"), **args))
    play = ansible_runner(workdir / "ansible").run(tasks)
    return play, cases, paths, store_rows(workdir / "issued.db")


BAD_INPUT_CASES = sorted(bad_input_cases("ssh-ed25519 AAAA", "x", pathlib.Path("/")))


@pytest.mark.parametrize("case", BAD_INPUT_CASES)
def test_bad_input_fails_clearly_and_writes_nothing(bad_input_play, case):
    play, cases, paths, rows = bad_input_play
    assert play.returncode == 0, play.output  # only ignored failures
    expected = cases[case][2]
    bad = play.results[_register_name(case, "bad")]
    assert bad["failed"] is True, bad
    for text in expected:
        assert text in bad["msg"], (text, bad["msg"])
    assert "Traceback" not in bad["msg"] and "module_stderr" not in bad, bad
    assert not os.path.exists(paths[case, "bad"])
    assert [row for row in rows if row["key_id"] == "%s-bad" % case] == []
    # the twin, the same input with this field corrected, went through: the failure is about the field
    twin_case = _twin_of(case, cases)
    twin = play.results[_register_name(twin_case, "twin")]
    assert twin.get("failed") is not True, twin
    assert twin["changed"] is True
    assert os.path.exists(paths[twin_case, "twin"])
    assert [row["key_id"] for row in rows if row["key_id"] == "%s-twin" % twin_case] == ["%s-twin" % twin_case]


def test_bad_input_play_summary(bad_input_play):
    """Every bad task failed and was ignored; nothing else failed; one row per twin, none for a bad input."""
    play, cases, _paths, rows = bad_input_play
    assert play.recap["ignored"] == len(cases), play.output
    assert play.recap["failed"] == 0, play.output
    twins = set(_twin_of(case, cases) for case in cases)
    assert sorted(row["key_id"] for row in rows) == sorted("%s-twin" % case for case in twins)


def test_wrong_passphrase_fails_without_leaking_it(ansible_playbook, pass_ca, subjects, workdir):
    store = workdir / "issued.db"
    common = dict(ca_key=pass_ca.path, store=str(store), type="user", public_key=subjects["ed25519"].public_line,
                  principals=["alice"], valid_for="+1h")
    tasks = [
        cert_task("bad", ignore_errors=True, ca_key_passphrase=WRONG_PASSPHRASE, key_id="wrong-passphrase",
                  path=str(workdir / "bad-cert.pub"), **common),
        cert_task("twin", ca_key_passphrase=PASSPHRASE, key_id="right-passphrase",
                  path=str(workdir / "twin-cert.pub"), **common),
    ]
    play = ansible_playbook.run(tasks, verbosity=3)
    assert play.returncode == 0, play.output
    assert play.recap["ignored"] == 1, play.output
    message = play.results["bad"]["msg"]
    assert "ca_key_passphrase" in message and "wrong passphrase" in message, message
    assert WRONG_PASSPHRASE not in message
    assert not os.path.exists(str(workdir / "bad-cert.pub"))
    assert play.results["twin"]["changed"] is True and os.path.exists(str(workdir / "twin-cert.pub"))
    assert [row["key_id"] for row in store_rows(store)] == ["right-passphrase"]
    # nowhere in the whole -vvv output, nor in the registered results
    dumped = json.dumps(play.results)
    for secret in (WRONG_PASSPHRASE, PASSPHRASE):
        assert secret not in play.output
        assert secret not in dumped
    # the engine's own message, before Ansible's no_log masking, does not carry it either
    with pytest.raises(FleetcaError) as raised:
        signers.load_private_key("ca_key", pass_ca.path, "ca_key_passphrase", WRONG_PASSPHRASE)
    assert WRONG_PASSPHRASE not in str(raised.value) and "wrong passphrase" in str(raised.value)


def test_batch_echoes_each_request_as_given_and_never_the_passphrase(ansible_playbook, pass_ca, subjects, workdir):
    requests = [dict(public_key=subjects["ed25519"].public_line, principals=["web1"]),
                dict(public_key=subjects["ecdsa"].public_line, principals=["web2"], valid_for="+1d")]
    play = ansible_playbook.run([cert_task("batch", ca_key=pass_ca.path, ca_key_passphrase=PASSPHRASE,
                                           store=str(workdir / "issued.db"), type="host", valid_for="+52w",
                                           requests=requests)], verbosity=3)
    assert_ok(play, changed=1)
    assert play.results["batch"]["invocation"]["module_args"]["requests"] == requests
    assert PASSPHRASE not in play.output and PASSPHRASE not in json.dumps(play.results)


def test_a_batch_over_100_is_echoed_as_its_first_100_requests_and_every_outcome_returned(ansible_playbook, pass_ca,
                                                                                          subjects, workdir):
    requests = [dict(public_key=subjects["ed25519"].public_line, principals=["web%d" % index], key_id="web%d" % index)
                for index in range(130)]
    play = ansible_playbook.run([cert_task("batch", ca_key=pass_ca.path, ca_key_passphrase=PASSPHRASE,
                                           store=str(workdir / "issued.db"), type="host", valid_for="+52w",
                                           requests=requests)], verbosity=3)
    assert_ok(play, changed=1)
    result = play.results["batch"]
    assert result["invocation"]["module_args"]["requests"] == requests[:100] + ["... and 30 more"]
    assert result["invocation"]["module_args"]["type"] == "host"
    assert [entry["certificate"].split()[0] for entry in result["certificates"]] == [
        "ssh-ed25519-cert-v01@openssh.com"] * 130
    assert PASSPHRASE not in play.output and PASSPHRASE not in json.dumps(play.results)


def test_a_batch_without_files_is_one_command_and_answers_as_the_module_does(ansible_playbook, pass_ca, subjects,
                                                                             workdir):
    """-vvv shows every command: a batch whose certificates go to no file is signed as one payload
    (one EXEC, no module put, the passphrase on its stdin); the same batch with a file attribute
    set (the module's to apply) runs the module, and both answer the same."""
    requests = [dict(public_key=subjects[kind].public_line, principals=[kind], requester="ci-" + kind)
                for kind in ("ed25519", "ecdsa", "rsa")]
    common = dict(ca_key=pass_ca.path, ca_key_passphrase=PASSPHRASE, type="host", valid_for="+52w", requests=requests)
    checked = dict(cert_task("checked", store=str(workdir / "checked.db"), **common), check_mode=True, diff=True)
    play = ansible_playbook.run([cert_task("payload", store=str(workdir / "payload.db"), **common),
                                 cert_task("module", store=str(workdir / "module.db"), mode="0600", **common),
                                 checked], verbosity=3)
    assert_ok(play, changed=3)
    payload_output, module_output = play.output.split("TASK [checked]")[0].split("TASK [payload]")[1].split(
        "TASK [module]")
    assert payload_output.count("EXEC ") == 1 and "PUT " not in payload_output, payload_output
    assert "PUT " in module_output, module_output
    assert PASSPHRASE not in play.output and PASSPHRASE not in json.dumps(play.results)
    by_payload, by_module = play.results["payload"], play.results["module"]
    assert by_payload["invocation"]["module_args"]["ca_key_passphrase"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert by_payload["invocation"]["module_args"]["requests"] == by_module["invocation"]["module_args"]["requests"]
    for ours, theirs in zip(by_payload["certificates"], by_module["certificates"]):
        assert sorted(ours) == sorted(theirs)
        assert [ours[name] for name in ("changed", "requester", "reason", "serial")] == [
            theirs[name] for name in ("changed", "requester", "reason", "serial")]
        signed, expected = (certs.parse_certificate("certificate", entry["certificate"]) for entry in (ours, theirs))
        assert (signed.principals, signed.key_id, signed.cert_type, signed.signature_key) == (
            expected.principals, expected.key_id, expected.cert_type, expected.signature_key)
        assert signed.signature_valid(keys.load_public_key_option("ca", pass_ca.pub_path))
    assert [(row["key_id"], row["requester"]) for row in store_rows(workdir / "payload.db")] == [
        (row["key_id"], row["requester"]) for row in store_rows(workdir / "module.db")] == [
        ("ed25519", "ci-ed25519"), ("ecdsa", "ci-ecdsa"), ("rsa", "ci-rsa")]
    # check mode through the payload: what would be signed, and why; nothing signed or recorded
    assert play.output.split("TASK [checked]")[1].count("EXEC ") == 1
    assert [entry.get("reason") for entry in play.results["checked"]["certificates"]] == ["no certificate yet"] * 3
    assert not [entry for entry in play.results["checked"]["certificates"] if "certificate" in entry]
    assert play.results["checked"]["diff"]["after"].count("(to be signed: no certificate yet)") == 3
    assert not os.path.exists(str(workdir / "checked.db"))


# --- people's certificates under a policy (profiles and users) ------------------------

PROFILES = {
    "ops": {"principals": ["{user}", "ops"], "valid_for": "+8h", "max_valid_for": "+12h",
            "extensions": ["permit-pty", "permit-port-forwarding"], "source_address": ["192.0.2.0/24", "10.1.2.3"]},
    "backup": {"principals": ["backup"], "valid_for": "+1h", "max_valid_for": "+2h",
               "force_command": "/usr/local/bin/backup --serve", "extensions": [], "key_id": "backup:{user}"},
}
USERS = {"alice": {"profiles": ["default", "ops"]}, "bob": {"profiles": ["backup"]}}


def policy_args(ca, workdir, **overrides):
    args = dict(ca_key=ca.path, store=str(workdir / "issued.db"), user_cert_profiles=PROFILES, users=USERS)
    args.update(overrides)
    return args


def validity_hours(fields):
    start, end = fields["Valid"].split("from ", 1)[1].split(" to ")
    seconds = (datetime.datetime.fromisoformat(end) - datetime.datetime.fromisoformat(start)).total_seconds()
    return round((seconds - 300) / 3600.0, 2)  # valid_from is five minutes back


def test_each_profile_signs_what_it_says_in_one_batch(ansible_playbook, ca, subjects, workdir, keygen_list):
    paths = dict((name, workdir / ("%s-cert.pub" % name)) for name in ("alice-ops", "alice-default", "bob-backup"))
    requests = [
        dict(person="alice", profile="ops", public_key=subjects["ed25519"].public_line, path=str(paths["alice-ops"])),
        dict(person="alice", public_key=subjects["ecdsa"].public_line, path=str(paths["alice-default"]),
             valid_for="+2h"),
        dict(person="bob", profile="backup", public_key_path=subjects["rsa"].pub_path, path=str(paths["bob-backup"])),
    ]
    tasks = [cert_task("people", **policy_args(ca, workdir, requests=requests))]
    first = ansible_playbook.run(tasks)
    assert_ok(first, changed=1)
    ops, default, backup = (keygen_fields(keygen_list, paths[name])
                            for name in ("alice-ops", "alice-default", "bob-backup"))
    assert ops["Type"].endswith(" user certificate") and ops["Key ID"] == '"alice@ops"'
    assert ops["Principals"] == ["alice", "ops"] and validity_hours(ops) == 8
    assert ops["Critical Options"] == ["source-address 192.0.2.0/24,10.1.2.3/32"]
    assert ops["Extensions"] == ["permit-port-forwarding", "permit-pty"]
    assert default["Principals"] == ["alice"] and default["Key ID"] == '"alice@default"'
    assert validity_hours(default) == 2 and default["Critical Options"] == "(none)"
    assert default["Extensions"] == sorted(certs.DEFAULT_USER_EXTENSIONS)
    assert backup["Principals"] == ["backup"] and backup["Key ID"] == '"backup:bob"' and validity_hours(backup) == 1
    assert backup["Critical Options"] == ["force-command /usr/local/bin/backup --serve"]
    assert backup["Extensions"] == "(none)"
    rows = store_rows(workdir / "issued.db")
    assert [(row["requester"], row["key_id"]) for row in rows] == [
        ("alice", "alice@ops"), ("alice", "alice@default"), ("bob", "backup:bob")]

    second = ansible_playbook.run(tasks)
    assert_ok(second, changed=0)
    assert len(store_rows(workdir / "issued.db")) == 3


def test_one_task_with_a_policy_and_a_person(ansible_playbook, ca, subjects, workdir, keygen_list):
    """What a playbook calls for one person: the policy, the person, the profile, a key line."""
    path = workdir / "carol-cert.pub"
    play = ansible_playbook.run([cert_task("carol", ca_key=ca.path, store=str(workdir / "issued.db"),
                                           user_cert_profiles={}, users={}, person="carol",
                                           public_key=subjects["ed25519"].public_line, path=str(path))])
    assert_ok(play, changed=1)
    fields = keygen_fields(keygen_list, path)
    assert fields["Principals"] == ["carol"] and fields["Key ID"] == '"carol@default"' and validity_hours(fields) == 16
    assert play.results["carol"]["serial"] == store_rows(workdir / "issued.db")[0]["serial"]
    assert store_rows(workdir / "issued.db")[0]["requester"] == "carol"


POLICY_REFUSALS = {
    # name: (options of the refused request, text the message must contain)
    "unknown_person": (dict(person="mallory"), "person: mallory is not in users, so gets no certificate"),
    "profile_not_theirs": (dict(person="bob", profile="ops"), "profile: bob may not use profile ops (allowed: backup)"),
    "unknown_profile": (dict(person="alice", profile="root"), "profile: no profile 'root'"),
    "above_max_valid_for": (dict(person="alice", profile="ops", valid_for="+13h"),
                            "valid_for: +13h is above profile ops's max_valid_for"),
    "principal_outside_profile": (dict(person="alice", profile="ops", principals=["root"]),
                                  "principals: root outside profile ops (allowed: alice, ops)"),
    "key_id_in_request": (dict(person="alice", key_id="root"), "key_id: a person's certificate takes it from the"),
    "extensions_in_request": (dict(person="alice", extensions={"permit-agent-forwarding": ""}),
                              "extensions: a person's certificate takes it from the profile"),
    "force_command_in_request": (dict(person="alice", critical_options={"force-command": "/bin/sh"}),
                                 "critical_options: a person's certificate takes it from the profile"),
    "host_type": (dict(person="alice", type="host"), "type: a person's certificate is a user certificate"),
    "no_person": (dict(type="user", principals=["root"], valid_for="+1h"), "person is required"),
    "bad_source_address": (dict(person="alice", user_cert_profiles=dict(PROFILES, ops=dict(
        PROFILES["ops"], source_address=["10.0.0.1/8"]))), "user_cert_profiles.ops.source_address: '10.0.0.1/8'"),
    "unknown_extension": (dict(person="alice", user_cert_profiles=dict(PROFILES, ops=dict(
        PROFILES["ops"], extensions=["permit-everything"]))),
        "user_cert_profiles.ops.extensions: unknown extension permit-everything"),
}


@pytest.fixture(scope="module")
def policy_refusals_play(ansible_runner, tmp_path_factory, ca, subjects):
    """One playbook: every refused request (single and as the second of a batch), then one that is granted."""
    workdir = tmp_path_factory.mktemp("policy-refusals")
    good = dict(person="alice", public_key=subjects["ecdsa"].public_line, path=str(workdir / "good-cert.pub"))
    tasks, paths = [], {}
    for case, (given, dummy) in sorted(POLICY_REFUSALS.items()):
        paths[case] = str(workdir / ("%s-cert.pub" % case))
        args = policy_args(ca, workdir, public_key=subjects["ed25519"].public_line, path=paths[case])
        args.update(given)
        tasks.append(cert_task("single_" + case, ignore_errors=True, **args))
        top_level = dict((k, v) for k, v in given.items() if k == "user_cert_profiles")
        entry = dict((k, v) for k, v in given.items() if k != "user_cert_profiles")
        batch = policy_args(ca, workdir, requests=[good, dict(entry, public_key=subjects["ed25519"].public_line,
                                                              path=paths[case])], **top_level)
        tasks.append(cert_task("batch_" + case, ignore_errors=True, **batch))
    tasks.append(cert_task("granted", **policy_args(ca, workdir, requests=[dict(good, path=str(workdir / "ok.pub"))])))
    play = ansible_runner(workdir / "ansible").run(tasks)
    return play, paths, workdir


@pytest.mark.parametrize("case", sorted(POLICY_REFUSALS))
def test_a_request_outside_the_policy_signs_writes_and_records_nothing(policy_refusals_play, case):
    play, paths, workdir = policy_refusals_play
    assert play.returncode == 0, play.output
    expected = POLICY_REFUSALS[case][1]
    for name, prefix in (("single_" + case, ""), ("batch_" + case, "requests[1].")):
        refused = play.results[name]
        assert refused["failed"] is True, refused
        assert expected in refused["msg"], (name, refused["msg"])
        if not expected.startswith("user_cert_profiles"):
            assert refused["msg"].startswith(prefix), (name, refused["msg"])  # the request is named
    assert not os.path.exists(paths[case])
    assert not os.path.exists(str(workdir / "good-cert.pub"))  # the batch's good request was not signed either


def test_policy_refusals_leave_the_log_with_only_the_granted_certificate(policy_refusals_play):
    play, dummy, workdir = policy_refusals_play
    assert play.recap["ignored"] == 2 * len(POLICY_REFUSALS) and play.recap["failed"] == 0, play.output
    assert play.results["granted"]["changed"] is True
    assert [(row["requester"], row["key_id"]) for row in store_rows(workdir / "issued.db")] == [("alice", "alice@default")]
    assert os.path.exists(str(workdir / "ok.pub"))
