# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the trust files' planning (sshd_trust): nothing written until apply, bad input
refused by field."""

import base64
import hashlib
import os

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import krl, sshd_trust
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def krl_option(version):
    data = krl.Krl(version=version, generated=1).to_bytes()
    return base64.b64encode(data).decode(), hashlib.sha256(data).hexdigest(), data


def test_plan_krl_writes_nothing_until_apply(tmp_path):
    path = str(tmp_path / "revoked.krl")
    content, digest, data = krl_option(4)
    changes, installed = sshd_trust.plan_krl(path, content, digest, None)
    assert installed == {"path": path, "krl_version": 4, "sha256": digest}
    assert [change.action for change in changes] == ["write"] and not os.path.exists(path)
    sshd_trust.apply(changes, None)
    with open(path, "rb") as handle:
        assert handle.read() == data
    assert sshd_trust.plan_krl(path, content, digest, None)[0] == []


def test_plan_krl_refuses_rollback_and_a_wrong_digest(tmp_path):
    path = tmp_path / "revoked.krl"
    path.write_bytes(krl_option(9)[2])
    content, digest, dummy = krl_option(4)
    with pytest.raises(FleetcaError, match="version 9, newer than the given version 4"):
        sshd_trust.plan_krl(str(path), content, digest, None)
    with pytest.raises(FleetcaError, match="revoked_keys.content has sha256"):
        sshd_trust.plan_krl(str(path), content, "a" * 64, None)
    with pytest.raises(FleetcaError, match="revoked_keys.content must be base64"):
        sshd_trust.plan_krl(str(path), "not base64!", None, None)


def test_lines_content_refuses_injected_lines():
    assert sshd_trust.lines_content("f", ["a", "b"]) == b"a\nb\n"
    with pytest.raises(FleetcaError, match=r"f\[1\] must be one non-empty line"):
        sshd_trust.lines_content("f", ["a", "b\nc"])


def test_plan_principals_creates_the_directory_and_removes_unlisted(tmp_path):
    directory = tmp_path / "principals"
    changes = sshd_trust.plan_principals(str(directory), {"alice": ["alice", "ops"], "nobody": []}, True, None)
    assert [(c.action, os.path.basename(c.path)) for c in changes] == [
        ("mkdir", "principals"), ("write", "alice"), ("write", "nobody")]
    sshd_trust.apply(changes, None)
    assert (directory / "alice").read_text() == "alice\nops\n" and (directory / "nobody").read_text() == ""
    changes = sshd_trust.plan_principals(str(directory), {"alice": ["alice", "ops"]}, True, None)
    assert [(c.action, os.path.basename(c.path)) for c in changes] == [("remove", "nobody")]
    assert sshd_trust.plan_principals(str(directory), {"alice": ["alice", "ops"]}, False, None) == []
    with pytest.raises(FleetcaError, match="must be a list of principals"):
        sshd_trust.plan_principals(str(directory), {"alice": "alice"}, True, None)
