# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Filter fleetca.ssh.server_ca_facts over module_utils/server_plan.py; documented in server_ca_facts.yml.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.fleetca.ssh.plugins.module_utils.server_plan import ca_facts


class FilterModule(object):
    def filters(self):
        return {"server_ca_facts": ca_facts}
