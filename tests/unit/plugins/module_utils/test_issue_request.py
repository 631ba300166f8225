# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/issue_request.py: the variables of playbook fleetca.ssh.issue."""

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils.issue_request import accepted_names, issue_request
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def test_defaults_the_profile_and_the_destination_in_the_working_directory():
    request = issue_request({"fleetca_ssh_issue_user": "alice", "fleetca_ssh_issue_public_key": " ssh-ed25519 AAAA \n"},
                            cwd="/srv/ops")
    assert request == {"user": "alice", "profile": "default", "public_key": "ssh-ed25519 AAAA",
                       "public_key_file": None, "valid_for": None, "dest": "/srv/ops/alice-cert.pub"}


def test_relative_paths_are_of_the_working_directory():
    request = issue_request({"fleetca_ssh_issue_user": "bob", "fleetca_ssh_issue_public_key_file": "keys/bob.pub",
                             "fleetca_ssh_issue_dest": "/tmp/b.pub", "fleetca_ssh_issue_valid_for": "+1h"}, cwd="/w")
    assert (request["public_key_file"], request["dest"], request["valid_for"]) == ("/w/keys/bob.pub", "/tmp/b.pub", "+1h")


def test_accepted_names_are_the_contracts():
    assert accepted_names() == ["fleetca_ssh_issue_dest", "fleetca_ssh_issue_profile", "fleetca_ssh_issue_public_key",
                                "fleetca_ssh_issue_public_key_file", "fleetca_ssh_issue_user",
                                "fleetca_ssh_issue_valid_for"]


@pytest.mark.parametrize("variables, message", [
    ({"fleetca_ssh_issue_usr": "alice"}, "unknown variable fleetca_ssh_issue_usr: fleetca.ssh.issue reads only "),
    ({"fleetca_ssh_issue_public_key": "k"}, "fleetca_ssh_issue_user is required"),
    ({"fleetca_ssh_issue_user": "../root", "fleetca_ssh_issue_public_key": "k"}, "fleetca_ssh_issue_user: '../root'"),
    ({"fleetca_ssh_issue_user": "a"}, "give exactly one of fleetca_ssh_issue_public_key"),
    ({"fleetca_ssh_issue_user": "a", "fleetca_ssh_issue_public_key": "k", "fleetca_ssh_issue_public_key_file": "f"},
     "give exactly one of"),
    ({"fleetca_ssh_issue_user": ["a"], "fleetca_ssh_issue_public_key": "k"}, "fleetca_ssh_issue_user must be a string"),
])
def test_a_typo_or_a_missing_part_names_the_variables(variables, message):
    with pytest.raises(FleetcaError) as error:
        issue_request(variables, cwd="/w")
    assert str(error.value).startswith(message), str(error.value)
