# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pull sync of the signed master KRL onto a server: the program `fleetca-krl-sync.service` runs.

    python3 fleetca_krl_sync.py --url URL --dest /etc/ssh/fleetca_revoked.krl --allowed-signers FILE

Downloads URL and URL.sig, then installs the KRL at --dest only when every check passes:
`ssh-keygen -Y verify` accepts the signature (namespace fleetca-krl, identity fleetca-krl, against
the allowed_signers file the server role installs), `ssh-keygen -Q -l` loads the KRL (the parser
sshd itself uses) and its version is not lower than the installed one. Then the file is replaced
atomically (temp file in the same directory, fsync, rename), mode 0644, owned by root when run as
root. Any failure keeps the installed KRL byte for byte, says why on stderr (the journal) and
exits non-zero. An installed KRL that is already the published one is left alone (exit 0).
From reading the installed KRL to the rename it holds the lock DEST.lock (flock), the one
fleetca.ssh.sshd_trust holds when a push replaces the KRL: a pull and a push that meet cannot
leave the older KRL in place.

Standard library only, Python 3.6+, no collection import: the server role installs this file as
it is (servers need not have `cryptography` or Ansible, and OpenSSH is the verifier that matters).
It is a program, not a module utility, so it lives with the role that installs it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import contextlib
import errno
import fcntl
import os
import re
import subprocess
import sys
import tempfile
import time

from urllib.error import URLError
from urllib.request import urlopen

NAMESPACE = "fleetca-krl"
IDENTITY = "fleetca-krl"
FILE_MODE = 0o644
# A KRL of a million serials is a few MB; anything far larger is not ours.
MAX_BYTES = 64 * 1024 * 1024
DEFAULT_TIMEOUT = 30
KRL_VERSION_LINE = re.compile(r"^# KRL version (\d+)$", re.MULTILINE)
# The lock file beside the KRL (plugins/module_utils/locks.py in the collection: the same name).
LOCK_SUFFIX = ".lock"
LOCK_POLL = 0.1


class SyncError(Exception):
    """Why the installed KRL was kept."""


def download(url, timeout):
    """The bytes at `url` (http or https only)."""
    if not re.match(r"^https?://", url):
        raise SyncError("%s is not an http(s) URL" % url)
    try:
        response = urlopen(url, timeout=timeout)
        try:
            data = response.read(MAX_BYTES + 1)
        finally:
            response.close()
    except (URLError, OSError, ValueError) as exc:
        raise SyncError("cannot download %s: %s" % (url, getattr(exc, "reason", exc)))
    if len(data) > MAX_BYTES:
        raise SyncError("%s is larger than %d bytes" % (url, MAX_BYTES))
    return data


def run(argv, stdin_path=None):
    """(exit status, output) of a command, stdin from a file (or nothing)."""
    stdin = open(stdin_path, "rb") if stdin_path else open(os.devnull, "rb")
    try:
        proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=dict(os.environ, LC_ALL="C"))
        out = proc.communicate()[0]
    finally:
        stdin.close()
    return proc.returncode, out.decode("utf-8", "replace").strip()


def verify_signature(ssh_keygen, krl_path, signature_path, allowed_signers):
    status, out = run([ssh_keygen, "-Y", "verify", "-f", allowed_signers, "-I", IDENTITY, "-n", NAMESPACE,
                       "-s", signature_path], stdin_path=krl_path)
    if status != 0:
        raise SyncError("the signature does not verify against %s: %s" % (allowed_signers, out))


def krl_version(ssh_keygen, path):
    """The version of the KRL at `path` as OpenSSH reads it; SyncError when it does not load."""
    status, out = run([ssh_keygen, "-Q", "-l", "-f", path])
    match = KRL_VERSION_LINE.search(out)
    if status != 0 or not match:
        raise SyncError("%s is not a KRL OpenSSH can load: %s" % (path, out.splitlines()[0] if out else status))
    return int(match.group(1))


def write_temp(directory, name, data):
    fd, path = tempfile.mkstemp(prefix=".%s." % name, dir=directory)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return path


def install(temp_path, dest):
    os.chmod(temp_path, FILE_MODE)
    if os.geteuid() == 0:
        os.chown(temp_path, 0, 0)
    os.rename(temp_path, dest)
    dir_fd = os.open(os.path.dirname(dest), os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextlib.contextmanager
def krl_lock(dest, timeout):
    """Hold the KRL's lock for the block; SyncError when another writer holds it for `timeout` s."""
    fd = os.open(dest + LOCK_SUFFIX, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.time() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.time() >= deadline:
                    raise SyncError("another writer of the KRL has held %s%s for more than %d s"
                                    % (dest, LOCK_SUFFIX, timeout))
                time.sleep(LOCK_POLL)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def read_installed(dest):
    try:
        with open(dest, "rb") as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def sync(url, dest, allowed_signers, ssh_keygen="ssh-keygen", timeout=DEFAULT_TIMEOUT):
    """Install the published KRL at `dest` after every check; the message to log. SyncError: kept."""
    data = download(url, timeout)
    signature = download(url + ".sig", timeout)
    with krl_lock(dest, timeout):
        return install_verified(data, signature, url, dest, allowed_signers, ssh_keygen)


def install_verified(data, signature, url, dest, allowed_signers, ssh_keygen):
    """The checks and the rename, under the KRL's lock."""
    installed = read_installed(dest)
    if installed == data:
        return "%s is already the published KRL" % dest
    directory = os.path.dirname(os.path.abspath(dest))
    krl_temp = write_temp(directory, os.path.basename(dest), data)
    signature_temp = None
    try:
        signature_temp = write_temp(directory, os.path.basename(dest) + ".sig", signature)
        verify_signature(ssh_keygen, krl_temp, signature_temp, allowed_signers)
        version = krl_version(ssh_keygen, krl_temp)
        if installed is not None:
            try:
                current = krl_version(ssh_keygen, dest)
            except SyncError:
                current = None  # an unloadable installed KRL is replaced by a good one
            if current is not None and version < current:
                raise SyncError("the published KRL has version %d, older than the installed version %d: "
                                "refusing to roll back" % (version, current))
        install(krl_temp, dest)
        krl_temp = None
        return "installed KRL version %d from %s at %s" % (version, url, dest)
    finally:
        for path in (krl_temp, signature_temp):
            if path is not None and os.path.exists(path):
                os.unlink(path)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="fleetca-krl-sync", description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="URL of the published revoked.krl (its signature: URL.sig)")
    parser.add_argument("--dest", required=True, help="the installed KRL (sshd's RevokedKeys)")
    parser.add_argument("--allowed-signers", required=True, help="allowed_signers file with the KRL signing key")
    parser.add_argument("--ssh-keygen", default="ssh-keygen")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT,
                        help="seconds for each download, and for the KRL's lock")
    args = parser.parse_args(argv)
    try:
        print("fleetca-krl-sync: " + sync(args.url, args.dest, args.allowed_signers, args.ssh_keygen, args.timeout))
    except (SyncError, IOError, OSError) as exc:
        print("fleetca-krl-sync: kept the installed KRL %s: %s" % (args.dest, exc), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
