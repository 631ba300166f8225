# SPDX-License-Identifier: GPL-3.0-or-later
"""fleetca.ssh.ca_rotation through Ansible: the files of each phase (modes, which key signs, what
ssh-keygen reads), reruns that change nothing, wrong orders refused without a change, a finish
held back by a still-valid certificate of the previous key, rollback after switch."""

import hashlib
import os
import stat

from fleetca_testing.commands import run

from ansible_collections.fleetca.ssh.plugins.module_utils.store import IssuanceLog

PASSPHRASE = "Rotat3-Me-Carefully-8841"


def rotation_task(name, path, **args):
    return {"name": name, "fleetca.ssh.ca_rotation": dict(path=str(path), **args), "register": name}


def files_digest(directory):
    """Every file's name and bytes under `directory`: what a refused phase must leave as it was."""
    digest = hashlib.sha256()
    for root, _dirs, names in sorted(os.walk(str(directory))):
        for name in sorted(names):
            digest.update(os.path.join(root, name).encode())
            with open(os.path.join(root, name), "rb") as handle:
                digest.update(handle.read())
    return digest.hexdigest()


def public_key_of_private(path, passphrase=PASSPHRASE):
    """What ssh-keygen derives from the private key file: proves the pair still matches."""
    return " ".join(run(["ssh-keygen", "-y", "-P", passphrase, "-f", str(path)]).stdout.split()[:2])


def material(path):
    with open(str(path)) as handle:
        return " ".join(handle.read().split()[:2])


def ca_dir(workdir):
    directory = workdir / "ca"
    directory.mkdir()
    return directory


def phase(ansible_playbook, path, name, **args):
    play = ansible_playbook.run([rotation_task(name, path, **args)])
    return play, play.results.get(name, {})


def test_start_switch_finish_move_the_files_and_reruns_change_nothing(ansible_playbook, workdir, sign_cert,
                                                                     make_key):
    cadir = ca_dir(workdir)
    ca = cadir / "user_ca"
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", PASSPHRASE, "-C", "old", "-f", str(ca)])
    old = material(str(ca) + ".pub")

    for attempt in range(2):
        play, started = phase(ansible_playbook, ca, "start", phase="start", passphrase=PASSPHRASE, comment="new")
        assert play.returncode == 0 and started["changed"] is (attempt == 0), play.output
    new = material(str(ca) + ".next.pub")
    assert stat.S_IMODE(os.stat(str(ca) + ".next").st_mode) == 0o600
    assert public_key_of_private(str(ca) + ".next") == new != old
    assert started["phase"] == "started" and [" ".join(k.split()[:2]) for k in started["trusted_keys"]] == [old, new]

    for attempt in range(2):
        play, switched = phase(ansible_playbook, ca, "switch", phase="switch")
        assert play.returncode == 0 and switched["changed"] is (attempt == 0), play.output
    assert public_key_of_private(ca) == material(str(ca) + ".pub") == new
    assert public_key_of_private(str(ca) + ".previous") == material(str(ca) + ".previous.pub") == old
    assert not os.path.exists(str(ca) + ".next")

    # a certificate of the previous key, valid for an hour, holds finish back (the issuance log says so)
    store = cadir / "issued.db"
    subject = make_key("rotation-alice")
    log = IssuanceLog(str(store))
    log.record([(sign_cert(str(ca) + ".previous", subject, serial=7, key_id="alice@laptop",
                           passphrase=PASSPHRASE), "laptop")])
    log.close()
    before = files_digest(cadir)
    play, refused = phase(ansible_playbook, ca, "finish", phase="finish", store=str(store))
    assert play.returncode != 0 and "1 still-valid certificate of the previous key" in refused["msg"], play.output
    assert "alice@laptop (serial 7)" in refused["msg"] and PASSPHRASE not in play.output
    assert files_digest(cadir) == before

    for attempt in range(2):
        play, finished = phase(ansible_playbook, ca, "finish", phase="finish", store=str(store), force=True)
        assert play.returncode == 0 and finished["changed"] is (attempt == 0), play.output
    assert " ".join(finished["retiring_public_key"].split()[:2]) == (old if attempt == 0 else "")
    retired = os.listdir(str(cadir / "retired"))
    assert len(retired) == 1 and material(cadir / "retired" / retired[0]) == old
    assert not any(os.path.exists(str(ca) + ".previous" + s) for s in ("", ".pub"))
    assert finished["phase"] == "idle" and len(finished["trusted_keys"]) == 1

    play, refused = phase(ansible_playbook, ca, "rollback", phase="rollback")
    assert play.returncode != 0 and "nothing to roll back" in refused["msg"], play.output


def test_wrong_orders_are_refused_and_change_nothing(ansible_playbook, workdir):
    cadir = ca_dir(workdir)
    ca = cadir / "host_ca"
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(ca)])
    before = files_digest(cadir)
    for requested, named in [("switch", "switch without start"), ("finish", "no rotation to finish"),
                             ("rollback", "nothing to roll back")]:
        play, refused = phase(ansible_playbook, ca, requested, phase=requested)
        assert play.returncode != 0 and named in refused["msg"], play.output
        assert files_digest(cadir) == before
    assert phase(ansible_playbook, ca, "start", phase="start")[0].returncode == 0
    before = files_digest(cadir)
    play, refused = phase(ansible_playbook, ca, "finish", phase="finish")
    assert play.returncode != 0 and "finish before switch" in refused["msg"], play.output
    assert files_digest(cadir) == before


def test_rollback_after_switch_makes_the_old_key_sign_again_and_deletes_the_new_one(ansible_playbook, workdir):
    cadir = ca_dir(workdir)
    ca = cadir / "user_ca"
    run(["ssh-keygen", "-q", "-t", "rsa", "-b", "3072", "-N", PASSPHRASE, "-f", str(ca)])
    old = material(str(ca) + ".pub")
    for requested in ("start", "switch"):
        play, result = phase(ansible_playbook, ca, requested, phase=requested, passphrase=PASSPHRASE)
        assert play.returncode == 0, play.output
    new = material(str(ca) + ".pub")
    assert new != old and new.startswith("ssh-rsa ")
    assert "3072" in run(["ssh-keygen", "-l", "-f", str(ca) + ".pub"]).stdout  # the current key's type and size

    for attempt in range(2):
        play, rolled = phase(ansible_playbook, ca, "rollback", phase="rollback")
        assert play.returncode == (0 if attempt == 0 else 2), play.output
        assert attempt == 0 or "nothing to roll back" in rolled["msg"]
    assert public_key_of_private(ca) == material(str(ca) + ".pub") == old
    assert not [name for name in os.listdir(str(cadir)) if name.startswith(("user_ca.next", "user_ca.previous"))]


def test_check_mode_reports_the_phase_it_would_reach_and_writes_nothing(ansible_playbook, workdir):
    cadir = ca_dir(workdir)
    ca = cadir / "user_ca"
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(ca)])
    before = files_digest(cadir)
    play = ansible_playbook.run([rotation_task("start", ca, phase="start")], check=True)
    assert play.returncode == 0 and play.results["start"]["changed"], play.output
    assert play.results["start"]["phase"] == "started"
    assert files_digest(cadir) == before


def test_a_host_ca_finish_waits_for_servers_presenting_the_previous_key_and_then_lists_it_retired(
        ansible_playbook, workdir):
    cadir = ca_dir(workdir)
    ca = cadir / "host_ca"
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "old-host-ca", "-f", str(ca)])
    old = material(str(ca) + ".pub")
    for requested in ("start", "switch"):
        assert phase(ansible_playbook, ca, requested, phase=requested)[0].returncode == 0
    new = material(str(ca) + ".pub")
    presented = {"web1": [new], "web2": [new, old], "web3": [old]}

    before = files_digest(cadir)
    play, refused = phase(ansible_playbook, ca, "finish", phase="finish", presented_signers=presented, force=True)
    assert play.returncode != 0, play.output
    assert "2 servers still present a host certificate of the previous host CA key" in refused["msg"]
    assert "web2, web3" in refused["msg"] and "web1" not in refused["msg"]
    assert files_digest(cadir) == before

    play, finished = phase(ansible_playbook, ca, "finish", phase="finish", presented_signers={"web1": [new]})
    assert play.returncode == 0 and finished["changed"], play.output
    assert [material_of(line) for line in finished["retired_keys"]] == [old]
    play, status = phase(ansible_playbook, ca, "status")
    assert [material_of(line) for line in status["retired_keys"]] == [old] and status["phase"] == "idle"


def material_of(line):
    return " ".join(line.split()[:2])


def test_hosts_a_phase_missed_hold_back_the_next_phase_until_a_rerun_records_none(ansible_playbook, workdir):
    cadir = ca_dir(workdir)
    ca = cadir / "user_ca"
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(ca)])
    assert phase(ansible_playbook, ca, "start", phase="start")[0].returncode == 0
    play, recorded = phase(ansible_playbook, ca, "record", missed_phase="start", missed_hosts=["web2"])
    assert play.returncode == 0 and recorded["changed"], play.output
    assert (cadir / "user_ca.missed").exists()

    before = files_digest(cadir)
    play, refused = phase(ansible_playbook, ca, "switch", phase="switch")
    assert play.returncode != 0 and "the start phase did not reach web2 yet; rerun start" in refused["msg"], play.output
    assert files_digest(cadir) == before
    play, rerun = phase(ansible_playbook, ca, "rerun", phase="start")
    assert play.returncode == 0 and not rerun["changed"], play.output

    for attempt in range(2):
        play, cleared = phase(ansible_playbook, ca, "clear", missed_phase="start", missed_hosts=[])
        assert play.returncode == 0 and cleared["changed"] is (attempt == 0), play.output
    assert not (cadir / "user_ca.missed").exists()
    assert phase(ansible_playbook, ca, "switch", phase="switch")[0].returncode == 0


def test_a_status_read_is_one_command_and_a_phase_runs_only_the_module(ansible_playbook, workdir):
    """-vvv shows every command: the status is one EXEC and no module put; a phase puts and runs
    the module without asking the host first, and its passphrase appears nowhere."""
    ca = ca_dir(workdir) / "user_ca"
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", PASSPHRASE, "-f", str(ca)])
    play = ansible_playbook.run([rotation_task("status", ca),
                                 rotation_task("start", ca, phase="start", passphrase=PASSPHRASE)], verbosity=3)
    assert play.returncode == 0, play.output
    status, start = play.output.split("TASK [status]")[1].split("TASK [start]")
    assert status.count("EXEC ") == 1 and "PUT " not in status, status
    assert "PUT " in start and "FLEETCA-PAYLOAD-RESULT" not in start, start
    assert play.results["status"]["phase"] == "idle" and play.results["start"]["phase"] == "started"
    assert PASSPHRASE not in play.output
