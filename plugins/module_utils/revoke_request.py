# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The variables of playbook fleetca.ssh.revoke, checked before anything changes.

CI passes them with `-e` or a vars file, where a typo (`fleetca_ssh_revoke_keyids`) or an
empty list would otherwise revoke nothing and still report a verified rollout: every
`fleetca_ssh_revoke_*` variable must be one this playbook reads, and at least one entry must be
named.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.fleetca.ssh.plugins.module_utils.playbook_vars import reject_unknown
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

PREFIX = "fleetca_ssh_revoke_"
# What each list names, for the krl module: an option of its own, or an issuance-log selector.
ENTRY_LISTS = ("serials", "key_ids", "public_keys", "sha256_fingerprints")
SELECTOR_LISTS = {"principals": "principal", "hosts": "host"}
STATES = ("present", "absent")


def accepted_names():
    lists = ENTRY_LISTS + tuple(SELECTOR_LISTS)
    return sorted(PREFIX + name for name in lists + ("state", "prune_expired"))


def _as_list(name, value):
    if isinstance(value, (list, tuple)):
        return list(value)
    raise FleetcaError(
        "%s must be a list, not %r (with -e, give JSON: -e '{\"%s\": [...]}' or a vars file)"
        % (name, value, name))


def _as_bool(name, value):
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise FleetcaError("%s must be true or false, not %r" % (name, value))


def revoke_request(variables):
    """The krl module's arguments from the playbook's variables (a dict of every variable whose
    name starts with fleetca_ssh_revoke_): state, the entry lists, `issued` selectors and
    `prune_expired` (true unless the playbook is told otherwise)."""
    reject_unknown(variables, "revoke", accepted_names())
    state = variables.get(PREFIX + "state", "present")
    if state not in STATES:
        raise FleetcaError("%sstate must be present or absent, not %r" % (PREFIX, state))
    request = {"state": state, "issued": [], "prune_expired": _as_bool(PREFIX + "prune_expired",
                                                                       variables.get(PREFIX + "prune_expired", True))}
    for name in ENTRY_LISTS:
        request[name] = _as_list(PREFIX + name, variables.get(PREFIX + name, []))
    for name, selector in sorted(SELECTOR_LISTS.items()):
        for value in _as_list(PREFIX + name, variables.get(PREFIX + name, [])):
            request["issued"].append({selector: value})
    if not request["issued"] and not any(request[name] for name in ENTRY_LISTS):
        raise FleetcaError("nothing to %s: give at least one entry in %s"
                           % ("revoke" if state == "present" else "un-revoke",
                              ", ".join(name for name in accepted_names()
                                        if name not in (PREFIX + "state", PREFIX + "prune_expired"))))
    return request
