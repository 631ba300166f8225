# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the CA signers (signers.py): keys made by ssh-keygen load, signatures verify in
`ssh-keygen -Y verify`, and errors name the field without ever showing a passphrase or key."""

import base64
import hashlib
import os
import shutil
import subprocess

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import keys, signers
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError, encode_string, encode_uint32

PASSPHRASE = "correct horse battery staple"
WRONG_PASSPHRASE = "Tr0ub4dor&3"
NAMESPACE = "fleetca-test"

KEYGEN_TYPES = {
    "ed25519": ["-t", "ed25519"],
    "ecdsa-384": ["-t", "ecdsa", "-b", "384"],
    "rsa-3072": ["-t", "rsa", "-b", "3072"],
}


def ssh_keygen(*args, **kwargs):
    return subprocess.run(["ssh-keygen"] + [str(a) for a in args], check=True, capture_output=True,
                          text=True, **kwargs).stdout


def read(path):
    with open(str(path)) as handle:
        return handle.read()


@pytest.fixture(scope="module")
def keydir(tmp_path_factory):
    if shutil.which("ssh-keygen") is None:
        pytest.skip("needs OpenSSH's ssh-keygen")
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="module")
def keygen_pairs(keydir):
    """Unencrypted ssh-keygen key pairs by KEYGEN_TYPES name (path of the private key)."""
    pairs = {}
    for name, args in KEYGEN_TYPES.items():
        pairs[name] = str(keydir / name)
        ssh_keygen("-q", "-N", "", "-f", pairs[name], *args)
    return pairs


@pytest.fixture(scope="module")
def protected_key(keydir):
    path = str(keydir / "protected")
    ssh_keygen("-q", "-N", PASSPHRASE, "-t", "ed25519", "-f", path)
    return path


def assert_no_secret(message, *secrets):
    for secret in secrets:
        assert secret not in message


# --- loading keys ---------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(KEYGEN_TYPES))
def test_ssh_keygen_private_keys_load_with_their_pub_key(keygen_pairs, name):
    private_key = signers.load_private_key("ca_key", keygen_pairs[name], "ca_key_passphrase", None)
    assert signers.public_key_line(private_key).split()[:2] == read(keygen_pairs[name] + ".pub").split()[:2]


def test_pem_private_keys_load(keydir):
    path = str(keydir / "pem")
    ssh_keygen("-q", "-N", "", "-m", "PEM", "-t", "ecdsa", "-b", "256", "-f", path)
    private_key = signers.load_private_key("ca_key", path, "ca_key_passphrase", None)
    assert signers.public_key_line(private_key).split()[:2] == read(path + ".pub").split()[:2]


def test_a_passphrase_protected_key_loads_with_its_passphrase(protected_key):
    private_key = signers.load_private_key("ca_key", protected_key, "ca_key_passphrase", PASSPHRASE)
    assert signers.public_key_line(private_key).split()[:2] == read(protected_key + ".pub").split()[:2]


def test_a_wrong_passphrase_names_the_passphrase_field_and_shows_no_passphrase(protected_key):
    with pytest.raises(FleetcaError) as error:
        signers.load_private_key("ca_key", protected_key, "ca_key_passphrase", WRONG_PASSPHRASE)
    message = str(error.value)
    assert message.startswith("ca_key_passphrase: wrong passphrase for %s" % protected_key)
    assert_no_secret(message, WRONG_PASSPHRASE, PASSPHRASE, read(protected_key).splitlines()[1])


def test_a_missing_passphrase_names_the_option_to_set(protected_key):
    with pytest.raises(FleetcaError, match="^path: %s is passphrase-protected: set passphrase$" % protected_key):
        signers.load_private_key("path", protected_key, "passphrase", None)


def test_a_passphrase_for_an_unencrypted_key_is_refused_without_showing_it(keygen_pairs):
    with pytest.raises(FleetcaError) as error:
        signers.load_private_key("ca_key", keygen_pairs["ed25519"], "ca_key_passphrase", PASSPHRASE)
    assert str(error.value) == "ca_key: %s is not encrypted: remove ca_key_passphrase" % keygen_pairs["ed25519"]


def test_a_missing_key_file_names_the_field_and_the_path(tmp_path):
    path = str(tmp_path / "nothing")
    with pytest.raises(FleetcaError, match="^ca_key: cannot read %s: No such file or directory$" % path):
        signers.load_private_key("ca_key", path, "ca_key_passphrase", None)


def test_a_file_that_is_no_key_is_named_without_its_content(tmp_path):
    path = tmp_path / "garbage"
    path.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWJ1dC1icm9rZW4=\n"
                    "-----END OPENSSH PRIVATE KEY-----\n")
    with pytest.raises(FleetcaError) as error:
        signers.load_private_key("ca_key", str(path), "ca_key_passphrase", None)
    assert str(error.value).startswith("ca_key: %s is not a readable private key" % path)
    assert_no_secret(str(error.value), "c2VjcmV0LWJ1dC1icm9rZW4")


# --- new keys ---------------------------------------------------------------------

@pytest.mark.parametrize("passphrase", [None, PASSPHRASE])
def test_written_private_keys_are_read_by_ssh_keygen(keydir, passphrase):
    private_key = signers.generate_private_key("ed25519")
    path = keydir / ("written-%s" % bool(passphrase))
    data = signers.private_key_bytes(private_key, passphrase)
    path.write_bytes(data)
    os.chmod(str(path), 0o600)
    assert data.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
    assert PASSPHRASE.encode() not in data
    printed = ssh_keygen("-y", "-P", passphrase or "", "-f", path)
    assert printed.split()[:2] == signers.public_key_line(private_key).split()[:2]


@pytest.mark.parametrize("key_type, size, key_name, bits", [
    ("ed25519", None, "ssh-ed25519", 256), ("ecdsa", None, "ecdsa-sha2-nistp256", 256),
    ("ecdsa", 521, "ecdsa-sha2-nistp521", 521), ("rsa", 2048, "ssh-rsa", 2048),
])
def test_generated_keys_have_the_type_and_size_asked_for(key_type, size, key_name, bits):
    key = keys.parse_public_key("public key", signers.public_key_line(signers.generate_private_key(key_type, size)))
    assert (key.key_type, key.bits) == (key_name, bits)


@pytest.mark.parametrize("key_type, size, message", [
    ("dsa", None, "type must be one of ed25519, ecdsa, rsa"),
    ("ecdsa", 300, "size: ecdsa keys are 256, 384 or 521 bits, not 300"),
    ("rsa", 1024, "size: rsa CA keys must be at least 2048 bits"),
])
def test_bad_key_requests_name_the_option(key_type, size, message):
    with pytest.raises(FleetcaError, match="^" + message):
        signers.generate_private_key(key_type, size)


# --- signatures, checked by ssh-keygen ------------------------------------------------

def sshsig_armour(signer, message):
    """An sshsig file (PROTOCOL.sshsig) over `message`, signed by `signer`."""
    signed = (b"SSHSIG" + encode_string(NAMESPACE) + encode_string(b"") + encode_string("sha512")
              + encode_string(hashlib.sha512(message).digest()))
    blob = (b"SSHSIG" + encode_uint32(1) + encode_string(signer.public_key.blob) + encode_string(NAMESPACE)
            + encode_string(b"") + encode_string("sha512") + encode_string(signer.sign(signed)))
    encoded = base64.b64encode(blob).decode()
    lines = [encoded[i:i + 70] for i in range(0, len(encoded), 70)]
    return "-----BEGIN SSH SIGNATURE-----\n%s\n-----END SSH SIGNATURE-----\n" % "\n".join(lines)


def ssh_keygen_verifies(tmp_path, signer, message, signature):
    allowed = tmp_path / "allowed_signers"
    allowed.write_text("ca %s\n" % signer.public_key.to_line(""))
    sig_path = tmp_path / "message.sig"
    sig_path.write_text(signature)
    result = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(allowed), "-I", "ca", "-n", NAMESPACE,
                             "-s", str(sig_path)], input=message, capture_output=True, check=False)
    return result.returncode == 0


@pytest.mark.parametrize("name, rsa_algorithm, algorithm", [
    ("ed25519", "rsa-sha2-512", "ssh-ed25519"),
    ("ecdsa-384", "rsa-sha2-512", "ecdsa-sha2-nistp384"),
    ("rsa-3072", "rsa-sha2-512", "rsa-sha2-512"),
    ("rsa-3072", "rsa-sha2-256", "rsa-sha2-256"),
])
def test_key_file_signatures_verify_in_ssh_keygen(keygen_pairs, tmp_path, name, rsa_algorithm, algorithm):
    signer = signers.KeyFileSigner(keygen_pairs[name], None, rsa_algorithm)
    assert signer.signature_algorithm() == algorithm
    message = os.urandom(64)
    signature = sshsig_armour(signer, message)
    assert ssh_keygen_verifies(tmp_path, signer, message, signature)
    assert not ssh_keygen_verifies(tmp_path, signer, message + b"x", signature)


def test_sha1_rsa_signatures_are_refused_naming_the_option():
    with pytest.raises(FleetcaError, match="^rsa_algorithm must be one of rsa-sha2-512, rsa-sha2-256$"):
        signers.KeySigner(signers.generate_private_key("rsa", 2048), "ssh-rsa")


# --- choosing a signer -------------------------------------------------------------------

def test_make_signer_signs_with_the_key_file(keygen_pairs):
    signer = signers.make_signer(ca_key=keygen_pairs["ed25519"])
    assert signer.public_key == keys.load_public_key_option("ca_key", keygen_pairs["ed25519"] + ".pub")


@pytest.mark.parametrize("options, message", [
    (dict(), "ca_key is required unless use_agent is true"),
    (dict(use_agent=True), "use_agent needs ca_public_key"),
])
def test_make_signer_says_which_option_is_missing(options, message):
    with pytest.raises(FleetcaError, match="^" + message):
        signers.make_signer(**options)


def test_an_agent_that_is_not_there_is_named(keygen_pairs, tmp_path, monkeypatch):
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    ca_line = read(keygen_pairs["ed25519"] + ".pub")
    with pytest.raises(FleetcaError, match="^use_agent: SSH_AUTH_SOCK is not set"):
        signers.make_signer(ca_public_key=ca_line, use_agent=True)
    socket_path = str(tmp_path / "no-agent.sock")
    with pytest.raises(FleetcaError, match="^use_agent: cannot connect to ssh-agent at %s" % socket_path):
        signers.make_signer(ca_public_key=ca_line, use_agent=True, agent_socket=socket_path)
