# SPDX-License-Identifier: GPL-3.0-or-later
"""roles/server/files/fleetca_krl_sync.py, the pull sync program, against a real HTTP server on loopback and the
real ssh-keygen: every failure keeps the installed KRL byte for byte and exits non-zero."""

import functools
import http.server
import os
import socket
import subprocess
import sys
import threading

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import krl, krl_request, locks, sshsig
from ansible_collections.fleetca.ssh.plugins.module_utils.signers import KeyFileSigner

# The program as the role installs it: the file itself, run by python3 (no collection import).
SYNC_SOURCE = os.path.join(os.path.dirname(krl.__file__), "..", "..", "roles", "server", "files",
                           "fleetca_krl_sync.py")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def www(tmp_path_factory):
    """A directory served over HTTP on 127.0.0.1: (directory, base URL)."""
    directory = tmp_path_factory.mktemp("www")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield directory, "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()


@pytest.fixture(scope="module")
def signers(tmp_path_factory):
    directory = tmp_path_factory.mktemp("sync-keys")
    made = {}
    for name in ("krl_signing", "intruder"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(directory / name)], check=True)
        made[name] = KeyFileSigner(str(directory / name))
    allowed = directory / "allowed_signers"
    allowed.write_text('fleetca-krl namespaces="fleetca-krl" %s\n' % made["krl_signing"].public_key.to_line())
    made["allowed"] = str(allowed)
    return made


def krl_bytes(version, serials=()):
    made = krl.Krl(version=version, generated=1800000000)
    if serials:
        made.revoke(krl_request.build_revocations(serials=list(serials)))
    return made.to_bytes()


def publish(www, name, data, signer, signature_of=None):
    directory, base = www
    (directory / name).write_bytes(data)
    (directory / (name + ".sig")).write_text(sshsig.sign(signer, data if signature_of is None else signature_of,
                                                         sshsig.KRL_NAMESPACE))
    return "%s/%s" % (base, name)


def run_sync(url, dest, allowed, timeout=5):
    """The program as the systemd service runs it: its own file, with python3."""
    return subprocess.run([sys.executable, SYNC_SOURCE, "--url", url, "--dest", str(dest), "--allowed-signers",
                           allowed, "--timeout", str(timeout)], capture_output=True, text=True, check=False)


def keygen_revoked(krl_path, serial, tmp_path):
    """ssh-keygen -Q on a certificate with `serial`: is it revoked by the KRL at krl_path?"""
    ca, key = tmp_path / "q-ca", tmp_path / "q-key"
    for path in (ca, key):
        if not path.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    subprocess.run(["ssh-keygen", "-q", "-s", str(ca), "-I", "q", "-z", str(serial), str(key) + ".pub"], check=True)
    status = subprocess.run(["ssh-keygen", "-Q", "-f", str(krl_path), str(key) + "-cert.pub"],
                            capture_output=True, check=False).returncode
    assert status in (0, 1)
    return status == 1


@pytest.fixture
def installed(tmp_path):
    dest = tmp_path / "fleetca_revoked.krl"
    dest.write_bytes(krl_bytes(5, [7]))
    os.chmod(str(dest), 0o644)
    return dest


def assert_kept(result, dest, before, reason):
    assert result.returncode == 1, result
    assert dest.read_bytes() == before
    assert "kept the installed KRL %s: " % dest in result.stderr and reason in result.stderr, result.stderr
    assert [name for name in os.listdir(str(dest.parent)) if name.startswith(".")] == []  # no temp file left


def test_a_good_newer_krl_is_installed_and_sshd_would_refuse_its_serials(www, signers, installed, tmp_path):
    url = publish(www, "good.krl", krl_bytes(6, [7, 42]), signers["krl_signing"])
    result = run_sync(url, installed, signers["allowed"])
    assert result.returncode == 0, result
    assert "installed KRL version 6 from %s" % url in result.stdout
    assert installed.read_bytes() == krl_bytes(6, [7, 42])
    assert oct(os.stat(str(installed)).st_mode & 0o777) == oct(0o644)
    assert keygen_revoked(installed, 42, tmp_path) and not keygen_revoked(installed, 43, tmp_path)
    again = run_sync(url, installed, signers["allowed"])
    assert again.returncode == 0 and "already the published KRL" in again.stdout


def test_a_tampered_krl_is_refused(www, signers, installed):
    data = bytearray(krl_bytes(6, [42]))
    good = bytes(data)
    data[-1] ^= 1
    url = publish(www, "tampered.krl", bytes(data), signers["krl_signing"], signature_of=good)
    before = installed.read_bytes()
    assert_kept(run_sync(url, installed, signers["allowed"]), installed, before, "the signature does not verify")


def test_a_signature_by_another_key_is_refused(www, signers, installed):
    url = publish(www, "intruder.krl", krl_bytes(9, []), signers["intruder"])
    before = installed.read_bytes()
    assert_kept(run_sync(url, installed, signers["allowed"]), installed, before, "the signature does not verify")


def test_an_older_version_is_refused(www, signers, installed):
    url = publish(www, "old.krl", krl_bytes(4, []), signers["krl_signing"])
    before = installed.read_bytes()
    assert_kept(run_sync(url, installed, signers["allowed"]), installed, before,
                "version 4, older than the installed version 5: refusing to roll back")


def test_signed_garbage_is_refused(www, signers, installed):
    url = publish(www, "garbage.krl", b"not a KRL at all", signers["krl_signing"])
    before = installed.read_bytes()
    assert_kept(run_sync(url, installed, signers["allowed"]), installed, before, "is not a KRL OpenSSH can load")


def test_an_unreachable_url_or_a_missing_signature_is_refused(www, signers, installed):
    before = installed.read_bytes()
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert_kept(run_sync("http://127.0.0.1:%d/revoked.krl" % port, installed, signers["allowed"]), installed, before,
                "cannot download http://127.0.0.1:%d/revoked.krl" % port)
    directory, base = www
    (directory / "nosig.krl").write_bytes(krl_bytes(8, []))
    assert_kept(run_sync(base + "/nosig.krl", installed, signers["allowed"]), installed, before,
                "cannot download %s/nosig.krl.sig" % base)


def test_only_http_urls(signers, installed):
    before = installed.read_bytes()
    assert_kept(run_sync("file:///etc/passwd", installed, signers["allowed"]), installed, before,
                "file:///etc/passwd is not an http(s) URL")


def test_a_missing_installed_krl_is_created(www, signers, tmp_path):
    dest = tmp_path / "new.krl"
    url = publish(www, "first.krl", krl_bytes(1, [3]), signers["krl_signing"])
    result = run_sync(url, dest, signers["allowed"])
    assert result.returncode == 0, result
    assert dest.read_bytes() == krl_bytes(1, [3])


def test_it_waits_for_the_lock_a_push_holds_and_then_installs(www, signers, installed):
    """fleetca.ssh.sshd_trust holds the collection's lock (module_utils/locks.py) beside the KRL while
    a push replaces it: a pull meanwhile keeps its hands off, and installs once the lock is free."""
    url = publish(www, "after-push.krl", krl_bytes(7, [42]), signers["krl_signing"])
    before = installed.read_bytes()
    with locks.FileLock(str(installed)):
        assert_kept(run_sync(url, installed, signers["allowed"], timeout=1), installed, before,
                    "another writer of the KRL has held %s.lock for more than 1 s" % installed)
    result = run_sync(url, installed, signers["allowed"])
    assert result.returncode == 0 and installed.read_bytes() == krl_bytes(7, [42]), result
