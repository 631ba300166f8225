# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleetca.ssh.sshd_info: module_utils/sshd_probe.py run on the server in one round trip."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.fleetca.ssh.plugins.module_utils import sshd_config, sshd_probe
from ansible_collections.fleetca.ssh.plugins.plugin_utils.remote_python import PayloadAction


class ActionModule(PayloadAction):
    ARGUMENT_SPEC = dict(
        host_key_types=dict(type="list", elements="str", default=["ed25519", "rsa"]),
        key_dir=dict(type="path", default="/etc/ssh"),
        main_config=dict(type="path", default="/etc/ssh/sshd_config"),
        dropin=dict(type="path", default="/etc/ssh/sshd_config.d/00-fleetca.conf"),
        sshd=dict(type="path"),
        files=dict(type="list", elements="path", default=[]),
        digest_files=dict(type="list", elements="path", default=[]),
        principals_dir=dict(type="path"),
        service=dict(type="str"),
        units=dict(type="list", elements="str", default=[]),
    )
    MODULES = (sshd_config, sshd_probe)
