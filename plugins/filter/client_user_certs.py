# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The client role's people's certificates as filters (module_utils/client_user_certs.py does the work).

Documented in client_user_cert_batch.yml and client_user_cert_installs.yml beside this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.fleetca.ssh.plugins.module_utils import client_user_certs
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def client_user_cert_batch(plans, ca_host, ca_paths=None, profiles=None, users=None):
    """Every workstation's certificate requests as one fleetca.ssh.cert call on the CA host."""
    try:
        return client_user_certs.batch(list(plans), ca_host, ca_paths, profiles, users)
    except FleetcaError as exc:
        raise AnsibleFilterError(str(exc))


def client_user_cert_installs(signed, deliveries, host):
    """The certificate files `host` writes, from the batched fleetca.ssh.cert result."""
    try:
        return client_user_certs.installs(list(signed), list(deliveries), host)
    except FleetcaError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    def filters(self):
        return {
            "client_user_cert_batch": client_user_cert_batch,
            "client_user_cert_installs": client_user_cert_installs,
        }
