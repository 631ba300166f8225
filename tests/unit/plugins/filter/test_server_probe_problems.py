# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter fleetca.ssh.server_probe_problems (plugins/filter/server_probe_problems.py)."""

import inspect

from ansible_collections.fleetca.ssh.plugins.module_utils import server_plan

PROBE = {"query": {}, "options": [], "errors": ["ssh: not found"], "effective": None}


def test_documented_as_it_is_called(load_filter):
    plugin = load_filter("server_probe_problems")
    assert plugin.documented_options() == sorted(list(inspect.signature(server_plan.probe_problems).parameters)[1:])


def test_names_the_host_the_probe_could_not_ask(load_filter):
    problems = load_filter("server_probe_problems").function(
        PROBE, host="db2", config={"options": [], "expected": []}, config_differs=False, check_mode=False,
        dropin_dir="/etc/ssh/sshd_config.d", main_file="/etc/ssh/sshd_config")
    assert problems == ["Could not ask the installed OpenSSH on db2 what it supports: ssh: not found"]
