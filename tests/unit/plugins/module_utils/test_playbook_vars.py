# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/playbook_vars.py: the one check of a playbook's variables, for every playbook."""

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils.playbook_vars import reject_unknown
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

ACCEPTED = ["fleetca_ssh_x_b", "fleetca_ssh_x_a"]


def test_known_names_pass():
    reject_unknown({"fleetca_ssh_x_a": 1, "fleetca_ssh_x_b": None}, "x", ACCEPTED)
    reject_unknown({}, "x", ACCEPTED)


def test_one_typo_is_named_with_the_names_the_playbook_reads_sorted():
    with pytest.raises(FleetcaError) as raised:
        reject_unknown({"fleetca_ssh_x_a": 1, "fleetca_ssh_x_c": 2}, "x", ACCEPTED)
    assert str(raised.value) == ("unknown variable fleetca_ssh_x_c: fleetca.ssh.x reads only "
                                 "fleetca_ssh_x_a, fleetca_ssh_x_b")


def test_several_typos_are_all_named():
    with pytest.raises(FleetcaError, match="^unknown variables fleetca_ssh_x_c, fleetca_ssh_x_d: fleetca.ssh.x "):
        reject_unknown({"fleetca_ssh_x_d": 1, "fleetca_ssh_x_c": 2}, "x", ACCEPTED)
