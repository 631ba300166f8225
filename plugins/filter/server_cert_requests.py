# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Filter fleetca.ssh.server_cert_requests over module_utils/server_plan.py; documented in server_cert_requests.yml.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.fleetca.ssh.plugins.module_utils.server_plan import host_cert_requests


def server_cert_requests(probe, host, types, valid_for, renew_before, principals_extra=()):
    return host_cert_requests(probe, host, types, principals_extra, valid_for, renew_before)


class FilterModule(object):
    def filters(self):
        return {"server_cert_requests": server_cert_requests}
