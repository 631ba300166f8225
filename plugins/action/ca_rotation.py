# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleetca.ssh.ca_rotation: a status read (module_utils/rotation.py, `status`) in one round trip;
every other call runs the module, which writes under the CA key's lock."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.utils.vars import merge_hash

from ansible_collections.fleetca.ssh.plugins.module_utils import files, keys, playbook_vars, rotation, wire
from ansible_collections.fleetca.ssh.plugins.plugin_utils.remote_python import PayloadAction


class ActionModule(PayloadAction):
    # The options of a status read, as the module documents them; any other option (a phase,
    # missed_hosts to record) goes to the module. Paths as "str": "path" would expand ~ and $VARS
    # on the controller, not on the CA host.
    ARGUMENT_SPEC = dict(
        path=dict(type="str", required=True),
        phase=dict(type="str", choices=["status"], default="status"),
        extra_keys=dict(type="list", elements="str", default=[], no_log=False),
    )
    MODULES = (wire, files, keys, playbook_vars, rotation)

    def run(self, tmp=None, task_vars=None):
        args = self._task.args
        if set(args) <= set(self.ARGUMENT_SPEC) and args.get("phase", "status") == "status":
            return super(ActionModule, self).run(tmp, task_vars)
        result = super(PayloadAction, self).run(tmp, task_vars)
        result = merge_hash(result, self._execute_module(task_vars=task_vars))
        self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
