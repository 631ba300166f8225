"""sshd_probe.py run on its own, as the server role runs it (`python3 -c SOURCE JSON_ARGS`), against
the installed OpenSSH."""

import json

from ansible_collections.fleetca.ssh.plugins.module_utils import sshd_probe


def run_probe_source(run_cmd, args):
    """The probe as the server role runs it: `python3 -c SOURCE JSON_ARGS` (ansible.builtin.raw)."""
    source = open(sshd_probe.__file__).read()
    result = run_cmd(["python3", "-c", source, json.dumps(args)], check=False)
    marked = [line for line in result.stdout.splitlines() if line.startswith(sshd_probe.OUTPUT_MARK)]
    assert len(marked) == 1, result.stdout
    return result, json.loads(marked[0][len(sshd_probe.OUTPUT_MARK):])


def test_probe_source_runs_as_the_role_runs_it(workdir, run_cmd):
    args = {"types": ["ed25519"], "key_dir": str(workdir), "main": str(workdir / "sshd_config"),
            "dropin": str(workdir / "sshd_config.d" / "00-fleetca.conf")}
    result, found = run_probe_source(run_cmd, args)
    assert result.returncode == 0, result.stderr
    assert found["query"]["mac"] == run_cmd(["ssh", "-Q", "mac"]).stdout.split()
    assert found["sshd"] == "/usr/sbin/sshd" and found["host_keys"]["ed25519"]["public_key"] is None
    result, found = run_probe_source(run_cmd, dict(args, sshd=str(workdir / "no-sshd")))
    assert result.returncode == 1
    assert "sshd: %s is not an executable" % (workdir / "no-sshd") in result.stderr
