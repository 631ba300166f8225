# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Filters of playbook fleetca.ssh.report over module_utils/report.py: report_request,
# report_server, report_fleet and report_table, each documented in NAME.yml beside this file.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.fleetca.ssh.plugins.module_utils import report
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def _filter(name, function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except FleetcaError as exc:
        raise AnsibleFilterError("%s: %s" % (name, exc))


def report_request(variables):
    return _filter("report_request", report.report_request, dict(variables))


def report_server(probe, host, krl, expected):
    return _filter("report_server", report.server_report, probe, host, krl, expected)


def report_fleet(servers, master, expiring, unreachable, request):
    return _filter("report_fleet", report.fleet_report, servers, master, expiring, unreachable, request)


def report_table(fleet):
    return _filter("report_table", report.report_lines, fleet)


class FilterModule(object):
    def filters(self):
        return {"report_request": report_request, "report_server": report_server,
                "report_fleet": report_fleet, "report_table": report_table}
