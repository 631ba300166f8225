# SPDX-License-Identifier: GPL-3.0-or-later
"""Key pairs made by ssh-keygen, `ssh-keygen -L`, and certificates signed by the engine in-process."""

import collections
import itertools
import os
import time

from ansible_collections.fleetca.ssh.plugins.module_utils import certs, keys, signers
from fleetca_testing.accounts import LOGIN_USER
from fleetca_testing.commands import run

Keypair = collections.namedtuple("Keypair", "path pub_path public_line key_type passphrase")

KEYGEN_ARGS = {
    "ed25519": ["-t", "ed25519"],
    "ecdsa": ["-t", "ecdsa", "-b", "256"],
    "rsa": ["-t", "rsa", "-b", "3072"],
}


def ssh_keygen_pair(path, key_type="ed25519", bits=None, passphrase="", comment=None):
    """Generate a key pair with ssh-keygen at `path` (+ `.pub`)."""
    path = str(path)
    args = list(KEYGEN_ARGS[key_type])
    if bits:
        args = ["-t", key_type, "-b", str(bits)]
    run(["ssh-keygen", "-q", "-N", passphrase, "-C", comment or os.path.basename(path), "-f", path] + args)
    with open(path + ".pub") as handle:
        line = handle.read().strip()
    return Keypair(path, path + ".pub", line, key_type, passphrase)


class KeyMaker:
    """`make(name, key_type="ed25519", bits=None, passphrase="")` -> Keypair, one per name."""

    def __init__(self, directory):
        self.directory = str(directory)
        self._made = {}

    def __call__(self, name, key_type="ed25519", bits=None, passphrase=""):
        wanted = (key_type, bits, passphrase)
        if name in self._made:
            if self._made[name][0] != wanted:
                raise ValueError("key %r already made as %r" % (name, self._made[name][0]))
            return self._made[name][1]
        pair = ssh_keygen_pair(os.path.join(self.directory, name), key_type, bits, passphrase)
        self._made[name] = (wanted, pair)
        return pair


_serials = itertools.count(int(time.time()) % 100000 * 1000 + 1)


def key_line(value):
    if isinstance(value, Keypair):
        return value.public_line
    if isinstance(value, keys.PublicKey):
        return value.to_line()
    return value


def engine_sign(ca, public_key, cert_type="user", principals=(LOGIN_USER,), key_id="fleetca-test",
                serial=None, valid_after=None, valid_before=None, critical_options=None, extensions=None,
                rsa_algorithm="rsa-sha2-512", passphrase=None, allow_any_principal=False, path=None,
                comment=""):
    """Sign with the collection's engine; return the Certificate (and write it to `path`).

    `ca`: a Keypair or a private key path; `public_key`: a Keypair, PublicKey or key line.
    Validity defaults to [now - 5 min, now + 1 h); serials to a session-wide increasing counter.
    User certificates get ssh-keygen's default extensions unless `extensions` is given.
    """
    now = int(time.time())
    ca_path = ca.path if isinstance(ca, Keypair) else str(ca)
    if passphrase is None and isinstance(ca, Keypair):
        passphrase = ca.passphrase or None
    signer = signers.KeyFileSigner(ca_path, passphrase, rsa_algorithm)
    kind = certs.CERT_TYPES[cert_type]
    if extensions is None:
        extensions = certs.DEFAULT_USER_EXTENSIONS if kind == certs.USER_CERT else {}
    request = certs.CertRequest(
        kind, keys.parse_public_key("public key", key_line(public_key)), list(principals), key_id,
        now - 300 if valid_after is None else valid_after,
        now + 3600 if valid_before is None else valid_before,
        critical_options=critical_options, extensions=extensions,
        allow_any_principal=allow_any_principal)
    cert = certs.sign_certificate(request, next(_serials) if serial is None else serial, signer, comment)
    signer.close()
    if path is not None:
        with open(str(path), "w") as handle:
            handle.write(cert.to_line() + "\n")
    return cert


def ssh_keygen_list(path):
    """`ssh-keygen -L -f PATH` output (TZ=UTC)."""
    return run(["ssh-keygen", "-L", "-f", path], env=dict(os.environ, TZ="UTC")).stdout


def parse_ssh_keygen_listing(text):
    """`ssh-keygen -L` output -> {field: value or list of indented lines}."""
    fields, current = {}, None
    for line in text.splitlines()[1:]:
        stripped = line.strip()
        if line.startswith("\t\t") or line.startswith("                "):
            fields[current].append(stripped)
        elif ":" in stripped:
            current, value = stripped.split(":", 1)
            value = value.strip()
            fields[current] = value if value else []
    return fields
