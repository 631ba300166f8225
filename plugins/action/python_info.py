# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleetca.ssh.python_info: module_utils/python_info.py run in one round trip."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.fleetca.ssh.plugins.module_utils import python_info
from ansible_collections.fleetca.ssh.plugins.plugin_utils.remote_python import PayloadAction


class ActionModule(PayloadAction):
    ARGUMENT_SPEC = dict(libraries=dict(type="list", elements="str", default=["cryptography", "bcrypt"]))
    MODULES = (python_info,)
