# SPDX-License-Identifier: GPL-3.0-or-later
"""sshd_probe.py where it runs on a server: against a real running sshd (loopback), what that
sshd has not loaded since its files were written."""

import signal
import subprocess

from ansible_collections.fleetca.ssh.plugins.module_utils import sshd_probe


def effective(server):
    return subprocess.run([sshd_probe.which("sshd"), "-T", "-f", server.config_path], capture_output=True,
                          text=True, check=True).stdout.splitlines()


def rewrite(path):
    with open(path, "rb") as handle:
        content = handle.read()
    with open(path, "wb") as handle:
        handle.write(content)


def not_loaded(server, paths):
    return sshd_probe.changed_since(sshd_probe.running_sshd_loaded_at(effective(server)), paths)


def test_files_written_after_the_last_load_wait_for_a_reload(sshd):
    server = sshd()
    host_key = server.host_keys["ed25519"].path
    paths = [server.config_path, host_key, host_key + "-cert.pub"]
    assert not_loaded(server, paths) == []

    rewrite(server.config_path)
    rewrite(host_key)
    assert not_loaded(server, paths) == sorted([server.config_path, host_key])

    offset = server.log_offset()
    server.process.send_signal(signal.SIGHUP)
    log = server.wait_for_log("Server listening on", since=offset, timeout=10)
    assert "Received SIGHUP" in log, log
    assert not_loaded(server, paths) == []


def test_without_a_running_sshd_nothing_waits(sshd):
    server = sshd()
    lines = effective(server)
    server.stop()
    assert sshd_probe.running_sshd_loaded_at(lines) is None
    assert sshd_probe.changed_since(None, [server.config_path]) == []


def test_the_pid_file_is_the_one_sshd_is_configured_with():
    assert sshd_probe.effective_value(["port 22", "pidfile /run/other.pid"], "pidfile", "/run/sshd.pid") == \
        "/run/other.pid"
    assert sshd_probe.effective_value(None, "pidfile", "/run/sshd.pid") == "/run/sshd.pid"
