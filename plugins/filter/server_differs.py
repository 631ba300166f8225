# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Filter fleetca.ssh.server_differs over module_utils/server_plan.py; documented in server_differs.yml.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.fleetca.ssh.plugins.module_utils.server_plan import server_differs as differs
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def server_differs(probe, **wanted):
    try:
        return differs(probe, **wanted)
    except FleetcaError as exc:
        raise AnsibleFilterError("server_differs: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"server_differs": server_differs}
