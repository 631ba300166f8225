# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleetca.ssh.client role's decisions as filters (module_utils/client_trust.py does the work).

Documented in client_settings.yml, client_probe_command.yml and client_plan.yml beside this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.fleetca.ssh.plugins.module_utils import client_trust
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def _filter_errors(function):
    """A FleetcaError (a message naming the variable) becomes the task's failure message."""
    def wrapped(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except FleetcaError as exc:
            raise AnsibleFilterError(str(exc))
    wrapped.__name__ = function.__name__
    wrapped.__doc__ = function.__doc__
    return wrapped


@_filter_errors
def client_settings(variables):
    """The client role's variables, checked: the settings the other two filters take."""
    if not isinstance(variables, dict):
        raise FleetcaError("client_settings takes a dictionary of the role's variables")
    return client_trust.check_settings(dict(variables))


@_filter_errors
def client_probe_command(settings):
    """The shell command (for ansible.builtin.raw) that reports what client_plan needs."""
    return client_trust.probe_command(settings)


@_filter_errors
def client_plan(probe_output, settings, host, check_mode=False, installed=False):
    """What the role installs and writes on `host`, from its probe output and the settings."""
    return client_trust.plan(probe_output, settings, host, check_mode=bool(check_mode), installed=bool(installed))


class FilterModule(object):
    def filters(self):
        return {
            "client_settings": client_settings,
            "client_probe_command": client_probe_command,
            "client_plan": client_plan,
        }
