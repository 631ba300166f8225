# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter fleetca.ssh.server_cert_requests (plugins/filter/server_cert_requests.py)."""

PROBE = {"hostname": "web1", "fqdn": "web1.example.org",
         "host_keys": {"ed25519": {"path": "/etc/ssh/ssh_host_ed25519_key", "public_key": "ssh-ed25519 AAAA",
                                   "certificate": None},
                       "rsa": {"path": "/etc/ssh/ssh_host_rsa_key", "public_key": None, "certificate": None}}}


def test_documented_as_it_is_called(load_filter, signature_of):
    plugin = load_filter("server_cert_requests")
    assert plugin.documented_options() == signature_of(plugin.function)


def test_requests_the_keys_the_probe_found(load_filter):
    requests = load_filter("server_cert_requests").function(
        PROBE, host="web1", types=["ed25519", "rsa"], valid_for="+52w", renew_before="+4w")
    assert requests == [{"type": "host", "public_key": "ssh-ed25519 AAAA", "principals": ["web1", "web1.example.org"],
                         "key_id": "host:web1:ed25519", "valid_for": "+52w", "renew_before": "+4w",
                         "requester": "web1"}]


def test_extra_principals(load_filter):
    requests = load_filter("server_cert_requests").function(
        PROBE, host="web1", types=["ed25519"], valid_for="+1d", renew_before="+1h", principals_extra=["192.0.2.1"])
    assert requests[0]["principals"] == ["web1", "web1.example.org", "192.0.2.1"]
