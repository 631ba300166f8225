# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The variables a playbook of the collection reads, checked by one rule.

Each playbook (fleetca.ssh.issue, report, revoke, rotate) reads the variables whose names start
with its prefix (`fleetca_ssh_revoke_`, ...), passed with `-e`, a vars file or an AWX survey. A
misspelled one would otherwise be ignored and the run report success: every such variable must
be one the playbook reads.

Standard library only (the filters import it on the controller).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def reject_unknown(variables, playbook, accepted):
    """Fail, naming them and the names `playbook` (e.g. `revoke`) reads, when `variables` (name ->
    value) holds a name outside `accepted`."""
    accepted = sorted(accepted)
    unknown = sorted(set(variables) - set(accepted))
    if unknown:
        raise FleetcaError("unknown variable%s %s: fleetca.ssh.%s reads only %s"
                           % ("s" if len(unknown) > 1 else "", ", ".join(unknown), playbook, ", ".join(accepted)))
