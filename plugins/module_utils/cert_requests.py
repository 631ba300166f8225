# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The certificates one fleetca.ssh.cert call asks for.

The top-level per-certificate options are every element of `requests` a default; an element's
own value wins. Options nobody set get their built-in value here, after the merge, so that a
built-in value never hides a top-level one. When the call has a policy (`user_cert_profiles`,
`users`, or a certificate naming a `person` or `profile`), every certificate goes through it
(profiles.py), before anything is read or signed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.fleetca.ssh.plugins.module_utils.profiles import Policy

# Each pair is one choice: an element that sets either member replaces the top-level pair
# (a top-level valid_for with an element's valid_to is the element's valid_to, not a conflict).
ONE_CHOICE = (("public_key", "public_key_path"), ("valid_to", "valid_for"))
# What an option nobody set means.
BUILT_IN = {"principals": [], "allow_any_principal": False, "critical_options": {},
            "allow_unknown_critical_options": False}


def with_defaults(defaults, element):
    """One certificate's options: `element`'s own values over `defaults`, then the built-in values."""
    merged = dict(defaults)  # a copy is sized right; growing a small dict to 20 keys over-allocates
    for name in element:
        merged.setdefault(name, None)
    for pair in ONE_CHOICE:
        if any(element.get(name) is not None for name in pair):
            for name in pair:
                merged[name] = element.get(name)
    for name, value in element.items():
        if value is not None:
            merged[name] = value
    for name, value in BUILT_IN.items():
        if merged.get(name) is None:
            merged[name] = copy.copy(value)
    return merged


def certificate_params(option_names, params):
    """(field prefix, options) of every certificate of the call, in order.

    `params` are the module's parameters; `option_names` the per-certificate ones. Without
    `requests`, the top-level options are the one certificate.
    """
    top_level = dict((name, params.get(name)) for name in option_names)
    requests = params.get("requests")
    if requests is None:
        merged = [("", with_defaults({}, top_level))]
    else:
        merged = [("requests[%d]." % index, with_defaults(top_level, element))
                  for index, element in enumerate(requests)]
    if not has_policy(params, merged):
        return merged
    policy = Policy(params.get("user_cert_profiles"), params.get("users"), "user_cert_profiles", "users")
    return [(field, policy.request_params(field, options)) for field, options in merged]


def has_policy(params, merged):
    """Whether the call asks for its certificates to go through the policy."""
    if params.get("user_cert_profiles") is not None or params.get("users") is not None:
        return True
    return any(options.get("person") is not None or options.get("profile") is not None for dummy, options in merged)
