# SPDX-License-Identifier: GPL-3.0-or-later
"""plugins/filter/rotation_checks.py: the fleetca.ssh.rotation_* check filters, thin over
module_utils/rotation_checks.py, each documented in its own sidecar YAML as it is called."""

import os

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.fleetca.ssh.plugins.filter import rotation_checks as plugin

FILTERS = plugin.FilterModule().filters()
CALLS = {
    "rotation_presented_signers": [],
    "rotation_user_ca_trust_problem": ["expected", "host", "path"],
    "rotation_host_cert_problem": ["host", "signer"],
    "rotation_known_hosts_problem": ["host", "path", "revoked", "trusted"],
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_each_filter_is_documented_with_the_options_it_takes(name):
    with open(os.path.join(os.path.dirname(plugin.__file__), name + ".yml")) as handle:
        docs = yaml.safe_load(handle)
    assert docs["DOCUMENTATION"]["name"] == name and "_value" in docs["RETURN"]
    assert sorted(option for option in docs["DOCUMENTATION"]["options"] if option != "_input") == CALLS[name]
    assert "fleetca.ssh." + name in docs["EXAMPLES"] and yaml.safe_load(docs["EXAMPLES"])
    assert sorted(FILTERS) == sorted(CALLS)


def test_a_bad_key_is_a_filter_error_naming_the_filter():
    with pytest.raises(AnsibleFilterError, match="rotation_host_cert_problem: host CA key"):
        FILTERS["rotation_host_cert_problem"]({"host_keys": {}}, host="web1", signer="not a key")


def test_a_file_that_holds_the_set_is_no_problem():
    line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ca"
    assert FILTERS["rotation_user_ca_trust_problem"](line + "\n", host="web1", path="/p", expected=[line]) is None
