# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleetca.ssh.ca_key: an existing pair answered in one round trip (module_utils/ca_key_pair.py);
a pair to create or a .pub to rebuild runs the module, which writes under the key's lock."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.fleetca.ssh.plugins.module_utils import ca_key_pair, files, keys, locks, signers, wire
from ansible_collections.fleetca.ssh.plugins.plugin_utils.remote_python import FastPathAction


class ActionModule(FastPathAction):
    ARGUMENT_SPEC = dict(ca_key_pair.OPTIONS, **locks.ARGUMENT_SPEC)
    FAST_PATH_OPTIONS = tuple(ARGUMENT_SPEC)
    MODULES = (wire, files, keys, signers, ca_key_pair)

    def payload_args(self, params):
        # a kept pair is read from its .pub: the passphrase stays on the controller
        return dict((name, params[name]) for name in ("path", "type", "comment", "force"))
