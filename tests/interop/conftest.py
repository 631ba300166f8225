# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared fixtures of the interop tests: real OpenSSH tools, a real sshd, Ansible runs.

Thin fixtures over tests/support/fleetca_testing (one module per concern); test modules
build their scenarios from them.

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
- `bind_mounted(path)`: a file bind-mounted onto `path`, so a rename over it fails (EBUSY).
- `ansible_playbook`: run a playbook (a list of tasks) against localhost with the
  collection under test; returns rc, output, the PLAY RECAP and every task's result.

The collection under test is the one Python imports (`make interop` puts the installed
copy on PYTHONPATH); ansible-playbook is pointed at that same tree.
"""

import os
import shutil

import pytest

from fleetca_testing import accounts, commands, openssh_keys
from fleetca_testing.ansible_runner import AnsibleRunner
from fleetca_testing.sshd import SSHD, SshdFactory
from fleetca_testing.ssh_agent import SshAgentFactory
from fleetca_testing.ssh_client import SshClient


def _require_root(what):
    if os.geteuid() != 0:
        pytest.fail("%s run as root (sshd needs it)" % what, pytrace=False)


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


@pytest.fixture(scope="session")
def make_key(tmp_path_factory):
    """`make_key(name, key_type="ed25519", bits=None, passphrase="")` -> Keypair, one per name per session."""
    return openssh_keys.KeyMaker(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="session")
def sign_cert():
    """The in-process signing helper (see `openssh_keys.engine_sign`)."""
    return openssh_keys.engine_sign


@pytest.fixture(scope="session")
def keygen_list():
    """`keygen_list(path)`: what `ssh-keygen -L -f PATH` prints (TZ=UTC)."""
    return openssh_keys.ssh_keygen_list


@pytest.fixture(scope="session")
def run_cmd():
    """`run_cmd(args, check=True, **subprocess_kwargs)`: run a command, text output captured."""
    return commands.run


@pytest.fixture
def bind_mounted():
    """`bind_mounted(path)`: bind-mount a file onto `path` (an existing file), so that renaming
    over `path` fails with EBUSY, as for a file a container runtime mounts; unmounted at the end."""
    mounted = []

    def mount(path):
        source = str(path) + ".mount-source"
        with open(source, "wb"):
            pass
        done = commands.run(["mount", "--bind", source, str(path)], check=False)
        if done.returncode != 0:
            pytest.skip("cannot bind-mount here: %s" % done.stderr.strip())
        mounted.append(str(path))

    yield mount
    for path in mounted:
        commands.run(["umount", path])


@pytest.fixture(scope="session")
def login_user():
    """A real local account for logins (`fleetca-tPID`), created for the session and removed after."""
    _require_root("the sshd interop tests")
    try:
        yield accounts.create_login_user()
    finally:
        accounts.remove_login_user()


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    """Factory of real sshd servers for a test module; all stopped when the module ends."""
    _require_root("the sshd interop tests")
    factory = SshdFactory(tmp_path_factory)
    yield factory
    factory.stop_all()


@pytest.fixture(scope="module")
def ssh_agent():
    """Factory of real ssh-agents for a test module; all stopped when the module ends."""
    factory = SshAgentFactory()
    yield factory
    factory.stop_all()


@pytest.fixture(scope="session")
def ssh():
    """The real ssh client (see `ssh_client.ssh_login`)."""
    return SshClient()


@pytest.fixture
def ansible_playbook(workdir):
    """An AnsibleRunner writing into this test's work dir."""
    return AnsibleRunner(workdir / "ansible")


@pytest.fixture(scope="session")
def ansible_runner():
    """The AnsibleRunner class, for module-scoped runs (`ansible_runner(directory)`)."""
    return AnsibleRunner
