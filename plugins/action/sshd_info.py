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
    # Paths as "str": "path" would expand ~ and $VARS on the controller, not on the server.
    ARGUMENT_SPEC = dict(
        host_key_types=dict(type="list", elements="str", default=["ed25519", "rsa"]),
        key_dir=dict(type="str", default="/etc/ssh"),
        main_config=dict(type="str", default="/etc/ssh/sshd_config"),
        dropin=dict(type="str", default="/etc/ssh/sshd_config.d/00-fleetca.conf"),
        sshd=dict(type="str"),
        files=dict(type="list", elements="str", default=[]),
        digest_files=dict(type="list", elements="str", default=[]),
        principals_dir=dict(type="str"),
        service=dict(type="str"),
        units=dict(type="list", elements="str", default=[]),
    )
    MODULES = (sshd_config, sshd_probe)

    def payload_args(self, params):
        return dict(types=params["host_key_types"], key_dir=params["key_dir"], main=params["main_config"],
                    dropin=params["dropin"], sshd=params["sshd"], files=params["files"],
                    digest_files=params["digest_files"], principals_dir=params["principals_dir"],
                    service=params["service"], units=params["units"])
