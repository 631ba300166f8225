# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the trust files' planning (sshd_trust): nothing written until apply, bad input
refused by field."""

import base64
import hashlib
import os
import stat
import subprocess

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import certs, keys, krl, signers, sshd_trust
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


# --- a staged new host key moved into place with its certificate (host key rotation) -------

def keygen(path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)], check=True)
    return (path.parent / (path.name + ".pub")).read_text().strip()


def host_cert(ca, public_key):
    request = certs.CertRequest(certs.HOST_CERT, keys.parse_public_key("k", public_key), ["web1"], "host:web1:ed25519",
                                0, 2 ** 40)
    return certs.sign_certificate(request, 3, signers.KeyFileSigner(str(ca))).to_line()


@pytest.fixture
def rekey(tmp_path):
    """An installed host key with a certificate, a new key staged beside it, the CA's certificate of the new key."""
    ca, key, new = tmp_path / "host_ca", tmp_path / "ssh_host_ed25519_key", tmp_path / "ssh_host_ed25519_key.fleetca-new"
    keygen(ca)
    old_public = keygen(key)
    (tmp_path / "ssh_host_ed25519_key-cert.pub").write_text(host_cert(ca, old_public) + "\n")
    new_public = keygen(new)
    entry = {"path": str(key) + "-cert.pub", "certificate": host_cert(ca, new_public), "replace_key_from": str(new)}
    return {"dir": tmp_path, "ca": ca, "key": key, "new": new, "old_public": old_public, "new_public": new_public,
            "entry": entry}


def test_a_staged_key_goes_in_with_its_certificate_and_the_old_key_is_gone(rekey):
    key = str(rekey["key"])
    changes = sshd_trust.plan_host_certificates([rekey["entry"]], None)
    assert [(change.action, change.path) for change in changes] == [
        ("move", key), ("move", key + ".pub"), ("write", key + "-cert.pub")]
    old_fingerprint = keys.parse_public_key("k", rekey["old_public"]).fingerprint
    assert changes[0].before == "ssh-ed25519 %s\n" % old_fingerprint
    assert subprocess.run(["ssh-keygen", "-y", "-f", key], capture_output=True, text=True,
                          check=True).stdout.split()[:2] == rekey["old_public"].split()[:2]  # nothing written yet
    sshd_trust.apply(changes, None)
    derived = subprocess.run(["ssh-keygen", "-y", "-f", key], capture_output=True, text=True, check=True).stdout
    assert derived.split()[:2] == rekey["new_public"].split()[:2]
    assert (rekey["dir"] / "ssh_host_ed25519_key.pub").read_text().strip() == rekey["new_public"]
    listing = subprocess.run(["ssh-keygen", "-L", "-f", key + "-cert.pub"], capture_output=True, text=True,
                             check=True).stdout
    new_fingerprint = keys.parse_public_key("k", rekey["new_public"]).fingerprint
    assert "Public key: ED25519-CERT %s" % new_fingerprint in listing
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600 and stat.S_IMODE(os.stat(key + ".pub").st_mode) == 0o644
    assert not os.path.exists(str(rekey["new"])) and not os.path.exists(str(rekey["new"]) + ".pub")


@pytest.mark.parametrize("change, message", [
    ("other-key", r"host_certificates\[0\].replace_key_from: .*fleetca-new.pub is not the key that "
                  r"host_certificates\[0\].certificate certifies; refusing to install a host key without its certificate"),
    ("no-staged-key", r"host_certificates\[0\].replace_key_from: .*fleetca-new is not a regular file"),
    ("cert-path", r"host_certificates\[0\].replace_key_from needs host_certificates\[0\].path to end in -cert.pub"),
])
def test_a_staged_key_without_its_certificate_is_refused_writing_nothing(rekey, change, message):
    entry = dict(rekey["entry"])
    if change == "other-key":
        entry["certificate"] = host_cert(rekey["ca"], rekey["old_public"])
    elif change == "no-staged-key":
        os.unlink(str(rekey["new"]))
    else:
        entry["path"] = str(rekey["key"]) + ".cert"
    before = sorted((path.name, path.read_bytes()) for path in rekey["dir"].iterdir())
    with pytest.raises(FleetcaError, match=message):
        sshd_trust.plan_host_certificates([entry], None)
    assert sorted((path.name, path.read_bytes()) for path in rekey["dir"].iterdir()) == before
