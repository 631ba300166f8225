# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleetca.ssh.krl_info: module_utils/krl_info.py run on the host in one round trip."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.fleetca.ssh.plugins.module_utils import certs, files, keys, krl, krl_info, wire
from ansible_collections.fleetca.ssh.plugins.plugin_utils.remote_python import PayloadAction


class ActionModule(PayloadAction):
    ARGUMENT_SPEC = dict(
        path=dict(type="path", required=True),
        keys=dict(type="list", elements="str", default=[], no_log=False),
        entries=dict(type="bool", default=True),
        content=dict(type="bool", default=False),
    )
    MODULES = (wire, files, keys, certs, krl, krl_info)
