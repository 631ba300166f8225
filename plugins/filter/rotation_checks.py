# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The fleetca.ssh.rotation_* check filters over module_utils/rotation_checks.py; each documented in
# its own sidecar YAML (rotation_presented_signers.yml, ...).

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.fleetca.ssh.plugins.module_utils import rotation_checks
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def _guarded(name, function):
    def run(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except FleetcaError as exc:
            raise AnsibleFilterError("%s: %s" % (name, exc))
    return run


class FilterModule(object):
    def filters(self):
        return {
            "rotation_presented_signers": _guarded("rotation_presented_signers", rotation_checks.presented_signers),
            "rotation_user_ca_trust_problem": _guarded(
                "rotation_user_ca_trust_problem",
                lambda text, host, path, expected: rotation_checks.trusted_user_ca_keys_problem(host, path, text, expected)),
            "rotation_host_cert_problem": _guarded(
                "rotation_host_cert_problem",
                lambda probe, host, signer: rotation_checks.host_certificates_problem(host, probe, signer)),
            "rotation_known_hosts_problem": _guarded(
                "rotation_known_hosts_problem",
                lambda text, host, path, trusted, revoked: rotation_checks.known_hosts_problem(
                    host, path, text, trusted, revoked)),
        }
