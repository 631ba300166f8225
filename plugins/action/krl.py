# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleetca.ssh.krl: a call that names no entries and changes nothing (the CA role's "the master
KRL exists") answered in one round trip (module_utils/krl_request.py); every other call runs the
module, which writes under the KRL's lock."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.fleetca.ssh.plugins.module_utils import certs, files, keys, krl, krl_request, listing, locks, wire
from ansible_collections.fleetca.ssh.plugins.plugin_utils.remote_python import FastPathAction


class ActionModule(FastPathAction):
    ARGUMENT_SPEC = dict(krl_request.OPTIONS, **locks.ARGUMENT_SPEC)
    # Entries, the issuance log and file attributes are the module's (and a list of entries may
    # not fit in one command line).
    FAST_PATH_OPTIONS = ("path", "state", "comment", "krl_version", "lock_timeout")
    MODULES = (wire, files, keys, certs, krl, listing, krl_request)
