# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter fleetca.ssh.server_differs (plugins/filter/server_differs.py)."""

import inspect

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.fleetca.ssh.plugins.module_utils import server_plan

CONFIG = "/etc/ssh/sshd_config.d/00-fleetca.conf"
PROBE = {"host_keys": {}, "files": {CONFIG: None}, "digests": {"/krl": None}, "principals_files": {}, "not_loaded": [],
         "principals_dir": None, "service": {"active": True, "enabled": True}}
WANTED = dict(certificates=[], user_ca_keys=[], user_ca_keys_file="/ca.pub", authorized_principals={},
              krl_master={}, revoked_keys="/krl", config_dest=CONFIG, config_text="LogLevel VERBOSE\n")


def test_documented_as_it_is_called(load_filter):
    plugin = load_filter("server_differs")
    assert plugin.documented_options() == sorted(list(inspect.signature(server_plan.server_differs).parameters)[1:])


def test_names_what_differs(load_filter):
    assert load_filter("server_differs").function(PROBE, **WANTED) == ["krl_missing", "sshd_config"]


def test_a_principal_with_a_comma_fails_the_filter_naming_it(load_filter):
    wanted = dict(WANTED, authorized_principals={"deploy": ["a,b"]})
    with pytest.raises(AnsibleFilterError, match="server_differs: deploy: a principal cannot contain a comma"):
        load_filter("server_differs").function(PROBE, **wanted)
