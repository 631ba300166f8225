# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter fleetca.ssh.server_input_problems (plugins/filter/server_input_problems.py)."""

GOOD = dict(host_key_types=["ed25519"], host_key_replace=[], rsa_bits=3072, sshd_options={},
            authorized_principals={}, cert_only=False, user_ca_keys=[], ca_host="ca",
            host_ca_public_key="ssh-ed25519 AAAA host-ca", check_mode=False)


def test_documented_as_it_is_called(load_filter, signature_of):
    plugin = load_filter("server_input_problems")
    assert plugin.documented_options() == signature_of(plugin.function)


def test_names_each_problem(load_filter):
    problems = load_filter("server_input_problems").function("web1", **dict(GOOD, rsa_bits=2048, ca_host=""))
    assert len(problems) == 2
    assert "fleetca_ssh_host_key_rsa_bits at least 3072 (got 2048)" in problems[0]
    assert problems[1].startswith("No host CA")


def test_good_input(load_filter):
    assert load_filter("server_input_problems").function("web1", **GOOD) == []


def test_names_the_pull_sync_problems(load_filter):
    problems = load_filter("server_input_problems").function(
        "web1", **dict(GOOD, krl_url="file:///krl", krl_sync_interval="soon", krl_signing_public_key=""))
    assert [problem.split(" ", 1)[0] for problem in problems] == [
        "fleetca_ssh_krl_url", "fleetca_ssh_krl_sync_interval", "fleetca_ssh_krl_url"]
    assert "published no KRL signing key" in problems[2]
