# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/cert_requests.py: the top-level options are every request's default, an entry's own value wins."""

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils.cert_requests import certificate_params
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

NAMES = ("type", "public_key", "public_key_path", "principals", "valid_to", "valid_for", "allow_any_principal",
         "critical_options", "allow_unknown_critical_options", "requester")


def params(requests=None, **top_level):
    """The module's parameters as AnsibleModule leaves them: every option present, None when not given."""
    given = dict((name, None) for name in NAMES)
    given.update(top_level)
    given["requests"] = None if requests is None else [dict(dict((n, None) for n in NAMES), **r) for r in requests]
    return given


def test_without_requests_the_top_level_is_the_one_certificate():
    [(field, cert)] = certificate_params(NAMES, params(type="user", public_key="K", valid_for="+1h"))
    assert field == ""
    assert (cert["type"], cert["public_key"], cert["valid_for"]) == ("user", "K", "+1h")


def test_top_level_options_are_every_entrys_default():
    got = certificate_params(NAMES, params([{"public_key": "A"}, {"public_key": "B", "requester": "b"}],
                                           type="host", valid_for="+52w", requester="ci"))
    assert [field for field, dummy in got] == ["requests[0].", "requests[1]."]
    assert [(c["type"], c["public_key"], c["valid_for"], c["requester"]) for dummy, c in got] == [
        ("host", "A", "+52w", "ci"), ("host", "B", "+52w", "b")]


def test_an_entrys_own_value_wins_even_when_empty_or_false():
    [(dummy, cert)] = certificate_params(NAMES, params([{"principals": [], "allow_any_principal": False}],
                                                       principals=["web1"], allow_any_principal=True))
    assert cert["principals"] == [] and cert["allow_any_principal"] is False


def test_an_entry_choosing_one_of_a_pair_replaces_the_top_level_pair():
    [(dummy, by_path), (dummy, by_end)] = certificate_params(NAMES, params(
        [{"public_key_path": "/k.pub"}, {"valid_to": "20300101"}], public_key="K", valid_for="+52w"))
    assert (by_path["public_key"], by_path["public_key_path"], by_path["valid_for"]) == (None, "/k.pub", "+52w")
    assert (by_end["public_key"], by_end["valid_to"], by_end["valid_for"]) == ("K", "20300101", None)


def test_options_nobody_set_get_their_built_in_value_each_its_own():
    got = certificate_params(NAMES, params([{}, {}]))
    first, second = got[0][1], got[1][1]
    assert (first["principals"], first["critical_options"], first["allow_any_principal"],
            first["allow_unknown_critical_options"]) == ([], {}, False, False)
    first["principals"].append("x")
    assert second["principals"] == []


def test_every_option_is_there_given_or_not():
    [(dummy, single)] = certificate_params(NAMES, params(type="user"))
    [(dummy, entry)] = certificate_params(NAMES, params([{}]))
    assert set(single) == set(entry) == set(NAMES)
    assert single["valid_to"] is None and entry["type"] is None


POLICY_NAMES = NAMES + ("person", "profile", "key_id", "valid_from", "serial", "extensions")


def policy_params(requests=None, **top_level):
    given = dict((name, None) for name in POLICY_NAMES + ("user_cert_profiles", "users"))
    given.update(top_level)
    given["requests"] = None if requests is None else [
        dict(dict((n, None) for n in POLICY_NAMES), **r) for r in requests]
    return given


def test_a_person_in_any_request_puts_the_whole_call_under_the_policy():
    with pytest.raises(FleetcaError) as error:
        certificate_params(POLICY_NAMES, policy_params([{"public_key": "A", "type": "host", "valid_for": "+52w"},
                                                        {"public_key": "B", "person": "alice"}]))
    assert str(error.value).startswith("requests[0].person is required"), str(error.value)


def test_a_profile_or_a_policy_option_alone_puts_the_call_under_the_policy():
    for given in ({"profile": "default"}, {"users": {}}, {"user_cert_profiles": {}}):
        with pytest.raises(FleetcaError) as error:
            certificate_params(POLICY_NAMES, policy_params(public_key="K", **given))
        assert str(error.value).startswith("person is required"), (given, str(error.value))


def test_top_level_policy_and_profile_with_one_person_per_request():
    profiles = {"ops": {"principals": ["{user}", "ops"], "valid_for": "+8h", "max_valid_for": "+12h"}}
    got = certificate_params(POLICY_NAMES, policy_params(
        [{"person": "alice", "public_key": "A"}, {"person": "bob", "public_key": "B", "valid_for": "+1h"}],
        user_cert_profiles=profiles, users={"alice": {"profiles": ["ops"]}, "bob": {"profiles": ["ops"]}},
        profile="ops"))
    assert [(c["principals"], c["requester"], c["valid_for"]) for dummy, c in got] == [
        (["alice", "ops"], "alice", "+28800s"), (["bob", "ops"], "bob", "+3600s")]


def test_without_a_policy_nothing_is_rewritten():
    [(dummy, cert)] = certificate_params(POLICY_NAMES, policy_params(type="user", principals=["root"], key_id="x"))
    assert (cert["principals"], cert["key_id"], cert["person"]) == (["root"], "x", None)
