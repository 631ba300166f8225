# SPDX-License-Identifier: GPL-3.0-or-later
"""The real ssh client, each connection from its own loopback address."""

import collections
import itertools
import re
import socket
import subprocess

from fleetca_testing.accounts import LOGIN_USER
from fleetca_testing.commands import run
from fleetca_testing.openssh_keys import Keypair


def _can_bind(address):
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((address, 0))
        return True
    except OSError:
        return False


# Every client connection comes from its own loopback address when the kernel allows it
# (Linux routes all of 127/8 to lo): OpenSSH 9.8+ penalises a source address after a
# few failed logins (PerSourcePenalties), and the address also ties sshd log lines to
# one connection. The server's defaults stay as they are.
_SOURCES = itertools.count(0)
_DISTINCT_SOURCES = _can_bind("127.0.0.2")


def next_source_address():
    if not _DISTINCT_SOURCES:
        return None
    n = next(_SOURCES) % (250 * 250)
    return "127.0.%d.%d" % (n // 250 + 1, n % 250 + 2)


class LoginResult(collections.namedtuple("LoginResult", "returncode stdout stderr source server_log")):
    """What one ssh run did, on both ends."""

    def describe(self):
        """Everything about the login, for assertion messages."""
        return "ssh exited %d from %s\nstdout:\n%s\nstderr:\n%s\nsshd log:\n%s" % (
            self.returncode, self.source, self.stdout, self.stderr, self.server_log)


_CONNECTION_END = r"(Disconnected from|Connection closed by|Received disconnect from|Connection reset by)"


def ssh_login(server, key, cert=None, user=LOGIN_USER, command="true", known_hosts=None,
              strict="yes", host_key_alias=None, options=(), source="auto", verbose=False, timeout=30):
    """Run the real ssh client: `ssh -F none ... USER@127.0.0.1 COMMAND`.

    `key`: a Keypair or private key path; `cert`: a certificate path (CertificateFile), if any.
    `known_hosts` defaults to the server's own pinned host keys; `source` is the local
    address to connect from (a fresh loopback address by default, see next_source_address).
    Returns a LoginResult whose `server_log` is what sshd logged during this connection.
    """
    key_path = key.path if isinstance(key, Keypair) else str(key)
    if source == "auto":
        source = next_source_address()
    args = ["ssh", "-F", "none", "-p", str(server.port), "-i", key_path,
            "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=%s" % strict,
            "-o", "UserKnownHostsFile=%s" % (known_hosts or server.known_hosts),
            "-o", "GlobalKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5",
            "-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=no"]
    if cert is not None:
        args += ["-o", "CertificateFile=%s" % cert]
    if host_key_alias:
        args += ["-o", "HostKeyAlias=%s" % host_key_alias]
    if source:
        args += ["-b", source]
    if verbose:
        args.append("-v")
    for option in options:
        args += ["-o", option]
    args += ["%s@%s" % (user, server.host), command]
    offset = server.log_offset()
    result = run(args, check=False, timeout=timeout, stdin=subprocess.DEVNULL)
    where = re.escape(source) + r" port" if source else ""
    log = server.wait_for_log(_CONNECTION_END + r".*" + where, offset, timeout=3)
    return LoginResult(result.returncode, result.stdout, result.stderr, source, log)


class SshClient:
    """`ssh(server, key, cert, ...)` runs `ssh_login`; `ssh.next_source()` reserves a client address."""

    __call__ = staticmethod(ssh_login)
    next_source = staticmethod(next_source_address)
