# SPDX-License-Identifier: GPL-3.0-or-later
"""Role fleetca.ssh.ca through ansible-playbook on localhost: the KRL signing key and the signed,
published master KRL; one key for two jobs refused before anything is signed."""

import os
import subprocess


def ca_role(variables):
    return {"name": "ca role", "ansible.builtin.include_role": {"name": "fleetca.ssh.ca"}, "vars": variables}


def keygen_verifies(workdir, signer_line, krl_path, signature_path):
    allowed = workdir / "allowed_signers"
    allowed.write_text("fleetca-krl %s\n" % signer_line)
    with open(str(krl_path), "rb") as message:
        return subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(allowed), "-I", "fleetca-krl", "-n",
                               "fleetca-krl", "-s", str(signature_path)], stdin=message,
                              capture_output=True).returncode == 0


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
