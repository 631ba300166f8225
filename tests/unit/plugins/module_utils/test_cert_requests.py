# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/cert_requests.py: the top-level options are every request's default, an entry's own value wins."""

from ansible_collections.fleetca.ssh.plugins.module_utils.cert_requests import certificate_params

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
