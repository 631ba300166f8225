# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The lock of a module that reads, changes and replaces a file others may change at once."""

    DOCUMENTATION = r"""
options:
  lock_timeout:
    description:
      - How long to wait, in seconds, for the exclusive lock C(PATH.lock) that this module holds
        from reading the file to replacing it, so that concurrent runs on the same file (two CI
        pipelines, many forks) all land and none is lost. Then the task fails naming the holder.
      - A run that has waited 5 seconds says so in the host's system log, and its result carries a
        warning with the time it waited.
      - The lock is released by the kernel when its holder exits, even when it is killed. The lock
        file stays beside the file (mode 0600); removing it while a run holds it breaks the lock.
      - Only a run that writes takes the lock; check mode, bad input and a run that changes nothing
        take none (and create no lock file).
    type: int
    default: 120
notes:
  - The lock is an C(flock) on a file beside the target. It serializes runs on the same host; on
    file systems that do not support C(flock) (some network file systems) it does not hold.
"""
