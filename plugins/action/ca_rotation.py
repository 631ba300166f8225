# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleetca.ssh.ca_rotation: a status read (module_utils/rotation.py, `status`) in one round trip;
every other call (a phase, missed_hosts to record) runs the module, which writes under the CA
key's lock."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.fleetca.ssh.plugins.module_utils import files, keys, locks, playbook_vars, rotation, wire
from ansible_collections.fleetca.ssh.plugins.plugin_utils.remote_python import FastPathAction


class ActionModule(FastPathAction):
    ARGUMENT_SPEC = dict(rotation.OPTIONS, **locks.ARGUMENT_SPEC)
    FAST_PATH_OPTIONS = ("path", "phase", "extra_keys")
    MODULES = (wire, files, keys, playbook_vars, rotation)

    def fast_path_params(self):
        params = super(ActionModule, self).fast_path_params()
        return params if params is not None and params["phase"] == "status" else None
