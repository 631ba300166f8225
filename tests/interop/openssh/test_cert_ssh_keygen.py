# SPDX-License-Identifier: GPL-3.0-or-later
"""Our certificates against OpenSSH's ssh-keygen, in both directions.

For every CA type x subject type (sk-* included): `ssh-keygen -L` prints exactly
the fields we signed, and our parser reads `ssh-keygen -s` certificates with the
same fields and a verifying signature.
"""

import base64
import os
import subprocess

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import certs, keys, signers
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import encode_string

from fleetca_testing.openssh_keys import parse_ssh_keygen_listing

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

VALID_AFTER = 1_790_000_000  # 2026-09-21T14:13:20Z
VALID_BEFORE = 1_830_000_000  # 2027-12-28T13:20:00Z
ENV = dict(os.environ, TZ="UTC")

CA_TYPES = {
    "ed25519": ["-t", "ed25519"],
    "ecdsa256": ["-t", "ecdsa", "-b", "256"],
    "ecdsa384": ["-t", "ecdsa", "-b", "384"],
    "ecdsa521": ["-t", "ecdsa", "-b", "521"],
    "rsa": ["-t", "rsa", "-b", "3072"],
}
SUBJECT_TYPES = ["ed25519", "ecdsa256", "ecdsa384", "ecdsa521", "rsa", "sk-ed25519", "sk-ecdsa"]


def ssh_keygen(*args):
    result = subprocess.run(["ssh-keygen"] + list(args), capture_output=True, text=True, env=ENV, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def keydir(tmp_path_factory):
    return tmp_path_factory.mktemp("interop")


@pytest.fixture(scope="module")
def ca_keys(keydir):
    for name, args in CA_TYPES.items():
        ssh_keygen("-q", "-N", "", "-C", "ca-" + name, "-f", str(keydir / ("ca_" + name)), *args)
    return dict((name, str(keydir / ("ca_" + name))) for name in CA_TYPES)


def sk_public_key_line(kind):
    """A security-key public key: no token here, so the blob is built from a software key."""
    if kind == "sk-ed25519":
        raw = signers.generate_private_key("ed25519").public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        blob = encode_string("sk-ssh-ed25519@openssh.com") + encode_string(raw) + encode_string("ssh:")
        return "sk-ssh-ed25519@openssh.com %s token" % base64.b64encode(blob).decode()
    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    blob = (encode_string("sk-ecdsa-sha2-nistp256@openssh.com") + encode_string("nistp256")
            + encode_string(point) + encode_string("ssh:"))
    return "sk-ecdsa-sha2-nistp256@openssh.com %s token" % base64.b64encode(blob).decode()


@pytest.fixture(scope="module")
def subject_keys(keydir):
    paths = {}
    for name in SUBJECT_TYPES:
        path = keydir / ("subject_" + name)
        if name.startswith("sk-"):
            (keydir / ("subject_%s.pub" % name)).write_text(sk_public_key_line(name) + "\n")
        else:
            ssh_keygen("-q", "-N", "", "-C", "subject", "-f", str(path), *CA_TYPES[name])
        paths[name] = str(path) + ".pub"
    return paths


def expected_listing_fields(cert, algorithm):
    return {
        "Type": "%s %s certificate" % (cert.key_type, cert.type_name),
        "Key ID": '"%s"' % cert.key_id,
        "Serial": str(cert.serial),
        "Valid": "from 2026-09-21T14:13:20 to 2027-12-28T13:20:00",
        "Principals": cert.principals,
        "Critical Options": ["%s %s" % (n, v) if v else n for n, v in cert.critical_options] or "(none)",
        "Extensions": ["%s %s" % (n, v) if v else n for n, v in cert.extensions] or "(none)",
        "Signing CA": "%s %s (using %s)" % (ssh_keygen_label(cert.signature_key), cert.signature_key.fingerprint,
                                            algorithm),
    }


def ssh_keygen_label(public_key):
    return {"ssh-ed25519": "ED25519", "ssh-rsa": "RSA"}.get(public_key.key_type, "ECDSA")


@pytest.mark.parametrize("subject_type", SUBJECT_TYPES)
@pytest.mark.parametrize("ca_type", list(CA_TYPES))
@pytest.mark.parametrize("cert_kind", ["user", "host"])
def test_ssh_keygen_lists_exactly_what_we_signed(ca_keys, subject_keys, keydir, ca_type, subject_type, cert_kind):
    signer = signers.KeyFileSigner(ca_keys[ca_type])
    subject = keys.load_public_key_option("public_key", subject_keys[subject_type])
    options = {}
    if cert_kind == "user":
        options = dict(critical_options={"force-command": "/usr/bin/uptime", "source-address": "127.0.0.1/32"},
                       extensions=dict(certs.DEFAULT_USER_EXTENSIONS, **{"no-touch-required": ""}))
    request = certs.CertRequest(certs.CERT_TYPES[cert_kind], subject, ["alice", "ops-team"], "kid-" + ca_type,
                                VALID_AFTER, VALID_BEFORE, **options)
    cert = certs.sign_certificate(request, 123456789012, signer)
    path = keydir / ("ours-%s-%s-%s-cert.pub" % (cert_kind, ca_type, subject_type))
    path.write_text(cert.to_line() + "\n")
    listed = parse_ssh_keygen_listing(ssh_keygen("-L", "-f", str(path)))
    algorithm = signer.signature_algorithm()
    assert dict((k, listed.get(k)) for k in expected_listing_fields(cert, algorithm)) == \
        expected_listing_fields(cert, algorithm)
    assert listed["Public key"].endswith(subject.fingerprint)


@pytest.mark.parametrize("rsa_algorithm", ["rsa-sha2-512", "rsa-sha2-256"])
def test_rsa_ca_signs_with_the_sha2_algorithm_asked_for(ca_keys, subject_keys, keydir, rsa_algorithm):
    signer = signers.KeyFileSigner(ca_keys["rsa"], rsa_algorithm=rsa_algorithm)
    subject = keys.load_public_key_option("public_key", subject_keys["ed25519"])
    request = certs.CertRequest(certs.USER_CERT, subject, ["alice"], "rsa", VALID_AFTER, VALID_BEFORE)
    path = keydir / ("rsa-%s-cert.pub" % rsa_algorithm)
    path.write_text(certs.sign_certificate(request, 5, signer).to_line() + "\n")
    assert "(using %s)" % rsa_algorithm in parse_ssh_keygen_listing(ssh_keygen("-L", "-f", str(path)))["Signing CA"]


@pytest.mark.parametrize("subject_type", SUBJECT_TYPES)
@pytest.mark.parametrize("ca_type", list(CA_TYPES))
def test_we_read_what_ssh_keygen_signed(ca_keys, subject_keys, keydir, ca_type, subject_type):
    work = keydir / ("theirs-%s-%s" % (ca_type, subject_type))
    work.mkdir()
    subject_pub = work / "key.pub"
    subject_pub.write_text(open(subject_keys[subject_type]).read())
    ssh_keygen("-q", "-s", ca_keys[ca_type], "-I", "their-id", "-n", "alice,ops-team", "-z", "4242",
               "-V", "20260921141320:20271228132000", "-O", "clear", "-O", "force-command=/bin/true",
               "-O", "permit-pty", "-O", "permit-port-forwarding", str(subject_pub))
    line = (work / "key-cert.pub").read_text()
    cert = certs.parse_certificate("certificate", line)
    listed = parse_ssh_keygen_listing(ssh_keygen("-L", "-f", str(work / "key-cert.pub")))
    algorithm = listed["Signing CA"].rsplit("(using ", 1)[1].rstrip(")")
    assert expected_listing_fields(cert, algorithm) == dict(
        (k, listed.get(k)) for k in expected_listing_fields(cert, algorithm))
    assert cert.key_id == "their-id"
    assert cert.serial == 4242
    assert cert.principals == ["alice", "ops-team"]
    assert (cert.valid_after, cert.valid_before) == (VALID_AFTER, VALID_BEFORE)
    assert cert.critical_options == [("force-command", "/bin/true")]
    assert cert.extensions == [("permit-port-forwarding", ""), ("permit-pty", "")]
    assert cert.public_key == keys.load_public_key_option("public_key", subject_keys[subject_type])
    ca_public = keys.load_public_key_option("ca", ca_keys[ca_type] + ".pub")
    assert cert.signature_valid(ca_public)
    assert certs.parse_certificate("certificate", cert.to_line()).blob == cert.blob


def test_ssh_keygen_fingerprints_match_ours(subject_keys, ca_keys):
    for path in list(subject_keys.values()) + [p + ".pub" for p in ca_keys.values()]:
        printed = ssh_keygen("-l", "-E", "sha256", "-f", path).split()[1]
        assert keys.load_public_key_option("key", path).fingerprint == printed
