# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Filter fleetca.ssh.server_host_keys over module_utils/server_plan.py; documented in server_host_keys.yml.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.fleetca.ssh.plugins.module_utils.server_plan import host_key_plan


def server_host_keys(probe, types, replace, rotate):
    return host_key_plan(probe, types, replace, rotate)


class FilterModule(object):
    def filters(self):
        return {"server_host_keys": server_host_keys}
