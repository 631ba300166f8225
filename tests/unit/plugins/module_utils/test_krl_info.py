# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/krl_info.py: what krl_info answers about a KRL that ssh-keygen -k built, from
one read of the file, with the verdicts `ssh-keygen -Q` gives; errors name the option."""

import base64
import hashlib
import subprocess

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import krl_info
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def keygen(*args, check=True):
    return subprocess.run(["ssh-keygen"] + [str(a) for a in args], check=check, capture_output=True, text=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A KRL (version 7) revoking serial 10 of a CA, and certificates of serials 10 and 50."""
    directory = tmp_path_factory.mktemp("krl-info")
    for name in ("ca", "subject"):
        keygen("-q", "-t", "ed25519", "-N", "", "-f", directory / name)
    certificates = {}
    for serial in (10, 50):
        keygen("-q", "-s", directory / "ca", "-I", "c%d" % serial, "-n", "someone", "-z", serial, "-V", "+1h",
               directory / "subject.pub")
        renamed = directory / ("c%d-cert.pub" % serial)
        (directory / "subject-cert.pub").rename(renamed)
        certificates[serial] = str(renamed)
    (directory / "spec").write_text("serial: 10\n")
    path = directory / "revoked.krl"
    keygen("-k", "-f", path, "-s", directory / "ca.pub", "-z", 7, directory / "spec")
    lines = [open(certificates[serial]).read().strip() for serial in (10, 50)]
    return dict(path=str(path), certificates=certificates, lines=lines)


def test_the_verdicts_are_ssh_keygen_qs(world):
    answer = krl_info.read_krl_info(world["path"], world["lines"])
    for serial, result in zip((10, 50), answer["results"]):
        queried = keygen("-Q", "-f", world["path"], world["certificates"][serial], check=False)
        assert result["revoked"] is (queried.returncode == 1), (serial, result, queried.stdout)
    assert answer["results"][0]["reason"].startswith("serial 10 of CA SHA256:")
    assert answer["results"][1] == {"key": world["lines"][1], "revoked": False, "reason": None}


def test_header_digest_and_content_describe_the_file_read(world):
    with open(world["path"], "rb") as handle:
        data = handle.read()
    answer = krl_info.read_krl_info(world["path"], [], content=True)
    assert answer["krl_version"] == 7
    assert answer["sha256"] == hashlib.sha256(data).hexdigest()
    assert base64.b64decode(answer["content"]) == data
    assert [entry["serials"] for entry in answer["certificates"]] == [["10"]]


def test_entries_false_returns_the_header_and_verdicts_only(world):
    answer = krl_info.read_krl_info(world["path"], world["lines"][:1], entries=False)
    assert not set(krl_info.ENTRY_FIELDS) & set(answer)
    assert "content" not in answer and answer["results"][0]["revoked"] is True


@pytest.mark.parametrize("path_name, keys, message", [
    ("missing.krl", [], "path: {path} does not exist"),
    ("revoked.krl", ["ssh-ed25519 !!!"], "keys[0]"),
])
def test_errors_name_the_option(world, tmp_path, path_name, keys, message):
    path = world["path"] if path_name == "revoked.krl" else str(tmp_path / path_name)
    with pytest.raises(FleetcaError, match=message.format(path=path).replace("[", r"\[")):
        krl_info.read_krl_info(path, keys)


def test_payload_main_answers_and_fails_as_a_module(world, tmp_path):
    args = {"path": world["path"], "keys": [], "entries": False, "content": False}
    assert krl_info.payload_main(args)["krl_version"] == 7
    args["path"] = str(tmp_path / "missing.krl")
    assert krl_info.payload_main(args) == {"failed": True, "msg": "path: %s/missing.krl does not exist" % tmp_path}
