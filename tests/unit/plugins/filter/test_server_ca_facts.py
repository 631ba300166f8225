# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter fleetca.ssh.server_ca_facts (plugins/filter/server_ca_facts.py)."""

from ansible_collections.fleetca.ssh.plugins.module_utils import server_plan


def test_documented_as_it_is_called(load_filter, signature_of):
    plugin = load_filter("server_ca_facts")
    assert plugin.documented_options() == signature_of(plugin.function)


def test_keeps_only_what_ca_published_reads(load_filter):
    ca_vars = {"fleetca_ssh_user_ca_public_key": "ssh-ed25519 AAAA user-ca", "fleetca_ssh_ca_dir": "/srv/ca",
               "ansible_host": "ca.example.com", "fleetca_ssh_krl_master": {"version": 3}}
    facts = load_filter("server_ca_facts").function(ca_vars)
    assert facts == {"fleetca_ssh_user_ca_public_key": "ssh-ed25519 AAAA user-ca",
                     "fleetca_ssh_krl_master": {"version": 3}}
    assert server_plan.ca_published(facts) == server_plan.ca_published(ca_vars)


def test_without_a_ca_host_it_is_empty(load_filter):
    assert load_filter("server_ca_facts").function({}) == {}
