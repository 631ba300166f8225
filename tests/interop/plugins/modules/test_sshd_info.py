"""fleetca.ssh.sshd_info's action plugin: the probe runs on the Python that runs the modules,
wherever Ansible takes it from, in one command."""

import sys

import pytest


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
