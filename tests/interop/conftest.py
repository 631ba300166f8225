# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared fixtures of the interop tests: real OpenSSH tools, a real sshd, Ansible runs.

Everything here is generic; test modules build their scenarios from it.

- `workdir`: a per-test directory (pytest's tmp_path).
- `make_key(name, key_type="ed25519", bits=None, passphrase="")`: an ssh-keygen key pair,
  cached per session (CA keys and user keys are expensive to make, RSA especially).
- `sign_cert(ca, public_key, ...)`: sign with the collection's engine in-process
  (signers.KeyFileSigner + certs.CertRequest + certs.sign_certificate), optionally
  writing the certificate file. For tests that are not about Ansible.
- `login_user`: a real local account (created for the session, removed at its end).
- `sshd(...)`: module-scoped factory starting a real `/usr/sbin/sshd -D -e -f CONFIG` on a
  free 127.0.0.1 port with its own host keys and config; `sshd.prepare(...)` makes one
  without starting it (to sign its host keys first). Stopped at the end of the module.
- `ssh(server, key, cert, ...)`: run the real ssh client against such a server.
- `ssh_agent(*keypairs)`: module-scoped factory of real ssh-agents holding those keys.
- `ansible_playbook`: run a playbook (a list of tasks) against localhost with the
  collection under test; returns rc, output, the PLAY RECAP and every task's result.

The collection under test is the one Python imports (`make interop` puts the installed
copy on PYTHONPATH); ansible-playbook is pointed at that same tree.
"""

import collections
import itertools
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import certs, keys, signers
from ansible_collections.fleetca.ssh.plugins.module_utils import wire as _wire

SSHD = "/usr/sbin/sshd"
LOOPBACK = "127.0.0.1"
# One login account per test session (several sessions may run at once on one machine).
LOGIN_USER_PREFIX = "fleetca-t"
LOGIN_USER = "%s%d" % (LOGIN_USER_PREFIX, os.getpid())
PRIVSEP_DIR = "/run/sshd"

# --- locations ---------------------------------------------------------------


def collections_root():
    """The directory holding `ansible_collections/` that Python imported fleetca.ssh from.

    Not resolved through symlinks: a development tree may link
    ansible_collections/fleetca/ssh to the work tree, and Ansible must see that path.
    """
    path = os.path.abspath(_wire.__file__)  # .../ansible_collections/fleetca/ssh/plugins/module_utils/wire.py
    for dummy in range(6):
        path = os.path.dirname(path)
    if not os.path.isdir(os.path.join(path, "ansible_collections", "fleetca", "ssh")):
        raise RuntimeError("cannot locate the collections root of %s" % _wire.__file__)
    return path


def venv_tool(name):
    """A tool installed next to the Python running the tests (the venv's), else on PATH."""
    candidate = os.path.join(os.path.dirname(sys.executable), name)  # not realpath: keep the venv
    if os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which(name)
    if not found:
        raise RuntimeError("%s not found next to %s nor on PATH" % (name, sys.executable))
    return found


def run(args, check=True, **kwargs):
    """subprocess.run with text output captured; on failure, an assertion showing both streams."""
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 120)
    result = subprocess.run([str(a) for a in args], check=False, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError("%s exited %d\nstdout:\n%s\nstderr:\n%s"
                             % (" ".join(map(str, args)), result.returncode, result.stdout, result.stderr))
    return result


@pytest.fixture
def workdir(tmp_path):
    """A fresh directory for one test."""
    return tmp_path


@pytest.fixture(scope="session", autouse=True)
def _openssh_tools():
    missing = [tool for tool in (SSHD, "ssh", "ssh-keygen", "ssh-agent", "ssh-add")
               if not (os.access(tool, os.X_OK) if os.path.isabs(tool) else shutil.which(tool))]
    if missing:
        pytest.fail("interop tests need openssh-server and openssh-client (missing: %s); "
                    "`make system-deps` installs them" % ", ".join(missing), pytrace=False)


# --- keys and certificates ----------------------------------------------------

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


@pytest.fixture(scope="session")
def make_key(tmp_path_factory):
    """`make_key(name, key_type="ed25519", bits=None, passphrase="")` -> Keypair, one per name per session."""
    directory = tmp_path_factory.mktemp("keys")
    cache = {}

    def make(name, key_type="ed25519", bits=None, passphrase=""):
        wanted = (key_type, bits, passphrase)
        if name in cache:
            if cache[name][0] != wanted:
                raise ValueError("key %r already made as %r" % (name, cache[name][0]))
            return cache[name][1]
        pair = ssh_keygen_pair(directory / name, key_type, bits, passphrase)
        cache[name] = (wanted, pair)
        return pair

    return make


_serials = itertools.count(int(time.time()) % 100000 * 1000 + 1)


def _key_line(value):
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
        kind, keys.parse_public_key(_key_line(public_key)), list(principals), key_id,
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


@pytest.fixture(scope="session")
def sign_cert():
    """The in-process signing helper (see `engine_sign`)."""
    return engine_sign


def ssh_keygen_list(path):
    """`ssh-keygen -L -f PATH` output (TZ=UTC)."""
    return run(["ssh-keygen", "-L", "-f", path], env=dict(os.environ, TZ="UTC")).stdout


@pytest.fixture(scope="session")
def keygen_list():
    """`keygen_list(path)`: what `ssh-keygen -L -f PATH` prints (TZ=UTC)."""
    return ssh_keygen_list


@pytest.fixture(scope="session")
def run_cmd():
    """`run_cmd(args, check=True, **subprocess_kwargs)`: run a command, text output captured."""
    return run


# --- a login account ----------------------------------------------------------


def _remove_stale_login_users():
    """Accounts left by sessions that died before their teardown (their pid is gone)."""
    for entry in pwd.getpwall():
        match = re.match(r"^%s(\d+)$" % re.escape(LOGIN_USER_PREFIX), entry.pw_name)
        if match and entry.pw_name != LOGIN_USER and not os.path.exists("/proc/%s" % match.group(1)):
            run(["userdel", "--remove", entry.pw_name], check=False)


@pytest.fixture(scope="session")
def login_user():
    """A real local account for logins (`fleetca-tPID`), created for the session and removed after.

    Not root: root's shadow entry may be locked ('!'), which sshd with UsePAM no refuses.
    The password field is '*' (no password, not locked), the shell /bin/sh.
    """
    if os.geteuid() != 0:
        pytest.fail("the sshd interop tests run as root (sshd needs it)", pytrace=False)
    _remove_stale_login_users()
    try:
        pwd.getpwnam(LOGIN_USER)
    except KeyError:
        run(["useradd", "--create-home", "--shell", "/bin/sh", "--password", "*", LOGIN_USER])
    try:
        yield LOGIN_USER
    finally:
        run(["userdel", "--remove", LOGIN_USER], check=False)


# --- sshd -----------------------------------------------------------------------


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


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
            handle.write("".join(_key_line(line).strip() + "\n" for line in lines))

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
        key_type, blob = _key_line(ca_public_line).split()[:2]
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


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    """Factory of real sshd servers for a test module; all stopped when the module ends."""
    if os.geteuid() != 0:
        pytest.fail("the sshd interop tests run as root (sshd needs it)", pytrace=False)
    factory = SshdFactory(tmp_path_factory)
    yield factory
    factory.stop_all()


# --- ssh-agent --------------------------------------------------------------------


class SshAgentFactory:
    """`ssh_agent(*keypairs)` starts `ssh-agent -D -a SOCK` holding those keys; returns SOCK."""

    def __init__(self):
        self._agents = []

    def __call__(self, *keypairs, timeout=10):
        directory = tempfile.mkdtemp(prefix="fleetca-agent-")  # short: sun_path is 108 bytes
        sock = os.path.join(directory, "agent.sock")
        process = subprocess.Popen(["ssh-agent", "-D", "-a", sock], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._agents.append((process, directory))
        deadline = time.time() + timeout
        while not os.path.exists(sock):
            if process.poll() is not None or time.time() > deadline:
                raise AssertionError("ssh-agent did not create %s" % sock)
            time.sleep(0.02)
        env = dict(os.environ, SSH_AUTH_SOCK=sock)
        for pair in keypairs:
            if pair.passphrase:
                raise ValueError("ssh_agent loads unencrypted keys only (ssh-add asks a tty)")
            run(["ssh-add", pair.path], env=env)
        return sock

    def stop_all(self):
        for process, directory in self._agents:
            if process.poll() is None:
                process.terminate()
                process.wait(10)
            shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def ssh_agent():
    """Factory of real ssh-agents for a test module; all stopped when the module ends."""
    factory = SshAgentFactory()
    yield factory
    factory.stop_all()


# --- the ssh client -----------------------------------------------------------

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


@pytest.fixture(scope="session")
def ssh():
    """The real ssh client (see `ssh_login`)."""
    return SshClient()


# --- Ansible --------------------------------------------------------------------

PlaybookRun = collections.namedtuple("PlaybookRun", "returncode output recap results")

_RECAP = re.compile(r"^localhost\s*:\s*((?:\w+=\d+\s*)+)$", re.MULTILINE)


# An aggregate callback that saves every task result (by task name) to a JSON file,
# so that tests read module results without an extra task in the play.
RESULTS_CALLBACK = '''
import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "fleetca_test_results"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.results = {}

    def _save(self, result, status):
        data = dict((k, v) for k, v in result._result.items() if not k.startswith("_ansible"))
        data["_status"] = status
        if status == "failed":
            data["failed"] = True
        self.results[result._task.get_name()] = data

    def v2_runner_on_ok(self, result):
        self._save(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._save(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._save(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._save(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        with open(os.environ["FLEETCA_TEST_RESULTS"], "w") as handle:
            json.dump(self.results, handle, default=str)
'''


class AnsibleRunner:
    """Runs playbooks against localhost (connection local) with the collection under test.

    `run(tasks)` writes a one-play playbook (the tasks as given) into the directory and
    returns its exit code, output, PLAY RECAP counts and every task's result keyed by
    task name (a callback saves them, failed tasks included).
    """

    def __init__(self, directory):
        self.dir = str(directory)
        self.count = 0
        os.makedirs(self.dir, exist_ok=True)
        self.inventory = os.path.join(self.dir, "inventory.ini")
        with open(self.inventory, "w") as handle:
            handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
        self.config = os.path.join(self.dir, "ansible.cfg")
        with open(self.config, "w") as handle:
            handle.write("[defaults]\n")
        self.callback_dir = os.path.join(self.dir, "callback_plugins")
        os.makedirs(self.callback_dir, exist_ok=True)
        with open(os.path.join(self.callback_dir, "fleetca_test_results.py"), "w") as handle:
            handle.write(RESULTS_CALLBACK)

    def env(self, extra=None):
        env = dict(os.environ)
        env.update(
            ANSIBLE_CONFIG=self.config,
            ANSIBLE_COLLECTIONS_PATH=collections_root(),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_FORCE_COLOR="0",
            ANSIBLE_RETRY_FILES_ENABLED="0",
            ANSIBLE_STDOUT_CALLBACK="default",
            ANSIBLE_CALLBACK_PLUGINS=self.callback_dir,
            ANSIBLE_CALLBACKS_ENABLED="fleetca_test_results",
            ANSIBLE_LOCAL_TEMP=os.path.join(self.dir, ".ansible-tmp"),
            ANSIBLE_HOME=os.path.join(self.dir, ".ansible-home"),
            ANSIBLE_DEPRECATION_WARNINGS="0",
        )
        env.pop("SSH_AUTH_SOCK", None)  # an agent reaches a module only when a test says so
        env.update(extra or {})
        return env

    def start(self, tasks, check=False, diff=False, verbosity=0, extra_args=(), env=None):
        """Start ansible-playbook on a one-play playbook of `tasks`; `finish` collects it."""
        self.count += 1
        name = "play%d" % self.count
        dump = os.path.join(self.dir, name + ".results.json")
        play = [{"name": name, "hosts": "localhost", "gather_facts": False, "tasks": list(tasks)}]
        playbook = os.path.join(self.dir, name + ".yml")
        with open(playbook, "w") as handle:
            json.dump(play, handle, indent=2)  # JSON is YAML
        args = [venv_tool("ansible-playbook"), "-i", self.inventory, playbook]
        if check:
            args.append("--check")
        if diff:
            args.append("--diff")
        if verbosity:
            args.append("-" + "v" * verbosity)
        args += list(extra_args)
        run_env = self.env(env)
        run_env["FLEETCA_TEST_RESULTS"] = dump
        process = subprocess.Popen(args, env=run_env, cwd=self.dir, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return process, dump

    @staticmethod
    def finish(started, timeout=300):
        process, dump = started
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise
        recap = {}
        match = _RECAP.search(stdout)
        if match:
            recap = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1)))
        results = {}
        if os.path.exists(dump):
            with open(dump) as handle:
                results = json.load(handle)
        return PlaybookRun(process.returncode, stdout + stderr, recap, results)

    def run(self, tasks, timeout=300, **options):
        """Run a one-play playbook of `tasks` (options as for `start`) and wait for it."""
        return self.finish(self.start(tasks, **options), timeout)

    def run_concurrently(self, task_lists, timeout=300, **options):
        """Start one ansible-playbook per list of tasks, all at once; their runs, in order."""
        started = [self.start(tasks, **options) for tasks in task_lists]
        return [self.finish(each, timeout) for each in started]


@pytest.fixture
def ansible_playbook(workdir):
    """An AnsibleRunner writing into this test's work dir."""
    return AnsibleRunner(workdir / "ansible")


@pytest.fixture(scope="session")
def ansible_runner():
    """The AnsibleRunner class, for module-scoped runs (`ansible_runner(directory)`)."""
    return AnsibleRunner
