# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleetca.ssh.krl_publish: a publication that is current answered in one round trip
(module_utils/krl_publication.py); a KRL to sign or copies to write run the module, which writes
under the KRL's lock."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.fleetca.ssh.plugins.module_utils import files, keys, krl, krl_publication, locks, signers
from ansible_collections.fleetca.ssh.plugins.module_utils import sshsig, wire
from ansible_collections.fleetca.ssh.plugins.plugin_utils.remote_python import FastPathAction


class ActionModule(FastPathAction):
    ARGUMENT_SPEC = dict(krl_publication.OPTIONS, **locks.ARGUMENT_SPEC)
    # An encrypted signing key is the module's: its passphrase never goes on a command line.
    FAST_PATH_OPTIONS = ("path", "signing_key", "publish_dir", "lock_timeout")
    MODULES = (wire, files, keys, signers, sshsig, krl, krl_publication)
