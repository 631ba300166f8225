# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter fleetca.ssh.server_certificates (plugins/filter/server_certificates.py)."""

import pytest
from ansible.errors import AnsibleFilterError

PROBE = {"host_keys": {"ed25519": {"path": "/etc/ssh/ssh_host_ed25519_key"}}}


def test_documented_as_it_is_called(load_filter, signature_of):
    plugin = load_filter("server_certificates")
    assert plugin.documented_options() == signature_of(plugin.function)


def test_skips_other_hosts_and_results_without_a_certificate(load_filter):
    signed = [{"requester": "web2", "certificate": "not parsed: another host's"}, {"requester": "web1"}]
    assert load_filter("server_certificates").function(signed, probe=PROBE, host="web1") == []


def test_a_broken_certificate_fails_the_filter_naming_it(load_filter):
    with pytest.raises(AnsibleFilterError, match="server_certificates: certificate"):
        signed = [{"requester": "web1", "certificate": "garbage"}]
        load_filter("server_certificates").function(signed, probe=PROBE, host="web1")
