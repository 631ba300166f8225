# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/rotation.py: the phase a CA directory's files show, the order of the phases, the
trust set and the refusal of a finish while certificates of the previous key are still valid."""

import os
import shutil
import subprocess

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import rotation
from ansible_collections.fleetca.ssh.plugins.module_utils.store import IssuanceRecord
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def keygen(path, comment):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)], check=True)
    return (path.parent / (path.name + ".pub")).read_text().strip()


@pytest.fixture
def ca(tmp_path):
    """A CA key `user_ca` with a spare key pair `spare` beside it (not a slot)."""
    keygen(tmp_path / "user_ca", "current")
    keygen(tmp_path / "spare", "spare")
    return tmp_path / "user_ca"


def move_pair(source, target):
    for suffix in ("", ".pub"):
        os.rename(str(source) + suffix, str(target) + suffix)


def phase(path):
    return rotation.phase_of(rotation.read_slots(str(path)), str(path))


def test_the_files_show_the_phase(ca):
    assert phase(ca) == rotation.IDLE
    move_pair(ca.parent / "spare", str(ca) + ".next")
    assert phase(ca) == rotation.STARTED
    move_pair(str(ca) + ".next", str(ca) + ".previous")
    assert phase(ca) == rotation.SWITCHED


def test_a_private_key_without_its_pub_is_no_slot(ca):
    shutil.copy(str(ca), str(ca) + ".next")
    assert phase(ca) == rotation.IDLE


def test_a_previous_link_of_the_current_key_is_a_switch_that_stopped_after_its_first_step(ca):
    move_pair(ca.parent / "spare", str(ca) + ".next")
    for suffix in ("", ".pub"):
        os.link(str(ca) + suffix, str(ca) + ".previous" + suffix)
    assert phase(ca) == rotation.STARTED


def test_next_and_a_different_previous_are_refused_naming_the_files(ca, tmp_path):
    move_pair(ca.parent / "spare", str(ca) + ".next")
    keygen(tmp_path / "other", "other")
    move_pair(tmp_path / "other", str(ca) + ".previous")
    with pytest.raises(FleetcaError, match=r"user_ca has both .*user_ca\.next and .*user_ca\.previous"):
        phase(ca)


@pytest.mark.parametrize("requested, state, steps", [
    ("start", rotation.IDLE, ["create_next"]),
    ("start", rotation.STARTED, []),
    ("switch", rotation.STARTED, ["keep_previous", "promote_next"]),
    ("switch", rotation.SWITCHED, []),
    ("finish", rotation.SWITCHED, ["retire_previous"]),
    ("rollback", rotation.STARTED, ["drop_next"]),
    ("rollback", rotation.SWITCHED, ["restore_previous"]),
])
def test_each_phase_from_the_state_it_follows(requested, state, steps):
    assert rotation.plan(requested, state) == steps


@pytest.mark.parametrize("requested, state, named", [
    ("switch", rotation.IDLE, "phase switch: switch without start"),
    ("finish", rotation.STARTED, "phase finish: finish before switch"),
    ("finish", rotation.IDLE, "phase finish: no rotation to finish"),
    ("start", rotation.SWITCHED, "phase start: a rotation is switched but not finished"),
    ("rollback", rotation.IDLE, "phase rollback: nothing to roll back"),
    ("swtich", rotation.STARTED, "phase must be one of start, switch, finish, rollback, not 'swtich'"),
])
def test_a_wrong_order_or_an_unknown_phase_is_refused(requested, state, named):
    with pytest.raises(FleetcaError) as error:
        rotation.plan(requested, state)
    assert named in str(error.value)


def test_a_finish_rerun_after_a_finished_rotation_changes_nothing(ca):
    assert not rotation.has_retired(str(ca))
    retired = rotation.retired_path(str(ca), rotation.read_slots(str(ca))["current"])
    os.mkdir(os.path.dirname(retired))
    shutil.copy(str(ca) + ".pub", retired)
    assert rotation.has_retired(str(ca))
    assert rotation.plan("finish", rotation.IDLE, finished_before=True) == []
    with pytest.raises(FleetcaError, match="nothing to roll back"):
        rotation.plan("rollback", rotation.IDLE, finished_before=True)


def test_the_trust_set_is_current_then_next_or_previous_then_extra_keys_without_repeats(ca):
    spare_line = (ca.parent / "spare.pub").read_text().strip()
    current_line = (ca.parent / "user_ca.pub").read_text().strip()
    move_pair(ca.parent / "spare", str(ca) + ".next")
    slots = rotation.read_slots(str(ca))
    keygen(ca.parent / "offline", "offline")
    offline_line = (ca.parent / "offline.pub").read_text().strip()
    trusted = rotation.trusted_keys(slots, [offline_line + "\n", current_line.rsplit(" ", 1)[0]])
    assert trusted == [current_line, spare_line, offline_line]


def test_an_extra_key_that_is_not_a_key_is_named_by_its_variable(ca):
    with pytest.raises(FleetcaError, match=r"fleetca_ssh_user_ca_extra_keys\[1\]"):
        rotation.trusted_keys(rotation.read_slots(str(ca)), [(ca.parent / "spare.pub").read_text(), "ssh-ed25519 !!"],
                              extra_field="fleetca_ssh_user_ca_extra_keys")


def record(serial, valid_after, valid_before):
    return IssuanceRecord(serial=serial, ca_fingerprint="SHA256:x", ca_public_key="", cert_type="user",
                          key_id="alice-%d" % serial, principals=["alice"], valid_after=valid_after,
                          valid_before=valid_before, subject_fingerprint="", requester="laptop",
                          issued_at=0, certificate="")


def test_only_certificates_valid_now_keep_finish_waiting_and_the_refusal_names_them():
    now = 1000
    records = [record(1, 0, now), record(2, 0, now + 1), record(3, now + 1, now + 5)] + [
        record(10 + n, 0, now + 60) for n in range(12)]
    valid = rotation.still_valid(records, now)
    assert [r.serial for r in valid] == [2] + list(range(10, 22))
    message = rotation.finish_refusal(valid, "ssh-ed25519 AAAA old")
    assert "13 still-valid certificates of the previous key ssh-ed25519 AAAA old" in message
    assert "alice-2 (serial 2), alice-10 (serial 10)" in message and "and 3 more" in message
    assert "alice-1 " not in message and "fleetca_ssh_rotate_force" in message


@pytest.mark.parametrize("variables, named", [
    ({"fleetca_ssh_rotate_phase": "start"}, "fleetca_ssh_rotate_ca must be user or host (which CA to rotate), not None"),
    ({"fleetca_ssh_rotate_ca": "users", "fleetca_ssh_rotate_phase": "start"}, "fleetca_ssh_rotate_ca must be user or host"),
    ({"fleetca_ssh_rotate_ca": "user"}, "fleetca_ssh_rotate_phase must be one of start, switch, finish, rollback"),
    ({"fleetca_ssh_rotate_ca": "user", "fleetca_ssh_rotate_phase": "begin"}, "not 'begin'"),
    ({"fleetca_ssh_rotate_ca": "user", "fleetca_ssh_rotate_phase": "finish", "fleetca_ssh_rotate_force": "maybe"},
     "fleetca_ssh_rotate_force must be true or false"),
    ({"fleetca_ssh_rotate_ca": "user", "fleetca_ssh_rotate_phase": "start", "fleetca_ssh_rotate_cas": "host"},
     "unknown variable fleetca_ssh_rotate_cas: fleetca.ssh.rotate reads only fleetca_ssh_rotate_ca, "
     "fleetca_ssh_rotate_force, fleetca_ssh_rotate_phase"),
])
def test_the_rotate_request_names_the_variable_that_is_wrong(variables, named):
    with pytest.raises(FleetcaError) as error:
        rotation.rotate_request(variables)
    assert named in str(error.value)


def test_the_rotate_request_reads_force_as_extra_vars_give_it():
    request = rotation.rotate_request({"fleetca_ssh_rotate_ca": "host", "fleetca_ssh_rotate_phase": "finish",
                                       "fleetca_ssh_rotate_force": "true"})
    assert request["ca"] == "host" and request["phase"] == "finish" and request["force"] is True


@pytest.mark.parametrize("ca, requested, marks", [
    ("user", "start", [("ssh_servers", "fleetca_ssh_user_ca_trust_rolled_out")]),
    ("user", "finish", [("ssh_servers", "fleetca_ssh_user_ca_trust_rolled_out"),
                        ("ssh_servers", "fleetca_ssh_krl_rolled_out")]),
    ("host", "start", [("ssh_clients", "fleetca_ssh_host_ca_trust_rolled_out")]),
    ("host", "switch", [("ssh_servers", "fleetca_ssh_host_certs_rolled_out"),
                        ("ssh_clients", "fleetca_ssh_host_ca_trust_rolled_out")]),
    ("host", "rollback", [("ssh_servers", "fleetca_ssh_host_certs_rolled_out"),
                          ("ssh_clients", "fleetca_ssh_host_ca_trust_rolled_out")]),
    ("host", "finish", [("ssh_servers", "fleetca_ssh_krl_rolled_out"),
                        ("ssh_clients", "fleetca_ssh_host_ca_trust_rolled_out")]),
])
def test_each_phase_names_the_hosts_it_must_reach(ca, requested, marks):
    request = rotation.rotate_request({"fleetca_ssh_rotate_ca": ca, "fleetca_ssh_rotate_phase": requested})
    assert [(mark["group"], mark["fact"]) for mark in request["converge"]] == marks


def test_the_missed_hosts_are_those_without_a_mark_each_once_in_inventory_order():
    request = rotation.rotate_request({"fleetca_ssh_rotate_ca": "host", "fleetca_ssh_rotate_phase": "switch"})
    groups = {"ssh_servers": ["web1", "web2", "both"], "ssh_clients": ["ws1", "both"]}
    hostvars = {"web1": {"fleetca_ssh_host_certs_rolled_out": True}, "web2": {}, "ws1": {},
                "both": {"fleetca_ssh_host_ca_trust_rolled_out": True}}
    assert rotation.missed_hosts(request, groups, hostvars) == ["web2", "both", "ws1"]
    assert rotation.missed_hosts(request, {"ssh_servers": ["web1"]}, hostvars) == []


def test_retired_keys_are_read_from_the_retired_directory_of_that_ca_only(ca, tmp_path):
    assert rotation.retired_keys(str(ca)) == [] and not rotation.has_retired(str(ca))
    spare = rotation.keys.parse_public_key("spare", (tmp_path / "spare.pub").read_text())
    os.mkdir(rotation.retired_dir(str(ca)))
    with open(rotation.retired_path(str(ca), spare), "w") as handle:
        handle.write(spare.to_line() + "\n")
    with open(rotation.retired_path(str(tmp_path / "host_ca"), spare), "w") as handle:
        handle.write(spare.to_line() + "\n")  # another CA's retired key
    assert rotation.retired_keys(str(ca)) == [spare.to_line()] and rotation.has_retired(str(ca))


def test_a_host_ca_finish_is_refused_naming_the_servers_presenting_the_previous_key(ca, tmp_path):
    previous = rotation.read_public_key("spare", str(tmp_path / "spare.pub"))
    current = (ca.parent / "user_ca.pub").read_text().strip()
    other_comment = previous.to_line("renamed")
    refusal = rotation.host_finish_refusal({"web2": [current, other_comment], "web1": [current]}, previous)
    assert refusal.startswith("phase finish: 1 server still presents a host certificate of the previous host CA key ")
    assert refusal.endswith(": web2. Run the switch phase again (it re-signs their host certificates) and then finish")
    assert rotation.host_finish_refusal({"web1": [current]}, previous) is None


def test_hosts_a_phase_missed_hold_back_every_other_phase_until_a_rerun_reaches_them(ca):
    assert rotation.read_missed(str(ca)) is None
    with open(str(ca) + rotation.MISSED_SUFFIX, "wb") as handle:
        handle.write(rotation.missed_record("start", ["web2", "web1", "web2"]))
    record = rotation.read_missed(str(ca))
    assert record == {"phase": "start", "hosts": ["web1", "web2"]}
    assert rotation.missed_refusal(record, "switch") == (
        "phase switch: the start phase did not reach web1, web2 yet; rerun start until it does, then switch")
    assert rotation.missed_refusal(record, "start") is None  # the rerun that converges them
    assert rotation.missed_record("start", []) is None


def test_a_damaged_missed_record_is_named(ca):
    with open(str(ca) + rotation.MISSED_SUFFIX, "w") as handle:
        handle.write("{not json")
    with pytest.raises(FleetcaError, match=r"user_ca.missed is not a record of missed hosts"):
        rotation.read_missed(str(ca))


def test_the_status_is_the_phase_and_the_keys_of_each_slot(ca, tmp_path):
    current = (tmp_path / "user_ca.pub").read_text().strip()
    spare = (tmp_path / "spare.pub").read_text().strip()
    assert rotation.status(str(ca)) == {"phase": rotation.IDLE, "trusted_keys": [current], "current_public_key": current,
                                        "next_public_key": "", "previous_public_key": "", "retired_keys": []}
    move_pair(ca.parent / "spare", str(ca) + ".next")
    assert rotation.status(str(ca), extra_keys=[current]) == {
        "phase": rotation.STARTED, "trusted_keys": [current, spare], "current_public_key": current,
        "next_public_key": spare, "previous_public_key": "", "retired_keys": []}


def test_the_status_payload_answers_as_the_module_and_fails_as_it(ca):
    answer = rotation.payload_main({"path": str(ca), "extra_keys": []})
    assert answer == dict(changed=False, **rotation.status(str(ca)))
    failed = rotation.payload_main({"path": str(ca), "extra_keys": ["not a key"]})
    assert failed["failed"] is True and "extra_keys" in failed["msg"]
