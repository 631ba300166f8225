# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/revoke_request.py: the variables of playbook fleetca.ssh.revoke."""

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils.revoke_request import accepted_names, revoke_request
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

ACCEPTED = ("fleetca_ssh_revoke_hosts, fleetca_ssh_revoke_key_ids, fleetca_ssh_revoke_principals, "
            "fleetca_ssh_revoke_prune_expired, fleetca_ssh_revoke_public_keys, fleetca_ssh_revoke_serials, "
            "fleetca_ssh_revoke_sha256_fingerprints, fleetca_ssh_revoke_state")


def test_every_list_reaches_the_krl_arguments():
    request = revoke_request({
        "fleetca_ssh_revoke_serials": [42, "1000-1010"],
        "fleetca_ssh_revoke_key_ids": ["alice@laptop"],
        "fleetca_ssh_revoke_principals": ["contractor"],
        "fleetca_ssh_revoke_hosts": ["web1", "web2"],
        "fleetca_ssh_revoke_public_keys": ["ssh-ed25519 AAAA"],
        "fleetca_ssh_revoke_sha256_fingerprints": ["SHA256:x"],
    })
    assert request == {
        "state": "present",
        "serials": [42, "1000-1010"],
        "key_ids": ["alice@laptop"],
        "public_keys": ["ssh-ed25519 AAAA"],
        "sha256_fingerprints": ["SHA256:x"],
        "issued": [{"host": "web1"}, {"host": "web2"}, {"principal": "contractor"}],
        "prune_expired": True,
    }


@pytest.mark.parametrize("value, wanted", [(False, False), ("false", False), ("no", False), (True, True), ("yes", True)])
def test_pruning_is_on_unless_turned_off(value, wanted):
    request = revoke_request({"fleetca_ssh_revoke_serials": [1], "fleetca_ssh_revoke_prune_expired": value})
    assert request["prune_expired"] is wanted


def test_absent_un_revokes_the_same_entries():
    request = revoke_request({"fleetca_ssh_revoke_state": "absent", "fleetca_ssh_revoke_key_ids": ["x"]})
    assert request["state"] == "absent" and request["key_ids"] == ["x"] and request["serials"] == []


def test_accepted_names_are_the_contracts():
    assert ", ".join(accepted_names()) == ACCEPTED


@pytest.mark.parametrize("variables, message", [
    ({"fleetca_ssh_revoke_keyids": ["alice@laptop"]},
     "unknown variable fleetca_ssh_revoke_keyids: fleetca.ssh.revoke reads only " + ACCEPTED),
    ({"fleetca_ssh_revoke_keyids": ["a"], "fleetca_ssh_revoke_serial": [1], "fleetca_ssh_revoke_serials": [2]},
     "unknown variables fleetca_ssh_revoke_keyids, fleetca_ssh_revoke_serial: "),
    ({}, "nothing to revoke: give at least one entry in fleetca_ssh_revoke_hosts, fleetca_ssh_revoke_key_ids, "),
    ({"fleetca_ssh_revoke_serials": [], "fleetca_ssh_revoke_hosts": []}, "nothing to revoke: "),
    ({"fleetca_ssh_revoke_state": "absent"}, "nothing to un-revoke: "),
    ({"fleetca_ssh_revoke_serials": "42"},
     "fleetca_ssh_revoke_serials must be a list, not '42' (with -e, give JSON: "
     "-e '{\"fleetca_ssh_revoke_serials\": [...]}' or a vars file)"),
    ({"fleetca_ssh_revoke_hosts": "web1"}, "fleetca_ssh_revoke_hosts must be a list"),
    ({"fleetca_ssh_revoke_prune_expired": "sometimes", "fleetca_ssh_revoke_serials": [1]},
     "fleetca_ssh_revoke_prune_expired must be true or false, not 'sometimes'"),
    ({"fleetca_ssh_revoke_prune_expired": True}, "nothing to revoke: "),
    ({"fleetca_ssh_revoke_state": "revoked", "fleetca_ssh_revoke_serials": [1]},
     "fleetca_ssh_revoke_state must be present or absent, not 'revoked'"),
])
def test_a_typo_or_an_empty_request_names_the_variables(variables, message):
    with pytest.raises(FleetcaError) as error:
        revoke_request(variables)
    assert str(error.value).startswith(message), str(error.value)
