# SPDX-License-Identifier: GPL-3.0-or-later
"""plugins/filter/client_trust.py: the filters the client role calls, as the role calls them."""

import os
import subprocess

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.fleetca.ssh.plugins.filter import client_trust as filters


@pytest.fixture(scope="module")
def ca_line(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("filter-keys") / "host_ca")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path], check=True)
    with open(path + ".pub") as handle:
        return handle.read()


def role_variables(ca_line, **overrides):
    values = dict(fleetca_ssh_host_ca_public_key=ca_line, fleetca_ssh_known_hosts_path="/etc/ssh/ssh_known_hosts",
                  fleetca_ssh_known_hosts_user=None, fleetca_ssh_known_hosts_mode=None,
                  fleetca_ssh_known_hosts_patterns=["*"], fleetca_ssh_revoked_host_keys=[],
                  fleetca_ssh_client_config=True, fleetca_ssh_client_certificate_file="",
                  fleetca_ssh_client_packages=["openssh-client"])
    values.update(overrides)
    return values


def test_the_role_calls_the_filters_by_these_names():
    assert sorted(filters.FilterModule().filters()) == ["client_plan", "client_probe_command", "client_settings"]


def test_settings_probe_and_plan_chain_on_this_machine(ca_line):
    settings = filters.client_settings(role_variables(ca_line))
    done = subprocess.run(["sh", "-c", filters.client_probe_command(settings)], capture_output=True, text=True,
                          check=True, env={"PATH": os.environ["PATH"]})
    plan = filters.client_plan(done.stdout, settings, "localhost", False)
    assert plan["install"] == []  # this machine has ssh and ssh-keygen
    assert plan["known_hosts"]["block"] == "@cert-authority * " + ca_line.strip()
    snippet = plan["client_config"]["write_dropin"] or plan["client_config"]["write_block"]
    assert "\nHostKeyAlgorithms ssh-ed25519-cert-v01@openssh.com," in snippet


def test_a_bad_variable_fails_the_task_with_a_message_naming_it(ca_line):
    with pytest.raises(AnsibleFilterError) as error:
        filters.client_settings(role_variables(ca_line, fleetca_ssh_known_hosts_patterns=["bad host"]))
    assert str(error.value).startswith("fleetca_ssh_known_hosts_patterns: invalid host pattern(s) \"bad host\"")


def test_a_missing_user_fails_the_plan_naming_the_variable(ca_line):
    settings = filters.client_settings(role_variables(ca_line, fleetca_ssh_known_hosts_user="nosuchuser"))
    done = subprocess.run(["sh", "-c", filters.client_probe_command(settings)], capture_output=True, text=True,
                          check=True)
    with pytest.raises(AnsibleFilterError) as error:
        filters.client_plan(done.stdout, settings, "ws1")
    assert str(error.value) == 'fleetca_ssh_known_hosts_user: no user "nosuchuser" on ws1'


def test_settings_take_a_dictionary():
    with pytest.raises(AnsibleFilterError):
        filters.client_settings(["fleetca_ssh_host_ca_public_key"])
