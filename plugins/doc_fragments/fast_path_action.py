# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The action attribute of a module whose action plugin answers an unchanged call in one
    round trip (plugin_utils/remote_python.py, FastPathAction: ca_key, krl, krl_publish)."""

    DOCUMENTATION = r"""
attributes:
  action:
    support: full
    description:
      - An action plugin first asks the host, in one C(python -c) command to the Python Ansible
        runs modules with there, whether the call would change anything, with the module's own
        code; when it would not, that answer is the result (one connection round trip instead
        of a module call's five or six without pipelining). Otherwise the module runs as usual.
"""
