# SPDX-License-Identifier: GPL-3.0-or-later
"""plugins/filter/revoke_request.py: the thin filter over module_utils/revoke_request.py."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.fleetca.ssh.plugins.filter.revoke_request import FilterModule

revoke_request = FilterModule().filters()["revoke_request"]


def test_returns_the_krl_arguments():
    assert revoke_request({"fleetca_ssh_revoke_key_ids": ["a"]})["key_ids"] == ["a"]


def test_a_typo_is_a_filter_error_naming_it():
    with pytest.raises(AnsibleFilterError, match="unknown variable fleetca_ssh_revoke_keyids"):
        revoke_request({"fleetca_ssh_revoke_keyids": ["a"]})
