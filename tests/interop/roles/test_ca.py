# SPDX-License-Identifier: GPL-3.0-or-later
"""Role fleetca.ssh.ca through ansible-playbook on localhost: the KRL signing key and the signed,
published master KRL; one key for two jobs refused before anything is signed; the libraries are
asked of the Python that runs the modules, wherever Ansible takes that Python from (with no
ansible_python_interpreter in the inventory, from ANSIBLE_PYTHON_INTERPRETER or
interpreter_python in ansible.cfg, while `python3` first on PATH is one without cryptography or
bcrypt)."""

import os
import subprocess
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


def ca_role(variables):
    return {"name": "ca role", "ansible.builtin.include_role": {"name": "fleetca.ssh.ca"}, "vars": variables}


def keygen_verifies(workdir, signer_line, krl_path, signature_path):
    allowed = workdir / "allowed_signers"
    allowed.write_text("fleetca-krl %s\n" % signer_line)
    with open(str(krl_path), "rb") as message:
        return subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(allowed), "-I", "fleetca-krl", "-n",
                               "fleetca-krl", "-s", str(signature_path)], stdin=message,
                              capture_output=True, check=False).returncode == 0


def test_signs_and_publishes_the_master_krl_with_a_key_of_its_own(ansible_playbook, workdir):
    ca_dir, www = workdir / "ca", workdir / "www"
    www.mkdir()
    variables = {"fleetca_ssh_ca_dir": str(ca_dir), "fleetca_ssh_krl_publish_dir": str(www)}
    play = ansible_playbook.run([ca_role(variables), {"name": "facts", "ansible.builtin.debug": {
        "msg": "{{ fleetca_ssh_krl_signing_public_key }}"}}])
    assert play.returncode == 0, play.output
    signer = play.results["facts"]["msg"]
    assert signer == (ca_dir / "krl_signing.pub").read_text().strip()
    assert oct(os.stat(str(ca_dir / "krl_signing")).st_mode & 0o777) == oct(0o600)
    assert keygen_verifies(workdir, signer, ca_dir / "revoked.krl", ca_dir / "revoked.krl.sig")
    assert (www / "revoked.krl").read_bytes() == (ca_dir / "revoked.krl").read_bytes()
    assert keygen_verifies(workdir, signer, www / "revoked.krl", www / "revoked.krl.sig")
    again = ansible_playbook.run([ca_role(variables)])
    assert again.returncode == 0 and again.recap["changed"] == 0, again.output


def test_a_signing_key_that_is_a_ca_key_is_refused_before_anything_is_signed(ansible_playbook, workdir):
    ca_dir = workdir / "ca"
    play = ansible_playbook.run([ca_role({"fleetca_ssh_ca_dir": str(ca_dir),
                                          "fleetca_ssh_krl_signing_key": str(ca_dir / "user_ca")})])
    assert play.returncode != 0
    assert ("fleetca_ssh_host_ca_key, fleetca_ssh_user_ca_key and fleetca_ssh_krl_signing_key must be three "
            "different keys") in play.output, play.output
    assert sorted(os.listdir(str(ca_dir))) == []


def test_a_publish_dir_that_does_not_exist_is_named(ansible_playbook, workdir):
    ca_dir = workdir / "ca"
    play = ansible_playbook.run([ca_role({"fleetca_ssh_ca_dir": str(ca_dir),
                                          "fleetca_ssh_krl_publish_dir": str(workdir / "nowhere")})])
    assert play.returncode != 0
    assert "publish_dir: %s is not an existing directory" % (workdir / "nowhere") in play.output, play.output
    assert not (ca_dir / "revoked.krl.sig").exists()
