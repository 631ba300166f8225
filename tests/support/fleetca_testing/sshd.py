# SPDX-License-Identifier: GPL-3.0-or-later
"""Real sshd servers, each with its own directory, config, host keys and log."""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

from ansible_collections.fleetca.ssh.plugins.module_utils import certs
from fleetca_testing.commands import run
from fleetca_testing.openssh_keys import key_line, ssh_keygen_pair

SSHD = "/usr/sbin/sshd"
LOOPBACK = "127.0.0.1"
PRIVSEP_DIR = "/run/sshd"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


class SshdServer:
    """One sshd with its own directory, config, host keys and log."""

    def __init__(self, directory, trusted_user_ca_keys=(), host_key_types=("ed25519",),
                 authorized_principals=None, options=None):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        self.host = LOOPBACK
        self.port = free_port()
        self.config_path = os.path.join(self.dir, "sshd_config")
        self.log_path = os.path.join(self.dir, "sshd.log")
        self.pid_path = os.path.join(self.dir, "sshd.pid")
        self.trusted_path = os.path.join(self.dir, "trusted_user_ca_keys")
        self.known_hosts = os.path.join(self.dir, "known_hosts")
        self.options = dict(options or {})
        self.host_keys = {}
        for key_type in host_key_types:
            self.host_keys[key_type] = ssh_keygen_pair(
                os.path.join(self.dir, "ssh_host_%s_key" % key_type), key_type, comment="host")
        self.host_certificates = {}
        self.set_trusted_user_ca_keys(trusted_user_ca_keys)
        self.principals_dir = None
        if authorized_principals is not None:
            # sshd reads these files as the logging-in user: outside pytest's 0700 tree
            self.principals_dir = tempfile.mkdtemp(prefix="fleetca-principals-")
            os.chmod(self.principals_dir, 0o755)
            for user, names in authorized_principals.items():
                path = os.path.join(self.principals_dir, user)
                with open(path, "w") as handle:
                    handle.write("".join(n + "\n" for n in names))
                os.chmod(path, 0o644)
        self.process = None
        self._log_handle = None

    def set_trusted_user_ca_keys(self, lines):
        """Replace TrustedUserCAKeys (sshd reads the file at every authentication)."""
        with open(self.trusted_path, "w") as handle:
            handle.write("".join(key_line(line).strip() + "\n" for line in lines))

    def config_text(self):
        lines = [
            "Port %d" % self.port,
            "ListenAddress %s" % self.host,
            "AddressFamily inet",
        ]
        lines += ["HostKey %s" % pair.path for pair in self.host_keys.values()]
        lines += ["HostCertificate %s" % path for path in self.host_certificates.values()]
        lines += [
            "TrustedUserCAKeys %s" % self.trusted_path,
            "AuthorizedKeysFile none",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            "PermitRootLogin prohibit-password",
            "PidFile %s" % self.pid_path,
            "LogLevel VERBOSE",
            "UseDNS no",
            "PrintMotd no",
            "PrintLastLog no",
            "X11Forwarding no",
        ]
        if self.principals_dir:
            lines.append("AuthorizedPrincipalsFile %s/%%u" % self.principals_dir)
        lines += ["%s %s" % (name, value) for name, value in self.options.items()]
        return "\n".join(lines) + "\n"

    def start(self, host_certificates=None, timeout=15):
        """Start sshd; `host_certificates`: {host key type: certificate line or Certificate}."""
        for key_type, cert in (host_certificates or {}).items():
            path = os.path.join(self.dir, "ssh_host_%s_key-cert.pub" % key_type)
            with open(path, "w") as handle:
                handle.write((cert.to_line() if isinstance(cert, certs.Certificate) else cert).strip() + "\n")
            self.host_certificates[key_type] = path
        if not os.path.isdir(PRIVSEP_DIR):
            os.makedirs(PRIVSEP_DIR, 0o755)
            os.chmod(PRIVSEP_DIR, 0o755)
        for attempt in range(5):
            self._write_files()
            run([SSHD, "-t", "-f", self.config_path])
            if self._launch(timeout):
                return self
            if "Bind to port" not in self.log() or attempt == 4:  # lost a port race: try another
                raise AssertionError("sshd did not start:\n%s" % self.log())
            self.port = free_port()
        return self

    def _write_files(self):
        with open(self.config_path, "w") as handle:
            handle.write(self.config_text())
        with open(self.known_hosts, "w") as handle:
            for pair in self.host_keys.values():
                key_type, blob = pair.public_line.split()[:2]
                handle.write("[%s]:%d %s %s\n" % (self.host, self.port, key_type, blob))

    def _launch(self, timeout):
        self._log_handle = open(self.log_path, "ab")
        self.process = subprocess.Popen([SSHD, "-D", "-e", "-f", self.config_path],
                                        stdin=subprocess.DEVNULL, stdout=self._log_handle,
                                        stderr=subprocess.STDOUT)
        listening = "Server listening on %s port %d" % (self.host, self.port)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if listening in self.log():
                return True
            if self.process.poll() is not None:
                self._close_log()
                return False
            time.sleep(0.02)
        self.stop()
        raise AssertionError("sshd did not listen within %ss:\n%s" % (timeout, self.log()))

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._close_log()
        if self.principals_dir:
            shutil.rmtree(self.principals_dir, ignore_errors=True)

    def _close_log(self):
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None

    def log(self, since=0):
        """sshd's log (stderr, with -e), from byte offset `since`."""
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(since)
                return handle.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_offset(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def wait_for_log(self, pattern, since=0, timeout=5):
        """The log from `since` once it matches the regex `pattern` (or after `timeout`)."""
        deadline = time.time() + timeout
        while True:
            text = self.log(since)
            if re.search(pattern, text) or time.time() > deadline:
                return text
            time.sleep(0.02)

    def known_hosts_cert_authority(self, ca_public_line, patterns="*"):
        """A known_hosts line trusting `ca_public_line` as host CA for `patterns`."""
        key_type, blob = key_line(ca_public_line).split()[:2]
        return "@cert-authority %s %s %s\n" % (patterns, key_type, blob)

    def __repr__(self):
        return "<sshd %s:%d in %s>" % (self.host, self.port, self.dir)


class SshdFactory:
    """`sshd(...)` starts a server; `sshd.prepare(...)` makes one to start later."""

    def __init__(self, tmp_path_factory):
        self._tmp = tmp_path_factory
        self.servers = []

    def prepare(self, trusted_user_ca_keys=(), host_key_types=("ed25519",), authorized_principals=None,
                options=None):
        server = SshdServer(self._tmp.mktemp("sshd"), trusted_user_ca_keys, host_key_types,
                            authorized_principals, options)
        self.servers.append(server)
        return server

    def __call__(self, trusted_user_ca_keys=(), host_key_types=("ed25519",), authorized_principals=None,
                 options=None, host_certificates=None):
        return self.prepare(trusted_user_ca_keys, host_key_types, authorized_principals,
                            options).start(host_certificates)

    def stop_all(self):
        for server in self.servers:
            server.stop()
