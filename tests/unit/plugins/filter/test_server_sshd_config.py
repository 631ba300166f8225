# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter fleetca.ssh.server_sshd_config (plugins/filter/server_sshd_config.py)."""

import os

import yaml

from ansible_collections.fleetca.ssh.plugins.module_utils import server_plan

PROBE = {"query": {"kex": ["curve25519-sha256"], "cipher": ["aes128-ctr"], "mac": ["hmac-sha2-256-etm@openssh.com"],
                   "host_key": ["ssh-ed25519"], "sig": ["ssh-ed25519"]},
         "options": [], "host_keys": {"ed25519": {"path": "/etc/ssh/ssh_host_ed25519_key"}}}


def settings_of_the_role():
    """The settings the role passes: every key of the filter's documented `settings`."""
    collection = os.path.join(os.path.dirname(server_plan.__file__), "..", "..")
    with open(os.path.join(collection, "roles", "server", "defaults", "main.yml")) as handle:
        defaults = yaml.safe_load(handle)
    names = ["host_key_types", "trusted_user_ca_keys_file", "revoked_keys", "authorized_principals_dir",
             "authorized_principals", "cert_only", "permit_root_login", "max_auth_tries", "kex_algorithms",
             "ciphers", "macs", "host_key_algorithms", "ca_signature_algorithms", "sshd_options"]
    return dict((name, defaults["fleetca_ssh_" + name]) for name in names)


def test_documented_as_it_is_called(load_filter, signature_of):
    plugin = load_filter("server_sshd_config")
    assert plugin.documented_options() == signature_of(plugin.function)
    for name in settings_of_the_role():
        assert "C(%s)" % name in " ".join(plugin.doc["options"]["settings"]["description"])


def test_builds_the_options_from_the_roles_defaults(load_filter):
    settings = dict(settings_of_the_role(), host_key_types=["ed25519"], sshd_options={"X11Forwarding": False})
    config = load_filter("server_sshd_config").function(PROBE, certificates=[], user_ca_keys=[], settings=settings)
    assert config == server_plan.sshd_config(PROBE, settings, [], [])
    assert config["options"][0] == {"name": "HostKey", "args": ["/etc/ssh/ssh_host_ed25519_key"]}
    assert config["options"][-1] == {"name": "X11Forwarding", "args": ["no"]}
    assert {"name": "KexAlgorithms", "args": ["curve25519-sha256"]} in config["options"]
