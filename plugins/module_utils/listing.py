# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a module's result shows a long list: the first LISTED_ENTRIES items and a count of the
rest. A batch of thousands would otherwise fill the result, and every log that keeps it (-vvv,
AWX job events, ARA), with entries nobody reads, and cost the task the time Ansible takes to
scrub, serialize and carry them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

LISTED_ENTRIES = 100


def listed(entries):
    if len(entries) <= LISTED_ENTRIES:
        return entries
    return list(entries[:LISTED_ENTRIES]) + ["... and %d more" % (len(entries) - LISTED_ENTRIES)]
