"""The ca role asks the Python that runs the modules for its libraries, wherever Ansible takes
that Python from: with no ansible_python_interpreter in the inventory, the interpreter comes
from ANSIBLE_PYTHON_INTERPRETER or interpreter_python in ansible.cfg, and `python3` first on
PATH is another Python (here one without cryptography or bcrypt)."""

import os
import sys

import pytest

LIBRARY_TASK = "fleetca.ssh.ca : Ask the module Python for cryptography and bcrypt"
INSTALL_TASK = "fleetca.ssh.ca : Install the distribution's cryptography and bcrypt where missing"


@pytest.fixture
def bare_python3(workdir, run_cmd):
    """A directory whose `python3` is a virtualenv without cryptography and bcrypt."""
    venv = workdir / "bare"
    run_cmd([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    result = run_cmd([str(venv / "bin" / "python3"), "-c", "import cryptography"], check=False)
    assert result.returncode != 0, "the bare venv must not see cryptography"
    return str(venv / "bin")


@pytest.mark.parametrize("where", ["environment", "ansible.cfg"])
def test_check_mode_asks_the_module_python(ansible_playbook, workdir, bare_python3, where):
    import bcrypt
    import cryptography

    with open(ansible_playbook.inventory, "w") as handle:
        handle.write("localhost ansible_connection=local\n")
    env = {"PATH": bare_python3 + os.pathsep + os.environ["PATH"]}
    if where == "environment":
        env["ANSIBLE_PYTHON_INTERPRETER"] = sys.executable
    else:
        with open(ansible_playbook.config, "a") as handle:
            handle.write("interpreter_python = %s\n" % sys.executable)
    play = ansible_playbook.run([{
        "name": "ca role", "ansible.builtin.include_role": {"name": "fleetca.ssh.ca"},
        "vars": {"fleetca_ssh_ca_dir": str(workdir / "ca"), "fleetca_ssh_host_ca_passphrase": "secret1",
                 "fleetca_ssh_user_ca_passphrase": "secret2"}}], check=True, env=env)
    assert play.returncode == 0, play.output
    assert play.results[INSTALL_TASK]["_status"] == "skipped", play.results[INSTALL_TASK]
    found = play.results[LIBRARY_TASK]
    assert found["python"] == sys.executable, found
    assert found["libraries"] == {"cryptography": cryptography.__version__, "bcrypt": bcrypt.__version__}, found
