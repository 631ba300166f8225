# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/sshsig.py against the real `ssh-keygen -Y sign` and `ssh-keygen -Y verify`."""

import subprocess

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import sshsig
from ansible_collections.fleetca.ssh.plugins.module_utils.keys import parse_public_key
from ansible_collections.fleetca.ssh.plugins.module_utils.signers import KeyFileSigner
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError, WireError

NAMESPACE = sshsig.KRL_NAMESPACE
MESSAGE = b"SSHKRL\n\x00" + bytes(range(256)) * 4


def keygen(*args, **kwargs):
    return subprocess.run(["ssh-keygen"] + [str(a) for a in args], capture_output=True, check=False, **kwargs)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """name -> (private key path, PublicKey) for Ed25519, ECDSA and RSA keys made by ssh-keygen."""
    directory = tmp_path_factory.mktemp("sshsig-keys")
    made = {}
    for name, args in [("ed25519", ["-t", "ed25519"]), ("ecdsa", ["-t", "ecdsa", "-b", "384"]),
                       ("rsa", ["-t", "rsa", "-b", "3072"]), ("other", ["-t", "ed25519"])]:
        path = directory / name
        assert keygen("-q", "-N", "", "-C", name, "-f", path, *args).returncode == 0
        made[name] = (path, parse_public_key("key", open(str(path) + ".pub").read()))
    return made


def write(directory, name, data):
    path = directory / name
    path.write_bytes(data)
    return path


def keygen_verifies(directory, public_key, message, signature_text, namespace=NAMESPACE):
    allowed = write(directory, "allowed_signers", ("fleetca-krl %s\n" % public_key.to_line()).encode())
    signature = write(directory, "file.sig", signature_text.encode())
    result = keygen("-Y", "verify", "-f", allowed, "-I", "fleetca-krl", "-n", namespace, "-s", signature,
                    input=message)
    return result.returncode == 0


def keygen_signature(directory, key_path, message):
    target = write(directory, "file", message)
    assert keygen("-q", "-Y", "sign", "-f", key_path, "-n", NAMESPACE, target).returncode == 0
    return open(str(target) + ".sig").read()


def test_ed25519_signature_is_byte_for_byte_what_ssh_keygen_writes(keys, tmp_path):
    path, dummy = keys["ed25519"]
    ours = sshsig.sign(KeyFileSigner(str(path)), MESSAGE, NAMESPACE)
    assert ours == keygen_signature(tmp_path, path, MESSAGE)


@pytest.mark.parametrize("name", ["ed25519", "ecdsa", "rsa"])
def test_ssh_keygen_verifies_ours_and_refuses_a_flipped_byte(keys, tmp_path, name):
    path, public_key = keys[name]
    ours = sshsig.sign(KeyFileSigner(str(path)), MESSAGE, NAMESPACE)
    assert keygen_verifies(tmp_path, public_key, MESSAGE, ours)
    assert sshsig.verify(ours, MESSAGE, NAMESPACE, [public_key]) == public_key
    tampered = MESSAGE[:100] + bytes([MESSAGE[100] ^ 1]) + MESSAGE[101:]
    assert not keygen_verifies(tmp_path, public_key, tampered, ours)
    with pytest.raises(FleetcaError, match="does not match the file"):
        sshsig.verify(ours, tampered, NAMESPACE, [public_key])


@pytest.mark.parametrize("name", ["ed25519", "rsa"])
def test_we_verify_what_ssh_keygen_signed(keys, tmp_path, name):
    path, public_key = keys[name]
    theirs = keygen_signature(tmp_path, path, MESSAGE)
    assert sshsig.verify(theirs, MESSAGE, NAMESPACE, [keys["other"][1], public_key]) == public_key


def test_a_flipped_signature_byte_is_refused_by_both(keys, tmp_path):
    path, public_key = keys["ed25519"]
    ours = sshsig.sign(KeyFileSigner(str(path)), MESSAGE, NAMESPACE)
    lines = ours.splitlines()
    # a character inside the signature bytes at the end of the blob (not the armour)
    body = lines[-2]
    flipped = body[:-5] + ("A" if body[-5] != "A" else "B") + body[-4:]
    tampered = "\n".join(lines[:-2] + [flipped, lines[-1]]) + "\n"
    assert not keygen_verifies(tmp_path, public_key, MESSAGE, tampered)
    with pytest.raises(FleetcaError):
        sshsig.verify(tampered, MESSAGE, NAMESPACE, [public_key])


def test_another_signer_or_namespace_is_refused_by_both(keys, tmp_path):
    path, public_key = keys["ed25519"]
    ours = sshsig.sign(KeyFileSigner(str(path)), MESSAGE, NAMESPACE)
    assert not keygen_verifies(tmp_path, keys["other"][1], MESSAGE, ours)
    with pytest.raises(FleetcaError, match="not an allowed signer"):
        sshsig.verify(ours, MESSAGE, NAMESPACE, [keys["other"][1]])
    other_namespace = sshsig.sign(KeyFileSigner(str(path)), MESSAGE, "file")
    assert not keygen_verifies(tmp_path, public_key, MESSAGE, other_namespace)
    with pytest.raises(FleetcaError, match="namespace 'file', not 'fleetca-krl'"):
        sshsig.verify(other_namespace, MESSAGE, NAMESPACE, [public_key])


@pytest.mark.parametrize("text, message", [
    ("garbage", "no -----BEGIN SSH SIGNATURE----- ... -----END SSH SIGNATURE----- armour"),
    ("-----BEGIN SSH SIGNATURE-----\n!!!!\n-----END SSH SIGNATURE-----\n", "not base64"),
    (sshsig.armor(b"SSHSIX" + b"\0" * 20), "bad magic"),
    (sshsig.armor(b"SSHSIG\0\0\0\x02"), "version 2 is not supported"),
])
def test_garbage_is_a_clear_error(text, message):
    with pytest.raises(WireError, match=message):
        sshsig.parse(text)


def test_armour_wraps_at_70_columns(keys):
    path, dummy = keys["rsa"]
    lines = sshsig.sign(KeyFileSigner(str(path)), MESSAGE, NAMESPACE).splitlines()
    assert lines[0] == "-----BEGIN SSH SIGNATURE-----" and lines[-1] == "-----END SSH SIGNATURE-----"
    assert all(len(line) == 70 for line in lines[1:-2]) and 0 < len(lines[-2]) <= 70
