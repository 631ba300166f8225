# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The variables of playbook fleetca.ssh.issue, checked before anything is signed.

An operator or an AWX survey passes them; a typo (`fleetca_ssh_issue_users`) or a missing key
must fail naming the variables, never sign something else. What the policy allows (person,
profile, validity) is decided by the cert module on the CA host (profiles.py), not here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.fleetca.ssh.plugins.module_utils.playbook_vars import reject_unknown
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

PREFIX = "fleetca_ssh_issue_"
NAMES = ("user", "profile", "public_key", "public_key_file", "valid_for", "dest")


def accepted_names():
    return sorted(PREFIX + name for name in NAMES)


def _text(variables, name):
    value = variables.get(PREFIX + name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise FleetcaError("%s%s must be a string, not %r" % (PREFIX, name, value))
    return value.strip()


def issue_request(variables, cwd=None):
    """{user, profile, public_key, public_key_file, valid_for, dest} from every variable whose
    name starts with fleetca_ssh_issue_. `dest` defaults to USER-cert.pub in `cwd` (the
    directory ansible-playbook was started from)."""
    reject_unknown(variables, "issue", accepted_names())
    request = dict((name, _text(variables, name)) for name in NAMES)
    if not request["user"]:
        raise FleetcaError("%suser is required: the person the certificate is for" % PREFIX)
    if "/" in request["user"] or request["user"].startswith("."):
        raise FleetcaError("%suser: %r cannot name a file (no '/', no leading '.')" % (PREFIX, request["user"]))
    if bool(request["public_key"]) == bool(request["public_key_file"]):
        raise FleetcaError("give exactly one of %spublic_key (a key line) and %spublic_key_file (a file on "
                           "the controller)" % (PREFIX, PREFIX))
    request["profile"] = request["profile"] or "default"
    base = cwd if cwd is not None else os.getcwd()
    request["dest"] = os.path.join(base, request["dest"] or "%s-cert.pub" % request["user"])
    if request["public_key_file"]:
        request["public_key_file"] = os.path.join(base, os.path.expanduser(request["public_key_file"]))
    return request
