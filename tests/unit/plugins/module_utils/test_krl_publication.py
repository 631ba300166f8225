# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/krl_publication.py: what krl_publish writes for a KRL that ssh-keygen -k built,
its signature checked by ssh-keygen -Y verify, and the answer its action gives in one round trip
(only where nothing is to be written; {} lets the module run)."""

import os
import subprocess

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import krl_publication, sshsig


def keygen(*args, **options):
    return subprocess.run(["ssh-keygen"] + [str(a) for a in args], check=True, capture_output=True, **options)


@pytest.fixture
def master(tmp_path):
    keygen("-q", "-t", "ed25519", "-N", "", "-C", "fleetca-krl", "-f", tmp_path / "signer")
    (tmp_path / "spec").write_text("serial: 10\n")
    keygen("-q", "-t", "ed25519", "-N", "", "-f", tmp_path / "ca")
    keygen("-k", "-f", tmp_path / "revoked.krl", "-s", tmp_path / "ca.pub", "-z", 4, tmp_path / "spec")
    (tmp_path / "www").mkdir()
    return dict(path=str(tmp_path / "revoked.krl"), signing_key=str(tmp_path / "signer"), publish_dir=str(tmp_path / "www"))


def publish(master):
    signer = krl_publication.load_signer(master["signing_key"], None)
    data, version, writes = krl_publication.plan_publication(master["path"], signer, master["publish_dir"])
    for target, content in writes:
        with open(target, "wb") as handle:
            handle.write(content)
    return data, version, writes, signer


def test_the_first_publication_writes_a_signature_ssh_keygen_verifies_and_both_copies(master, tmp_path):
    data, version, writes, dummy = publish(master)
    assert version == 4 and [os.path.basename(target) for target, dummy in writes] == [
        "revoked.krl.sig", "revoked.krl", "revoked.krl.sig"]
    (tmp_path / "allowed").write_text("fleetca %s" % open(master["signing_key"] + ".pub").read())
    keygen("-Y", "verify", "-f", tmp_path / "allowed", "-I", "fleetca", "-n", sshsig.KRL_NAMESPACE,
           "-s", tmp_path / "www" / "revoked.krl.sig", input=data)
    assert (tmp_path / "www" / "revoked.krl").read_bytes() == data


def test_a_current_publication_is_answered_as_the_module_reports_it(master):
    data, version, dummy, signer = publish(master)
    answer = krl_publication.payload_main(master)
    assert answer == krl_publication.result_of(master["path"], data, version, [], signer)
    assert answer["changed"] is False and answer["written"] == [] and answer["krl_version"] == 4
    assert answer["signer"] == " ".join(open(master["signing_key"] + ".pub").read().split()[:2])


@pytest.mark.parametrize("case", ["never signed", "copy removed", "krl changed", "encrypted key", "no publish_dir"])
def test_anything_to_write_or_to_refuse_is_the_modules(master, tmp_path, case):
    if case != "never signed":
        publish(master)
    if case == "copy removed":
        os.unlink(os.path.join(master["publish_dir"], "revoked.krl"))
    if case == "krl changed":
        keygen("-k", "-u", "-f", master["path"], "-s", tmp_path / "ca.pub", "-z", 5, tmp_path / "spec")
    if case == "encrypted key":
        keygen("-p", "-q", "-N", "Corr3ct-Horse-Battery-Staple-5219", "-P", "", "-f", master["signing_key"])
    if case == "no publish_dir":
        master = dict(master, publish_dir=str(tmp_path / "none"))
    assert krl_publication.payload_main(master) == {}
