# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The action attribute of a module whose action plugin sends its code as one command
    (plugin_utils/remote_python.py: python_info, sshd_info)."""

    DOCUMENTATION = r"""
attributes:
  action:
    support: full
    description:
      - An action plugin sends the module's code as one C(python -c) command, to the Python
        Ansible runs modules with on that host, in one connection round trip.
"""
