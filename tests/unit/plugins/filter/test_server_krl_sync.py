# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter fleetca.ssh.server_krl_sync (plugins/filter/server_krl_sync.py)."""

from ansible_collections.fleetca.ssh.plugins.module_utils import server_plan

PATHS = {"program": "/p", "allowed_signers": "/a", "service": "/s", "timer": "/t"}
SIGNING_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBfJ1bcj0YA74w5sW1PVV/ji2xCVhaxXbTp+nUyAY4yW fleetca-krl"
WANTED = dict(url="http://ca/revoked.krl", interval="10s", signing_public_key=SIGNING_KEY, revoked_keys="/krl",
              program="", paths=PATHS, check_mode=False)
NOTHING_INSTALLED = {"python": "/usr/bin/python3", "files": dict.fromkeys(PATHS.values()),
                     "units": {"fleetca-krl-sync.timer": {"active": False, "enabled": False}}}


def test_documented_as_it_is_called(load_filter, signature_of):
    plugin = load_filter("server_krl_sync")
    assert plugin.documented_options() == signature_of(plugin.function)
    assert sorted(plugin.returns["_value"]["contains"]) == sorted(
        server_plan.krl_sync_plan(NOTHING_INSTALLED, **WANTED))


def test_plans_the_files_and_the_timer(load_filter):
    plan = load_filter("server_krl_sync").function(NOTHING_INSTALLED, **WANTED)
    assert [item["path"] for item in plan["write"]] == ["/p", "/a", "/s", "/t"]
    assert plan["state"] == "started" and plan["daemon_reload"] and plan["differs"]


def test_no_url_and_nothing_installed_is_nothing_to_do(load_filter):
    assert not load_filter("server_krl_sync").function(NOTHING_INSTALLED, **dict(WANTED, url=None))["differs"]
