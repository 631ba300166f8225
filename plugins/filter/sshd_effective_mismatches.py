# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over module_utils/sshd_config.py: the controller uses the same sshd_config rules as
the modules and the probe on the servers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.fleetca.ssh.plugins.module_utils.sshd_config import SshdConfigError, effective_mismatches


def sshd_effective_mismatches(effective, expected):
    """See plugins/filter/sshd_effective_mismatches.yml."""
    try:
        return effective_mismatches(effective or [], expected)
    except SshdConfigError as exc:
        raise AnsibleFilterError("sshd_effective_mismatches: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"sshd_effective_mismatches": sshd_effective_mismatches}
