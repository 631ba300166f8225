# SPDX-License-Identifier: GPL-3.0-or-later
"""fleetca.ssh.sshd_info: what it reports is what the installed OpenSSH and the files say; its
action plugin runs the probe on the Python that runs the modules, wherever Ansible takes it from,
in one command."""

import os
import platform
import socket
import sys

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import krl


def krl_bytes(version):
    return krl.Krl(version=version, generated=1_800_000_000).to_bytes()


def test_sshd_info_reports_the_installed_openssh(ansible_playbook, workdir, make_key, run_cmd):
    etc = workdir / "etc"
    (etc / "sshd_config.d").mkdir(parents=True)
    host_key = make_key("info-host-key")
    for suffix in ("", ".pub"):
        os.link(host_key.path + suffix, str(etc / ("ssh_host_ed25519_key" + suffix)))
    # What an unfinished host key rotation leaves: a staged key's .pub only.
    staged = make_key("info-staged-key")
    os.link(staged.pub_path, str(etc / "ssh_host_ed25519_key.fleetca-new.pub"))
    (etc / "sshd_config").write_text("Port 22\nInclude %s/sshd_config.d/*.conf\n" % etc)
    (etc / "other_config").write_text("Port 22\n")
    (etc / "revoked.krl").write_bytes(krl_bytes(1))
    (etc / "principals").mkdir()
    (etc / "principals" / "alice").write_text("alice\n")
    common = dict(host_key_types=["ed25519", "rsa"], key_dir=str(etc), dropin=str(etc / "sshd_config.d/00-fleetca.conf"),
                  digest_files=[str(etc / "revoked.krl")], files=[str(etc / "sshd_config"), str(etc / "absent")],
                  principals_dir=str(etc / "principals"))
    play = ansible_playbook.run([
        {"name": "dropin", "fleetca.ssh.sshd_info": dict(main_config=str(etc / "sshd_config"), **common),
         "register": "dropin"},
        {"name": "main", "fleetca.ssh.sshd_info": dict(main_config=str(etc / "other_config"), **common),
         "register": "main"},
    ])
    assert play.returncode == 0, play.output
    info, other = play.results["dropin"], play.results["main"]
    assert not info["changed"]
    assert info["query"]["kex"] == run_cmd(["ssh", "-Q", "kex"]).stdout.split()
    assert info["query"]["cipher"] == run_cmd(["ssh", "-Q", "cipher"]).stdout.split()
    assert info["ssh_version"] == run_cmd(["ssh", "-V"]).stderr.strip()
    assert info["sshd"] == "/usr/sbin/sshd"
    assert "trustedusercakeys" in info["options"] and "revokedkeys" in info["options"]
    assert info["includes_dropin_dir"] and info["lines_before_include"] == ["1: Port 22"]
    assert not other["includes_dropin_dir"]
    assert info["host_keys"]["ed25519"]["public_key"] == host_key.public_line
    assert info["host_keys"]["ed25519"]["private_exists"]
    assert info["host_keys"]["ed25519"]["staged_public_key"] == staged.public_line
    assert info["host_keys"]["ed25519"]["staged_files"] == [str(etc / "ssh_host_ed25519_key.fleetca-new.pub")]
    assert info["host_keys"]["rsa"] == {"path": str(etc / "ssh_host_rsa_key"), "private_exists": False,
                                        "public_key": None, "certificate": None, "certificate_file": None,
                                        "staged_path": str(etc / "ssh_host_rsa_key.fleetca-new"),
                                        "staged_public_key": None, "staged_files": []}
    assert info["digests"][str(etc / "revoked.krl")] == run_cmd(["sha256sum", str(etc / "revoked.krl")]).stdout.split()[0]
    assert info["files"][str(etc / "absent")] is None
    assert info["files"][str(etc / "sshd_config")]["content"].startswith("Port 22\n")
    assert info["principals_files"]["alice"]["content"] == "alice\n"
    assert info["hostname"] == platform.node().split(".")[0]
    assert info["fqdn"] == socket.getfqdn()
    assert info["os_family"] == "Debian" and info["service_name"] == "ssh"


def test_sshd_info_fails_without_sshd(ansible_playbook, workdir):
    play = ansible_playbook.run([{"name": "nosshd", "fleetca.ssh.sshd_info": {"sshd": str(workdir / "sshd")},
                                  "register": "nosshd", "ignore_errors": True}])
    result = play.results["nosshd"]
    assert result["failed"] and "sshd: %s is not an executable" % (workdir / "sshd") in result["msg"], result


@pytest.fixture
def other_python(workdir, run_cmd):
    """A virtualenv Python (standard library only), not the one running the tests."""
    venv = workdir / "other"
    run_cmd([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    return str(venv / "bin" / "python3")


def probe_task(workdir):
    (workdir / "sshd_config.d").mkdir(exist_ok=True)
    (workdir / "sshd_config").write_text("Include %s/sshd_config.d/0*.conf\n" % workdir)
    return {"name": "probe", "fleetca.ssh.sshd_info": {
        "host_key_types": ["ed25519"], "key_dir": str(workdir), "main_config": str(workdir / "sshd_config"),
        "dropin": str(workdir / "sshd_config.d" / "00-fleetca.conf")}}


@pytest.mark.parametrize("where", ["inventory", "environment", "ansible.cfg"])
def test_the_probe_runs_on_the_module_python(ansible_playbook, workdir, other_python, where):
    inventory = "localhost ansible_connection=local"
    env = {}
    if where == "inventory":
        inventory += " ansible_python_interpreter=%s" % other_python
    elif where == "environment":
        env["ANSIBLE_PYTHON_INTERPRETER"] = other_python
    else:
        with open(ansible_playbook.config, "a") as handle:
            handle.write("interpreter_python = %s\n" % other_python)
    with open(ansible_playbook.inventory, "w") as handle:
        handle.write(inventory + "\n")
    play = ansible_playbook.run([probe_task(workdir)], check=True, env=env)
    assert play.returncode == 0, play.output
    found = play.results["probe"]
    assert found["python"] == other_python and not found["changed"]
    assert found["includes_dropin_dir"] is True  # Include .../0*.conf names 00-fleetca.conf
    assert found["query"]["kex"]


def test_the_probe_is_one_command(ansible_playbook, workdir):
    """-vvv shows every command the connection runs: one EXEC for the probe, no file put."""
    play = ansible_playbook.run([probe_task(workdir)], verbosity=3)
    assert play.returncode == 0, play.output
    task = play.output.split("TASK [probe]")[1]
    assert task.count("EXEC ") == 1 and "PUT " not in task, task


def test_bad_option_names_the_field(ansible_playbook, workdir):
    play = ansible_playbook.run([{"name": "probe", "fleetca.ssh.sshd_info": {"host_key_types": "ed25519",
                                                                             "no_such_option": 1}}])
    result = play.results["probe"]
    assert result["failed"] and "no_such_option" in result["msg"], result
