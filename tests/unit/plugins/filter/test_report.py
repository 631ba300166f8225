# SPDX-License-Identifier: GPL-3.0-or-later
"""plugins/filter/report.py: the thin filters of playbook fleetca.ssh.report over
module_utils/report.py, each documented in its NAME.yml."""

import os

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.fleetca.ssh.plugins.filter import report as filters

NAMES = ["report_fleet", "report_request", "report_server", "report_table"]


def test_the_playbook_calls_the_filters_by_these_names():
    assert sorted(filters.FilterModule().filters()) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_each_filter_documents_the_arguments_it_takes(signature_of, name):
    with open(os.path.join(os.path.dirname(filters.__file__), name + ".yml")) as handle:
        docs = yaml.safe_load(handle)
    assert docs["DOCUMENTATION"]["name"] == name and "_value" in docs["RETURN"]
    assert "fleetca.ssh." + name in docs["EXAMPLES"] and yaml.safe_load(docs["EXAMPLES"])
    documented = sorted(option for option in docs["DOCUMENTATION"]["options"] if option != "_input")
    assert documented == signature_of(filters.FilterModule().filters()[name])


def test_a_typo_is_a_filter_error_naming_it():
    with pytest.raises(AnsibleFilterError, match="report_request: unknown variable fleetca_ssh_report_dst"):
        filters.report_request({"fleetca_ssh_report_dst": "x"})


def test_request_fleet_and_table_chain():
    request = filters.report_request({"fleetca_ssh_report_expiring_within": "+1d"})
    fleet = filters.report_fleet({}, {"version": 2, "sha256": "f" * 64}, [], ["web9"], request)
    assert fleet["master"] == {"krl_version": 2, "sha256": "f" * 64} and fleet["unreachable"] == ["web9"]
    assert filters.report_table(fleet)[-1] == "!! not reported (unreachable or failed): web9"
