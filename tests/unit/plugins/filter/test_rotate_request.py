# SPDX-License-Identifier: GPL-3.0-or-later
"""plugins/filter/rotate_request.py: the thin filter over rotation.rotate_request."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.fleetca.ssh.plugins.filter.rotate_request import FilterModule

rotate_request = FilterModule().filters()["rotate_request"]


def test_returns_the_ca_the_phase_and_force_off_by_default():
    request = rotate_request({"fleetca_ssh_rotate_ca": "user", "fleetca_ssh_rotate_phase": "start"})
    assert (request["ca"], request["phase"], request["force"]) == ("user", "start", False)
    assert request["converge"] == [{"group": "ssh_servers", "fact": "fleetca_ssh_user_ca_trust_rolled_out"}]


def test_a_typo_is_a_filter_error_naming_it():
    with pytest.raises(AnsibleFilterError, match="unknown variable fleetca_ssh_rotate_phse"):
        rotate_request({"fleetca_ssh_rotate_ca": "user", "fleetca_ssh_rotate_phse": "start"})
