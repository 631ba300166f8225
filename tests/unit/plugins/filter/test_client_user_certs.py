# SPDX-License-Identifier: GPL-3.0-or-later
"""plugins/filter/client_user_certs.py: the batch and install filters, as the client role calls them."""

import os

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.fleetca.ssh.plugins.filter import client_user_certs as filters

DELIVERY = {"host": "ws1", "user": "alice", "path": "/home/alice/.ssh/id_ed25519-cert.pub", "owner": "alice",
            "group": "1000", "public_key": "ssh-ed25519 AAAA", "current": "", "attributes_ok": False,
            "request": {"person": "alice", "profile": "default", "public_key": "ssh-ed25519 AAAA",
                        "renew_before": "+4h"}}


def sidecar(name):
    with open(os.path.join(os.path.dirname(filters.__file__), name + ".yml")) as handle:
        return yaml.safe_load(handle)


@pytest.mark.parametrize("name", ["client_user_cert_batch", "client_user_cert_installs"])
def test_each_filter_documents_exactly_its_parameters(signature_of, name):
    docs = sidecar(name)
    function = filters.FilterModule().filters()[name]
    assert docs["DOCUMENTATION"]["name"] == name
    assert sorted(option for option in docs["DOCUMENTATION"]["options"] if option != "_input") == \
        signature_of(function)
    assert "fleetca.ssh." + name in docs["EXAMPLES"] and yaml.safe_load(docs["EXAMPLES"])


def test_the_batch_takes_the_hostvars_map_the_role_passes():
    """The role passes a generator (map('extract', ...)), not a list."""
    done = filters.client_user_cert_batch(iter([{"user_certs": [DELIVERY]}]), "ca",
                                          ca_paths={"user_ca_key": "/ca/user_ca", "store": "/ca/issued.db"})
    assert done["requests"] == [DELIVERY["request"]] and done["ca_key"] == "/ca/user_ca"


def test_errors_become_the_tasks_failure_message():
    with pytest.raises(AnsibleFilterError) as error:
        filters.client_user_cert_batch([{"user_certs": [DELIVERY]}], "ca", ca_paths=None)
    assert str(error.value).startswith("fleetca_ssh_ca_host: ca published no CA paths")
    with pytest.raises(AnsibleFilterError) as error:
        filters.client_user_cert_installs([], [DELIVERY], "ws1")
    assert "returned 0 certificates for 1 requests" in str(error.value)
