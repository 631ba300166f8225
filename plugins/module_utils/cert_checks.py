# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each element of a fleetca.ssh.cert call's `requests` checked against CERT_SPEC with Ansible's own
type checks: in the module, and on the controller before a payload signs (cert_jobs.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.validation import (
    check_type_bool,
    check_type_dict,
    check_type_int,
    check_type_list,
    check_type_path,
    check_type_str,
)

from ansible_collections.fleetca.ssh.plugins.module_utils.cert_requests import CERT_SPEC
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

TYPE_CHECKERS = dict(str=check_type_str, path=check_type_path, list=check_type_list,
                     dict=check_type_dict, bool=check_type_bool, int=check_type_int)
# Values already of these types need no conversion (the common case in a large batch).
NATIVE_TYPES = dict(str=str, list=list, dict=dict, bool=bool, int=int)


def validate_request(field, element):
    """One element of `requests` against CERT_SPEC, with Ansible's own type checks; only the
    options it sets (the merge with the top level fills in the others).

    A fifth of what AnsibleModule's sub-option validation costs (0.04 s against 0.2 s for
    5,000 requests), which would be the largest part of the module's own time in a batch.
    """
    if not isinstance(element, dict):
        raise FleetcaError("%s must be a dictionary" % field.rstrip("."))
    unknown = sorted(set(element) - set(CERT_SPEC))
    if unknown:
        raise FleetcaError("%s unsupported options: %s (supported: %s)"
                           % (field.rstrip("."), ", ".join(unknown), ", ".join(sorted(CERT_SPEC))))
    params = {}
    for name, spec in CERT_SPEC.items():  # in the spec's order, so the first bad option is always the same
        value = element.get(name)
        if value is None:
            continue
        try:
            if type(value) is not NATIVE_TYPES.get(spec["type"]):  # pylint: disable=unidiomatic-typecheck
                value = TYPE_CHECKERS[spec["type"]](value)
            if spec.get("elements") == "str" and not all(isinstance(item, str) for item in value):
                value = [check_type_str(item) for item in value]
        except (TypeError, ValueError) as exc:
            raise FleetcaError("%s%s: %s" % (field, name, exc))
        if "choices" in spec and value not in spec["choices"]:
            raise FleetcaError("%s%s must be one of %s" % (field, name, ", ".join(spec["choices"])))
        params[name] = value
    return params


def validated_params(params):
    """The module's parameters with every element of `requests` checked."""
    if params["requests"] is None:
        return params
    return dict(params, requests=[validate_request("requests[%d]." % index, element)
                                  for index, element in enumerate(params["requests"])])
