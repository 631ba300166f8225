# SPDX-License-Identifier: GPL-3.0-or-later
"""Real ssh-agents holding given keys."""

import os
import shutil
import subprocess
import tempfile
import time

from fleetca_testing.commands import run


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
