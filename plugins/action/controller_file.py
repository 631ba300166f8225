# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleetca.ssh.controller_file: module_utils/files.py's write_if_different, in the controller's
own process (no module run, no connection)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes
from ansible.plugins.action import ActionBase

from ansible_collections.fleetca.ssh.plugins.module_utils import files
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

PUBLIC_FILE_MODE = 0o644


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False
    # dest is on the controller, so "path" (~ and $VARS expanded here) is right.
    ARGUMENT_SPEC = dict(content=dict(type="str", required=True), dest=dict(type="path", required=True))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        params = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)[1]
        try:
            result["changed"] = files.write_if_different("dest", params["dest"], to_bytes(params["content"]),
                                                         PUBLIC_FILE_MODE, self._task.check_mode)
        except FleetcaError as exc:
            raise AnsibleActionFail(str(exc))
        result["dest"] = params["dest"]
        return result
