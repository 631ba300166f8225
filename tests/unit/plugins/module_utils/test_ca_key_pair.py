# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/ca_key_pair.py: the plan for a CA key pair made by ssh-keygen, and the answer the
ca_key action gives in one round trip (only for a pair that is kept; {} lets the module run)."""

import os
import subprocess

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import ca_key_pair
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def keygen_pair(path, key_type="ed25519", passphrase=""):
    subprocess.run(["ssh-keygen", "-q", "-t", key_type, "-N", passphrase, "-C", "made by ssh-keygen", "-f", str(path)],
                   check=True)
    return open(str(path) + ".pub").read().split()[:2]  # type, base64 (the comment differs)


def params(path, **changes):
    return dict(dict(path=str(path), type="ed25519", size=None, passphrase=None, comment="fleetca", force=False),
                **changes)


def fingerprint(path):
    return subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(path)], check=True, capture_output=True,
                          text=True).stdout.split()[1]


def test_a_kept_pair_is_answered_with_the_comment_asked_and_ssh_keygens_fingerprint(tmp_path):
    key_type, blob = keygen_pair(tmp_path / "ca")
    answer = ca_key_pair.payload_main(params(tmp_path / "ca", comment="host ca"))
    assert answer == {"changed": False, "public_key": "%s %s host ca" % (key_type, blob),
                      "fingerprint": fingerprint(tmp_path / "ca.pub"), "key_type": "ssh-ed25519"}


def test_a_kept_encrypted_pair_is_read_from_its_pub_without_the_passphrase(tmp_path):
    key_type, blob = keygen_pair(tmp_path / "ca", passphrase="Corr3ct-Horse-Battery-Staple-5219")
    assert ca_key_pair.payload_main(params(tmp_path / "ca"))["public_key"].split()[:2] == [key_type, blob]


@pytest.mark.parametrize("case", ["missing", "force", "other type", "pub missing", "a directory", "no directory"])
def test_everything_but_a_kept_pair_is_the_modules(tmp_path, case):
    path = tmp_path / "ca"
    if case != "missing":
        keygen_pair(path)
    changes = {"force": {"force": True}, "other type": {"type": "rsa"}}.get(case, {})
    if case == "pub missing":
        os.unlink(str(path) + ".pub")
    if case == "a directory":
        path = tmp_path / "dir"
        path.mkdir()
    if case == "no directory":
        path = tmp_path / "none" / "ca"
    assert ca_key_pair.payload_main(params(path, **changes)) == {}


def test_the_plan_names_the_reason_it_refuses(tmp_path):
    keygen_pair(tmp_path / "ca")
    with pytest.raises(FleetcaError, match=r"^type: the key at .* is ssh-ed25519, not rsa; set force: true"):
        ca_key_pair.plan_key(params(tmp_path / "ca", type="rsa"))
    with pytest.raises(FleetcaError, match=r"^path: directory .* does not exist"):
        ca_key_pair.plan_key(params(tmp_path / "none" / "ca"))


def test_the_plan_rebuilds_a_lost_pub_from_the_private_key(tmp_path):
    key_type, blob = keygen_pair(tmp_path / "ca")
    os.unlink(str(tmp_path / "ca.pub"))
    (action, public_key), writes = ca_key_pair.plan_key(params(tmp_path / "ca"))
    assert (action, writes, public_key.to_line()) == ("rebuild_pub", True, "%s %s" % (key_type, blob))
