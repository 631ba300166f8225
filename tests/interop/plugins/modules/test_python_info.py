# SPDX-License-Identifier: GPL-3.0-or-later
"""fleetca.ssh.python_info through ansible-playbook on localhost: the libraries of the Python
that Ansible runs modules with, resolved as for a module call."""

import sys

import bcrypt
import cryptography


def test_reports_the_libraries_of_the_configured_interpreter(ansible_playbook):
    play = ansible_playbook.run([{"name": "libs", "fleetca.ssh.python_info": {
        "libraries": ["cryptography", "bcrypt", "fleetca_no_such_library"]}}], check=True)
    assert play.returncode == 0, play.output
    result = play.results["libs"]
    assert not result["changed"]
    assert result["python"] == sys.executable  # the inventory's ansible_python_interpreter
    assert result["libraries"] == {"cryptography": cryptography.__version__, "bcrypt": bcrypt.__version__,
                                   "fleetca_no_such_library": None}


def test_discovers_the_interpreter_and_returns_the_fact(ansible_playbook):
    """With discovery, the action discovers the interpreter as a module call would and returns
    it as the fact; the next module call then runs that same Python."""
    with open(ansible_playbook.inventory, "w") as handle:
        handle.write("localhost ansible_connection=local ansible_python_interpreter=auto_silent\n")
    play = ansible_playbook.run([
        {"name": "libs", "fleetca.ssh.python_info": {}},
        {"name": "module", "ansible.builtin.command": "echo", "changed_when": False},
        {"name": "fact", "ansible.builtin.debug": {"var": "ansible_facts.discovered_interpreter_python"}},
    ], env={"PATH": "/usr/bin:/bin"})  # the system Pythons only (a pyenv shim may not run)
    assert play.returncode == 0, play.output
    discovered = play.results["libs"]["ansible_facts"]["discovered_interpreter_python"]
    assert discovered.startswith("/usr/bin/python3") and play.results["libs"]["python"] == discovered
    assert play.results["fact"]["ansible_facts.discovered_interpreter_python"] == discovered


def test_a_missing_interpreter_fails_naming_it(ansible_playbook, workdir):
    missing = str(workdir / "no-python")
    play = ansible_playbook.run([{"name": "libs", "fleetca.ssh.python_info": {},
                                  "vars": {"ansible_python_interpreter": missing}}])
    result = play.results["libs"]
    assert result["failed"] and missing in result["msg"], result
