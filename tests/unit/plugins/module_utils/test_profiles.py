# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/profiles.py: the policy between a person's request and the user CA."""

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils.certs import DEFAULT_USER_EXTENSIONS
from ansible_collections.fleetca.ssh.plugins.module_utils.profiles import Policy
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

PROFILES = {
    "ops": {"principals": ["{user}", "ops"], "valid_for": "+8h", "max_valid_for": "+12h",
            "extensions": ["permit-pty"], "source_address": ["192.0.2.0/24", "2001:db8::1"]},
    "backup": {"principals": ["backup"], "valid_for": "+1h", "max_valid_for": "+1h",
               "force_command": "/usr/local/bin/backup --serve", "key_id": "backup:{user}"},
}
USERS = {"alice": {"profiles": ["default", "ops"]}, "bob": {"profiles": ["backup"]}}


def test_the_built_in_default_profile_for_anyone_when_nobody_is_listed():
    granted = Policy().certificate("carol")
    assert granted == {"type": "user", "principals": ["carol"], "key_id": "carol@default", "valid_for": "+57600s",
                       "critical_options": {}, "extensions": DEFAULT_USER_EXTENSIONS, "requester": "carol"}


def test_a_profile_expands_user_and_sets_every_option():
    granted = Policy(PROFILES, USERS).certificate("alice", "ops")
    assert granted["principals"] == ["alice", "ops"] and granted["key_id"] == "alice@ops"
    assert granted["valid_for"] == "+28800s" and granted["extensions"] == {"permit-pty": ""}
    assert granted["critical_options"] == {"source-address": "192.0.2.0/24,2001:db8::1/128"}
    backup = Policy(PROFILES, USERS).certificate("bob", "backup")
    assert backup["critical_options"] == {"force-command": "/usr/local/bin/backup --serve"}
    assert backup["key_id"] == "backup:bob" and backup["principals"] == ["backup"]


def test_a_request_may_narrow_the_profile():
    granted = Policy(PROFILES, USERS).certificate("alice", "ops", valid_for="+12h", principals=["ops"])
    assert granted["valid_for"] == "+43200s" and granted["principals"] == ["ops"]


def test_a_user_defined_default_replaces_the_built_in_one():
    policy = Policy({"default": {"principals": ["{user}", "staff"], "valid_for": "+2h", "max_valid_for": "+4h"}})
    assert policy.certificate("dave")["principals"] == ["dave", "staff"]
    assert sorted(policy.profiles) == ["default"]


ISSUE_FIELDS = {"user": "fleetca_ssh_issue_user", "profile": "fleetca_ssh_issue_profile",
                "valid_for": "fleetca_ssh_issue_valid_for", "principals": "principals"}


@pytest.mark.parametrize("person, profile, extra, message", [
    ("mallory", "default", {}, "fleetca_ssh_issue_user: mallory is not in fleetca_ssh_users, so gets no certificate "
                               "(listed: alice, bob)"),
    ("bob", "ops", {}, "fleetca_ssh_issue_profile: bob may not use profile ops (allowed: backup)"),
    ("alice", "root", {}, "fleetca_ssh_issue_profile: no profile 'root' (defined: backup, default, ops)"),
    ("alice", "ops", {"valid_for": "+13h"}, "fleetca_ssh_issue_valid_for: +13h is above profile ops's max_valid_for"),
    ("alice", "default", {"valid_for": "+10y"}, "fleetca_ssh_issue_valid_for: '+10y' is not a duration"),
    ("alice", "ops", {"principals": ["root"]}, "principals: root outside profile ops (allowed: alice, ops)"),
    ("a,b", "default", {}, "fleetca_ssh_issue_user: 'a,b' is not a person's name"),
])
def test_a_request_outside_the_policy_names_what_it_broke(person, profile, extra, message):
    with pytest.raises(FleetcaError) as error:
        Policy(PROFILES, USERS).certificate(person, profile, fields=ISSUE_FIELDS, **extra)
    assert str(error.value).startswith(message), str(error.value)


@pytest.mark.parametrize("profiles, users, message", [
    ({"ops": {"source_address": ["10.0.0.1/8"]}}, None,
     "fleetca_ssh_user_cert_profiles.ops.source_address: '10.0.0.1/8' is not an IPv4 or IPv6 address or CIDR"),
    ({"ops": {"source_address": ["nowhere"]}}, None, "fleetca_ssh_user_cert_profiles.ops.source_address: 'nowhere'"),
    ({"ops": {"extensions": ["permit-everything"]}}, None,
     "fleetca_ssh_user_cert_profiles.ops.extensions: unknown extension permit-everything (OpenSSH knows "),
    ({"ops": {"valid_for": "+2d", "max_valid_for": "+1d"}}, None,
     "fleetca_ssh_user_cert_profiles.ops.valid_for (+2d) must be more than 0 and at most max_valid_for (+1d)"),
    ({"ops": {"principal": ["x"]}}, None, "fleetca_ssh_user_cert_profiles.ops: unknown key principal"),
    ({"ops": {"principals": []}}, None, "fleetca_ssh_user_cert_profiles.ops.principals must name at least one"),
    ({"ops": {"key_id": "{user}-{host}"}}, None, "fleetca_ssh_user_cert_profiles.ops.key_id: '{user}-{host}' must be"),
    ({"ops": {"force_command": ""}}, None, "fleetca_ssh_user_cert_profiles.ops.force_command must be a command line"),
    ({}, {"alice": {"profiles": ["ops"]}}, "fleetca_ssh_users.alice.profiles: no profile ops (defined: default)"),
    ({}, {"alice": ["default"]}, "fleetca_ssh_users.alice.profiles must be a list of strings"),
])
def test_a_bad_policy_names_the_variable(profiles, users, message):
    with pytest.raises(FleetcaError) as error:
        Policy(profiles, users)
    assert str(error.value).startswith(message), str(error.value)


def cert_options(**given):
    """One certificate's fleetca.ssh.cert options as cert_requests merges them (built-in values set)."""
    options = dict((name, None) for name in ("type", "public_key", "principals", "key_id", "valid_from", "valid_to",
                                             "valid_for", "serial", "critical_options", "extensions", "requester",
                                             "allow_any_principal", "allow_unknown_critical_options", "person",
                                             "profile", "path"))
    options.update(principals=[], critical_options={}, allow_any_principal=False, allow_unknown_critical_options=False)
    options.update(given)
    return options


def test_request_params_are_what_the_profile_grants_the_person():
    granted = Policy(PROFILES, USERS).request_params("requests[2].", cert_options(
        person="bob", profile="backup", public_key="K", path="/p", valid_for="+30m"))
    assert (granted["type"], granted["principals"], granted["key_id"], granted["requester"]) == (
        "user", ["backup"], "backup:bob", "bob")
    assert granted["valid_for"] == "+1800s"
    assert granted["critical_options"] == {"force-command": "/usr/local/bin/backup --serve"}
    assert (granted["public_key"], granted["path"]) == ("K", "/p")  # what the policy does not decide is kept


def test_request_params_default_to_the_default_profile():
    granted = Policy().request_params("", cert_options(person="carol", type="user", requester="carol"))
    assert (granted["principals"], granted["key_id"], granted["valid_for"]) == (["carol"], "carol@default", "+57600s")


@pytest.mark.parametrize("given, message", [
    ({}, "requests[1].person is required: the policy (user_cert_profiles, users) applies to every certificate"),
    ({"person": "alice", "key_id": "root"}, "requests[1].key_id: a person's certificate takes it from the profile"),
    ({"person": "alice", "extensions": {"permit-pty": ""}}, "requests[1].extensions: a person's certificate takes it"),
    ({"person": "alice", "critical_options": {"force-command": "/bin/sh"}}, "requests[1].critical_options: "),
    ({"person": "alice", "valid_to": "forever"}, "requests[1].valid_to: a person's certificate takes it"),
    ({"person": "alice", "serial": 7}, "requests[1].serial: "),
    ({"person": "alice", "allow_any_principal": True}, "requests[1].allow_any_principal: "),
    ({"person": "alice", "type": "host"}, "requests[1].type: a person's certificate is a user certificate, not host"),
    ({"person": "alice", "requester": "bob"}, "requests[1].requester: a person's certificate is recorded with the "
                                              "person (alice) as requester"),
    ({"person": "mallory"}, "requests[1].person: mallory is not in fleetca_ssh_users"),
    ({"person": "bob", "profile": "ops"}, "requests[1].profile: bob may not use profile ops (allowed: backup)"),
    ({"person": "alice", "profile": "ops", "valid_for": "+13h"}, "requests[1].valid_for: +13h is above profile ops's"),
    ({"person": "alice", "profile": "ops", "principals": ["root"]}, "requests[1].principals: root outside profile ops"),
])
def test_request_params_outside_the_policy_name_the_option(given, message):
    with pytest.raises(FleetcaError) as error:
        Policy(PROFILES, USERS).request_params("requests[1].", cert_options(**given))
    assert str(error.value).startswith(message), str(error.value)


def test_the_inputs_are_named_as_the_caller_names_them():
    with pytest.raises(FleetcaError) as error:
        Policy({"ops": {"extensions": ["permit-all"]}}, None, "user_cert_profiles", "users")
    assert str(error.value).startswith("user_cert_profiles.ops.extensions: unknown extension permit-all")
    with pytest.raises(FleetcaError) as error:
        Policy(None, {"alice": {"profiles": ["default"]}}, "user_cert_profiles", "users").certificate("bob")
    assert "bob is not in users, so gets no certificate" in str(error.value)
