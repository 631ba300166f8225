# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of public keys (keys.py): key lines as ssh-keygen writes them, fingerprints as
`ssh-keygen -l` prints them, signatures ssh-keygen made, and errors that name the field."""

import base64
import hashlib
import os
import shutil
import subprocess

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import keys, signers
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError, WireReader, encode_string

needs_ssh_keygen = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs OpenSSH's ssh-keygen")

KEYGEN_TYPES = {
    "ed25519": ["-t", "ed25519"],
    "ecdsa-256": ["-t", "ecdsa", "-b", "256"],
    "ecdsa-384": ["-t", "ecdsa", "-b", "384"],
    "ecdsa-521": ["-t", "ecdsa", "-b", "521"],
    "rsa-3072": ["-t", "rsa", "-b", "3072"],
}


def ssh_keygen(*args, **kwargs):
    return subprocess.run(["ssh-keygen"] + list(args), check=True, capture_output=True, text=True,
                          **kwargs).stdout


@pytest.fixture(scope="module")
def keygen_pairs(tmp_path_factory):
    """ssh-keygen key pairs by KEYGEN_TYPES name: private key path (the .pub beside it)."""
    if shutil.which("ssh-keygen") is None:
        pytest.skip("needs OpenSSH's ssh-keygen")
    directory = tmp_path_factory.mktemp("keys")
    pairs = {}
    for name, args in KEYGEN_TYPES.items():
        path = str(directory / name)
        ssh_keygen("-q", "-N", "", "-C", "%s comment" % name, "-f", path, *args)
        pairs[name] = path
    return pairs


def read(path):
    with open(path) as handle:
        return handle.read()


@pytest.fixture(scope="module")
def subject():
    return keys.parse_public_key("public key", signers.public_key_line(signers.generate_private_key("ed25519")))


# --- key lines and fingerprints --------------------------------------------------

@pytest.mark.parametrize("name, key_type, bits", [
    ("ed25519", "ssh-ed25519", 256), ("ecdsa-256", "ecdsa-sha2-nistp256", 256),
    ("ecdsa-384", "ecdsa-sha2-nistp384", 384), ("ecdsa-521", "ecdsa-sha2-nistp521", 521),
    ("rsa-3072", "ssh-rsa", 3072),
])
def test_ssh_keygen_key_lines_parse_and_print_back_unchanged(keygen_pairs, name, key_type, bits):
    line = read(keygen_pairs[name] + ".pub").strip()
    key = keys.parse_public_key("public_key", line)
    assert (key.key_type, key.bits, key.comment) == (key_type, bits, "%s comment" % name)
    assert key.to_line() == line
    assert key.to_line("") == " ".join(line.split()[:2])


@pytest.mark.parametrize("name", sorted(KEYGEN_TYPES))
def test_fingerprints_are_what_ssh_keygen_l_prints(keygen_pairs, name):
    printed = ssh_keygen("-l", "-E", "sha256", "-f", keygen_pairs[name] + ".pub").split()[1]
    key = keys.load_public_key_option("ca_public_key", keygen_pairs[name] + ".pub")
    assert key.fingerprint == printed
    assert keys.fingerprint_sha256(key.blob) == printed
    assert key.sha256 == hashlib.sha256(key.blob).digest()


def test_a_key_is_given_as_a_line_or_as_the_path_of_its_pub_file(keygen_pairs):
    path = keygen_pairs["ed25519"] + ".pub"
    assert keys.load_public_key_option("ca_public_key", path) == \
        keys.load_public_key_option("ca_public_key", read(path))


def test_equal_keys_are_equal_whatever_their_comments(subject):
    other = keys.parse_public_key("public key", subject.to_line("another comment"))
    assert other == subject and hash(other) == hash(subject)
    assert other != keys.parse_public_key("public key", signers.public_key_line(signers.generate_private_key("ed25519")))


@pytest.mark.parametrize("value, message", [
    ("/nonexistent/ca.pub", "ca_public_key is not of the form 'TYPE BASE64 [COMMENT]'"),
    ("ssh-ed25519 AAAA", "ca_public_key is malformed"),
    ("", "ca_public_key is not of the form"),
])
def test_a_bad_key_option_names_the_field(value, message):
    with pytest.raises(FleetcaError, match=message.replace("[", r"\[").replace("]", r"\]")):
        keys.load_public_key_option("ca_public_key", value)


def test_an_unreadable_pub_path_names_the_field_and_the_path(tmp_path):
    with pytest.raises(FleetcaError, match="ca_public_key: cannot read %s" % tmp_path):
        keys.load_public_key_option("ca_public_key", str(tmp_path))  # a directory


def test_a_certificate_line_is_not_a_public_key(keygen_pairs):
    ssh_keygen("-q", "-s", keygen_pairs["ed25519"], "-I", "id", "-n", "alice", "-z", "7",
               keygen_pairs["ecdsa-256"] + ".pub")
    cert_line = read(keygen_pairs["ecdsa-256"] + "-cert.pub")
    with pytest.raises(FleetcaError, match=r"public_key is malformed: expected a public key, got a certificate \(ecdsa-sha2-nistp256-cert"):
        keys.parse_public_key("public_key", cert_line)


@pytest.mark.parametrize("line, message", [
    ("ssh-ed25519", "TYPE BASE64"),
    ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG", "base64"),
    ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI", "base64"),
    ("ssh-dss AAAAB3NzaC1kc3MAAACBAP", "base64"),
    ("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIGZ7u5X4n6a0m8m3T9l3r8eQJv5e3PpS2m1m9XW2lJtQ", "says ssh-rsa"),
    ("ssh-ed25519 AAAA\nC3Nz", "single line"),
])
def test_malformed_key_lines(line, message):
    with pytest.raises(FleetcaError, match=message):
        keys.parse_public_key("public key", line)


def test_unsupported_key_type_is_named():
    blob = encode_string("ssh-dss") + encode_string(b"x" * 20)
    line = "ssh-dss " + base64.b64encode(blob).decode()
    with pytest.raises(FleetcaError, match="unsupported key type 'ssh-dss'"):
        keys.parse_public_key("public key", line)


def test_fingerprint_matches_ssh_keygen_format(subject):
    assert subject.fingerprint.startswith("SHA256:")
    assert "=" not in subject.fingerprint
    assert len(subject.fingerprint) == len("SHA256:") + 43


def test_cert_type_names():
    assert keys.cert_type_name("sk-ssh-ed25519@openssh.com") == "sk-ssh-ed25519-cert-v01@openssh.com"
    assert keys.cert_type_name("ssh-rsa") == "ssh-rsa-cert-v01@openssh.com"
    assert keys.plain_type_name("rsa-sha2-512-cert-v01@openssh.com") is None


# --- signatures ---------------------------------------------------------------------

def sshsig_signed_data(message, namespace):
    """What `ssh-keygen -Y sign` signs (PROTOCOL.sshsig), with its default hash, sha512."""
    return (b"SSHSIG" + encode_string(namespace) + encode_string(b"") + encode_string(b"sha512")
            + encode_string(hashlib.sha512(message).digest()))


def ssh_keygen_signature(private_key_path, message_path, namespace):
    """The SSH signature blob inside the sshsig file `ssh-keygen -Y sign` writes."""
    ssh_keygen("-Y", "sign", "-f", private_key_path, "-n", namespace.decode(), message_path)
    armoured = read(message_path + ".sig").splitlines()[1:-1]
    reader = WireReader(base64.b64decode("".join(armoured))[6:])  # after the "SSHSIG" magic
    reader.read_uint32("version")
    for field in ("public key", "namespace", "reserved", "hash algorithm"):
        reader.read_string(field)
    return reader.read_string("signature")


@needs_ssh_keygen
@pytest.mark.parametrize("name", sorted(KEYGEN_TYPES))
def test_signatures_made_by_ssh_keygen_verify_and_a_changed_message_does_not(keygen_pairs, tmp_path, name):
    message = os.urandom(100)
    message_path = str(tmp_path / "message")
    with open(message_path, "wb") as handle:
        handle.write(message)
    signature = ssh_keygen_signature(keygen_pairs[name], message_path, b"fleetca-test")
    key = keys.load_public_key_option("key", keygen_pairs[name] + ".pub")
    assert key.verify(signature, sshsig_signed_data(message, b"fleetca-test"))
    assert not key.verify(signature, sshsig_signed_data(message + b"x", b"fleetca-test"))
    assert not key.verify(signature, sshsig_signed_data(message, b"other-namespace"))


def test_a_signature_by_another_key_or_garbage_does_not_verify(subject):
    signer = signers.KeySigner(signers.generate_private_key("ed25519"))
    signature = signer.sign(b"data")
    assert signer.public_key.verify(signature, b"data")
    assert not subject.verify(signature, b"data")
    assert not signer.public_key.verify(b"not a signature", b"data")
    assert not signer.public_key.verify(signature[:-1], b"data")
