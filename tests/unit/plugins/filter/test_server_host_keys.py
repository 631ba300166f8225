# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter fleetca.ssh.server_host_keys (plugins/filter/server_host_keys.py)."""

KEY = "/etc/ssh/ssh_host_ed25519_key"
PROBE = {"run_sshd": True, "host_keys": {"ed25519": {"path": KEY, "private_exists": True,
                                                     "staged_path": KEY + ".fleetca-new", "staged_files": []}}}


def test_documented_as_it_is_called(load_filter, signature_of):
    plugin = load_filter("server_host_keys")
    assert plugin.documented_options() == signature_of(plugin.function)


def test_rotate_as_minus_e_passes_it(load_filter):
    plan = load_filter("server_host_keys").function
    assert plan(PROBE, types=["ed25519"], replace=[], rotate="true")["generate"] == [
        {"type": "ed25519", "path": KEY + ".fleetca-new"}]
    assert plan(PROBE, types=["ed25519"], replace=[], rotate="false")["differs"] is False
