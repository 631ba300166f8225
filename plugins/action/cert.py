# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleetca.ssh.cert: a call whose certificates go to no file (the roles' batches, fleetca.ssh.issue)
is signed on the CA host as one payload, module_utils/cert_jobs.py's `payload_main`, sent with its
arguments on stdin: one round trip, no module built and sent. Every other call runs the module,
which owns the files and their attributes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.parameters import remove_values

from ansible_collections.fleetca.ssh.plugins.module_utils import (
    cert_checks,
    cert_jobs,
    cert_requests,
    certs,
    files,
    keys,
    listing,
    profiles,
    signers,
    store,
    wire,
)
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError
from ansible_collections.fleetca.ssh.plugins.plugin_utils.remote_python import FastPathAction, stdin_is_free


class ActionModule(FastPathAction):
    ARGUMENT_SPEC = dict(cert_requests.SIGNER_SPEC, **cert_requests.CERT_SPEC)
    # File attributes (mode, owner, ...) are the module's.
    FAST_PATH_OPTIONS = tuple(ARGUMENT_SPEC)
    MUTUALLY_EXCLUSIVE = cert_requests.ONE_CHOICE
    MODULES = (wire, keys, certs, signers, files, profiles, cert_requests, listing, store, cert_jobs)
    # 5,000 requests are over a megabyte: more than one command line argument holds
    ON_STDIN = True

    def fast_path_params(self):
        """The task's options checked as the module checks them, or None (the module runs, and
        names what is wrong): for a certificate written to a file, an element's public_key_path
        (a path is expanded where it is checked: here, the controller), or a stdin that become
        may read."""
        args = dict(self._task.args)
        elements = args.pop("requests", None)
        if not stdin_is_free(self) or not isinstance(elements, (list, type(None))):
            return None
        # the elements apart: Ansible's validator deep-copies what it checks (0.4 s for 5,000)
        params = super(ActionModule, self).fast_path_params(args)
        if params is None or params["path"]:
            return None
        try:
            params = cert_checks.validated_params(dict(params, requests=elements))
        except FleetcaError:
            return None
        if any(element.get("path") or element.get("public_key_path") for element in params["requests"] or []):
            return None
        return params

    def payload_args(self, params):
        return dict(params, check_mode=bool(self._task.check_mode), diff=bool(self._task.diff))

    def run_payload(self, params, task_vars):
        answer, facts = super(ActionModule, self).run_payload(params, task_vars)
        # what AnsibleModule.exit_json does to a module's result: no_log values hidden, the
        # top-level booleans and nulls (changed, failed) kept
        secrets = [params[name] for name, spec in self.ARGUMENT_SPEC.items() if spec.get("no_log") and params[name]]
        if secrets:
            kept = dict((name, value) for name, value in answer.items() if value is None or isinstance(value, bool))
            answer = dict(remove_values(answer, secrets), **kept)
        return answer, facts
