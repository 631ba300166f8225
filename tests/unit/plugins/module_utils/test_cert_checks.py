# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/cert_checks.py: each element of `requests` checked with Ansible's types, naming its element."""

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils.cert_checks import validate_request, validated_params
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def test_each_request_is_checked_with_ansibles_types_and_names_its_element():
    assert validate_request("requests[0].", {"type": "host", "serial": "7", "principals": ["a"], "path": None}) == {
        "type": "host", "serial": 7, "principals": ["a"]}
    for element, message in [
        ({"typo": 1}, r"^requests\[3\] unsupported options: typo \(supported: "),
        ({"type": "both"}, r"^requests\[3\]\.type must be one of host, user$"),
        ({"serial": "seven"}, r"^requests\[3\]\.serial: "),
        ("a string", r"^requests\[3\] must be a dictionary$"),
    ]:
        with pytest.raises(FleetcaError, match=message):
            validate_request("requests[3].", element)


def test_a_call_without_requests_is_left_as_it_is_and_each_element_is_checked_in_order():
    params = {"requests": None, "type": "user"}
    assert validated_params(params) is params
    with pytest.raises(FleetcaError, match=r"^requests\[1\]\.principals: "):
        validated_params({"requests": [{"principals": ["a"]}, {"principals": {"x": 1}}]})
