# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter fleetca.ssh.server_ca_published (plugins/filter/server_ca_published.py)."""

from ansible_collections.fleetca.ssh.plugins.module_utils import server_plan


def test_documented_as_it_is_called(load_filter, signature_of):
    plugin = load_filter("server_ca_published")
    assert plugin.documented_options() == signature_of(plugin.function)


def test_reads_the_ca_hosts_variables(load_filter):
    published = load_filter("server_ca_published").function(
        {"fleetca_ssh_user_ca_public_key": "ssh-ed25519 AAAA user-ca"}, extra_user_ca_keys=["ssh-ed25519 BBBB next"])
    assert published["user_ca_keys"] == ["ssh-ed25519 AAAA user-ca", "ssh-ed25519 BBBB next"]
    assert published == server_plan.ca_published(
        {"fleetca_ssh_user_ca_public_key": "ssh-ed25519 AAAA user-ca"}, extra_user_ca_keys=["ssh-ed25519 BBBB next"])


def test_reads_the_krl_signing_key(load_filter):
    published = load_filter("server_ca_published").function(
        {"fleetca_ssh_krl_signing_public_key": "ssh-ed25519 AAAA fleetca-krl"})
    assert published["krl_signing_public_key"] == "ssh-ed25519 AAAA fleetca-krl"
