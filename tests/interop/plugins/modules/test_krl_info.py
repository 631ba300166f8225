# SPDX-License-Identifier: GPL-3.0-or-later
"""fleetca.ssh.krl_info through Ansible, on a KRL that `ssh-keygen -k` built: the header and the
entries by section, and for each queried key the verdict `ssh-keygen -Q` gives and the entry
that revokes it; bad input fails naming the field."""

import base64
import re
import time

import pytest

SPEC = """serial: 10
serial: 20-30
id: lost-laptop
key: {revoked_key}
hash: {retired_ca_fingerprint}
sha256: {hashed_key}
"""


def info_task(name, **args):
    return {"name": name, "fleetca.ssh.krl_info": args, "register": re.sub(r"\W", "_", name),
            "ignore_errors": True}


def fingerprint(run_cmd, pub_path):
    """SHA256:... as `ssh-keygen -l` prints it."""
    return run_cmd(["ssh-keygen", "-l", "-E", "sha256", "-f", pub_path]).stdout.split()[1]


@pytest.fixture(scope="module")
def world(tmp_path_factory, make_key, sign_cert, run_cmd):
    """A KRL built by ssh-keygen -k, and the keys and certificates to query, each in a file."""
    directory = tmp_path_factory.mktemp("krl-info")
    keypairs = dict((name, make_key("krl-info-" + name)) for name in
                    ("ca", "other-ca", "retired-ca", "revoked-key", "hashed-key", "subject", "fresh"))
    spec = directory / "spec"
    spec.write_text(SPEC.format(revoked_key=keypairs["revoked-key"].public_line,
                                retired_ca_fingerprint=fingerprint(run_cmd, keypairs["retired-ca"].pub_path),
                                hashed_key=keypairs["hashed-key"].public_line))
    krl_path = str(directory / "revoked.krl")
    started = int(time.time())
    run_cmd(["ssh-keygen", "-k", "-f", krl_path, "-s", keypairs["ca"].pub_path, "-z", "7", str(spec)])
    finished = int(time.time())
    queries = {}
    for name, ca, subject, serial, key_id in (
            ("serial 10", "ca", "subject", 10, "c10"), ("serial 25", "ca", "subject", 25, "c25"),
            ("key id", "ca", "subject", 99, "lost-laptop"), ("not revoked", "ca", "subject", 50, "c50"),
            ("serial 10 of another CA", "other-ca", "subject", 10, "o10"),
            ("signed by the retired CA", "retired-ca", "subject", 5, "r5"),
            ("certifies a revoked key", "ca", "revoked-key", 51, "c51")):
        path = directory / ("%s-cert.pub" % name.replace(" ", "_"))
        sign_cert(keypairs[ca], keypairs[subject], serial=serial, key_id=key_id, path=path)
        queries[name] = str(path)
    for name in ("revoked-key", "hashed-key", "fresh"):
        queries[name] = keypairs[name].pub_path
    return dict(krl=krl_path, keypairs=keypairs, queries=queries, built=(started, finished))


@pytest.fixture(scope="module")
def info(ansible_runner, tmp_path_factory, world):
    names = sorted(world["queries"])
    lines = []
    for name in names:
        with open(world["queries"][name]) as handle:
            lines.append(handle.read().strip())
    run = ansible_runner(tmp_path_factory.mktemp("krl-info-play")).run(
        [info_task("info", path=world["krl"], keys=lines)])
    result = run.results["info"]
    assert not result.get("failed"), run.output
    return dict(zip(names, result["results"])), result


def test_each_verdict_is_the_one_ssh_keygen_q_gives(info, world, run_cmd):
    verdicts, dummy = info
    for name, path in world["queries"].items():
        keygen = run_cmd(["ssh-keygen", "-Q", "-f", world["krl"], path], check=False)
        assert keygen.returncode in (0, 1), keygen.stderr
        assert verdicts[name]["revoked"] is (keygen.returncode == 1), (name, verdicts[name], keygen.stdout)


def test_each_reason_names_the_entry_that_revokes(info, world, run_cmd):
    verdicts, dummy = info
    pub = dict((name, pair.pub_path) for name, pair in world["keypairs"].items())
    ca, retired = fingerprint(run_cmd, pub["ca"]), fingerprint(run_cmd, pub["retired-ca"])
    revoked, hashed = fingerprint(run_cmd, pub["revoked-key"]), fingerprint(run_cmd, pub["hashed-key"])
    assert dict((name, v["reason"]) for name, v in verdicts.items()) == {
        "serial 10": "serial 10 of CA %s" % ca,
        "serial 25": "serial 25 (range 20-30) of CA %s" % ca,
        "key id": 'key id "lost-laptop" of CA %s' % ca,
        "not revoked": None,
        "serial 10 of another CA": None,
        "signed by the retired CA": "CA key %s itself is revoked (sha256 fingerprint %s)" % (retired, retired),
        "certifies a revoked key": "key %s" % revoked,  # `key:` lines are explicit keys
        "revoked-key": "key %s" % revoked,
        "hashed-key": "sha256 fingerprint %s" % hashed,
        "fresh": None,
    }
    with open(world["queries"]["fresh"]) as handle:
        assert verdicts["fresh"]["key"] == handle.read().strip()  # each result names its key as given


def test_the_header_and_sections_are_what_ssh_keygen_wrote(info, world, run_cmd):
    dummy, result = info
    pub = dict((name, pair.pub_path) for name, pair in world["keypairs"].items())
    started, finished = world["built"]
    assert result["changed"] is False
    assert result["krl_version"] == 7
    assert started <= result["generated_epoch"] <= finished
    assert result["generated"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(result["generated_epoch"]))
    assert result["sha256"] == run_cmd(["sha256sum", world["krl"]]).stdout.split()[0]
    (section,) = result["certificates"]
    assert section["ca_fingerprint"] == fingerprint(run_cmd, pub["ca"])
    assert (section["serials"], section["serial_count"], section["range_count"]) == (["10", "20-30"], 12, 2)
    assert section["key_ids"] == ["lost-laptop"]
    assert result["sha256_fingerprints"] == sorted(fingerprint(run_cmd, pub[name])
                                                   for name in ("retired-ca", "hashed-key"))
    revoked_key = world["keypairs"]["revoked-key"].public_line
    assert result["keys"] == [" ".join(revoked_key.split()[:2])]
    assert result["sha1_fingerprints"] == []


def test_without_entries_and_with_content_it_returns_the_file_and_the_verdicts(ansible_runner, tmp_path_factory,
                                                                              world, info):
    verdicts, full = info
    with open(world["queries"]["serial 10"]) as handle:
        line = handle.read().strip()
    run = ansible_runner(tmp_path_factory.mktemp("krl-info-content")).run(
        [info_task("info", path=world["krl"], keys=[line], entries=False, content=True)])
    result = run.results["info"]
    assert not result.get("failed"), run.output
    assert not set(result) & {"certificates", "keys", "sha1_fingerprints", "sha256_fingerprints"}, result
    assert (result["krl_version"], result["sha256"]) == (full["krl_version"], full["sha256"])
    assert result["results"] == [verdicts["serial 10"]]
    with open(world["krl"], "rb") as handle:
        assert base64.b64decode(result["content"]) == handle.read()
    assert "content" not in full


@pytest.fixture(scope="module")
def bad_input(ansible_runner, tmp_path_factory, world):
    directory = tmp_path_factory.mktemp("krl-info-bad")
    garbage = directory / "garbage.krl"
    garbage.write_bytes(b"SSHKRL\n\0not really")
    with open(world["queries"]["fresh"]) as handle:
        good_line = handle.read().strip()
    tasks = [
        info_task("missing", path=str(directory / "absent.krl")),
        info_task("garbage", path=str(garbage)),
        info_task("directory", path=str(directory)),
        info_task("bad key", path=world["krl"], keys=[good_line, "ssh-ed25519 AAAA"]),
    ]
    run = ansible_runner(directory).run(tasks)
    assert len(run.results) == len(tasks), run.output
    return run.results, directory


@pytest.mark.parametrize("task, message", [
    ("missing", "path: {dir}/absent.krl does not exist"),
    ("garbage", "path: {dir}/garbage.krl is not a valid KRL: KRL header"),
    ("directory", "path: {dir} is a directory, not a KRL file"),
    ("bad key", "keys[1] is malformed"),
])
def test_bad_input_fails_naming_the_field(bad_input, task, message):
    results, directory = bad_input
    assert results[task].get("failed"), results[task]
    assert message.format(dir=directory) in results[task]["msg"], results[task]["msg"]
