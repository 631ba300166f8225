# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What one fleetca.ssh.cert call does with its certificates (cert_requests.py gives their options):
each one's job (the request, its file, the certificate there now, why it must be signed), the
signing of the pending ones in the issuance log, and their result and diff. Writing the files is
the module's (it owns their attributes).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

from ansible_collections.fleetca.ssh.plugins.module_utils import cert_requests, certs, files, keys, signers
from ansible_collections.fleetca.ssh.plugins.module_utils.cert_requests import CERT_SPEC
from ansible_collections.fleetca.ssh.plugins.module_utils.listing import listed
from ansible_collections.fleetca.ssh.plugins.module_utils.store import IssuanceLog
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


class Validity:
    """The validity windows of one call at `now`, each computed once per distinct
    (valid_from, valid_to, valid_for), and renew windows once per distinct renew_before:
    a batch's requests mostly share theirs."""

    def __init__(self, now):
        self.now = now
        self._windows, self._bounds, self._renew = {}, {}, {}

    def renew_before(self, field, value):
        if value not in self._renew:
            self._renew[value] = certs.parse_duration(field + "renew_before", value)
        return self._renew[value]

    def window(self, field, params):
        bounds = (params["valid_from"], params["valid_to"], params["valid_for"])
        if bounds not in self._windows:
            try:
                self._windows[bounds] = certs.validity_window(*(bounds + (self.now,)))
            except FleetcaError as exc:  # names the option, not yet which request
                raise FleetcaError(field + str(exc))
        return self._windows[bounds]

    def fixed_bounds(self, params):
        bounds = (params["valid_from"], params["valid_to"], params["valid_for"])
        if bounds not in self._bounds:
            self._bounds[bounds] = certs.fixed_bounds(*(bounds + (self.now,)))
        return self._bounds[bounds]


class Job:
    """One certificate to ensure: the request, where it lives, and what is there now."""

    def __init__(self, field, params, validity):
        self.field = field
        self.params = params
        self.path = params["path"]
        self.requester = params["requester"]
        self.renew_before = None
        if params["renew_before"] is not None:
            self.renew_before = validity.renew_before(field, params["renew_before"])
        if self.path:
            files.check_writable_path(field + "path", self.path)
        self.request = self._build_request(params, validity)
        self.existing = self._read_existing()
        self.bounds = (None, None)
        if self.existing is not None:  # only compared against an existing certificate
            self.bounds = validity.fixed_bounds(params)
        self.comment = params["comment"] if params["comment"] is not None else self.request.public_key.comment
        self.reason = None
        self.certificate = None

    def _build_request(self, params, validity):
        field = self.field
        if not params["type"]:
            raise FleetcaError("%stype is required (host or user)" % field)
        public_key = self._read_public_key(params)
        cert_type = certs.CERT_TYPES[params["type"]]
        extensions = params["extensions"]
        if extensions is None:
            extensions = certs.DEFAULT_USER_EXTENSIONS if cert_type == certs.USER_CERT else {}
        valid_after, valid_before = validity.window(field, params)
        principals = params["principals"]
        key_id = params["key_id"]
        if key_id is None:
            key_id = principals[0] if principals else public_key.fingerprint
        try:
            return certs.CertRequest(
                cert_type, public_key, principals, key_id, valid_after, valid_before,
                serial=params["serial"], critical_options=_stringify(params["critical_options"]),
                extensions=_stringify(extensions), allow_any_principal=params["allow_any_principal"],
                allow_unknown_critical_options=params["allow_unknown_critical_options"])
        except FleetcaError as exc:
            raise FleetcaError(field + str(exc))

    def _read_public_key(self, params):
        field = self.field
        if bool(params["public_key"]) == bool(params["public_key_path"]):
            raise FleetcaError("%sexactly one of public_key or public_key_path is required" % field)
        text = params["public_key"]
        if params["public_key_path"]:
            content = files.read_if_exists(params["public_key_path"])
            if content is None:
                raise FleetcaError("%spublic_key_path: %s does not exist" % (field, params["public_key_path"]))
            text = content.decode("utf-8", "replace")
        return keys.parse_public_key(field + ("public_key_path" if params["public_key_path"] else "public_key"), text)

    def _read_existing(self):
        text = self.params["current_certificate"]
        if self.path:
            content = files.read_if_exists(self.path)
            text = content.decode("utf-8", "replace") if content is not None else None
        if not text or not text.strip():
            return None
        try:
            return certs.parse_certificate("current_certificate", text)
        except FleetcaError:
            return None  # unreadable: replaced by a fresh certificate

    def result(self, changed):
        cert = self.certificate or (None if changed else self.existing)
        entry = dict(changed=changed, valid_after=self.request.valid_after, valid_before=self.request.valid_before)
        if self.path:
            entry["path"] = self.path
        if self.requester:
            entry["requester"] = self.requester
        if self.reason:
            entry["reason"] = self.reason
        if cert is not None:
            entry.update(certificate=cert.to_line(self.comment), serial=cert.serial,
                         valid_after=cert.valid_after, valid_before=cert.valid_before)
        return entry


def _stringify(options):
    return dict((str(k), "" if v is None else str(v)) for k, v in (options or {}).items())


def default_store(params):
    if params["store"]:
        return params["store"]
    anchor = params["ca_key"]
    if not anchor and params["ca_public_key"] and os.path.exists(params["ca_public_key"].strip()):
        anchor = params["ca_public_key"].strip()
    if not anchor:
        raise FleetcaError("store is required when the CA key is in ssh-agent and given as a key line")
    return os.path.join(os.path.dirname(os.path.abspath(anchor)), "issued.db")


def ca_public_key(params):
    """The CA public key for idempotency checks, without decrypting the private key."""
    if params["ca_public_key"]:
        return keys.load_public_key_option("ca_public_key", params["ca_public_key"])
    if params["ca_key"] and os.path.exists(params["ca_key"] + ".pub"):
        return keys.load_public_key_option("ca_key", params["ca_key"] + ".pub")
    return None


def make_signer(params):
    return signers.make_signer(params["ca_key"], params["ca_key_passphrase"], params["ca_public_key"],
                               params["use_agent"], params["rsa_algorithm"], params["agent_socket"])


def jobs_of(params, now):
    """The job of every certificate of the call (`params`: the module's parameters, each element
    of `requests` checked by cert_checks.validated_params)."""
    validity = Validity(now)
    return [Job(field, job_params, validity) for field, job_params
            in cert_requests.certificate_params(CERT_SPEC, params)]


def pending_jobs(jobs, expected_ca, now):
    """Set each job's renewal reason against the CA key `expected_ca`: the jobs to sign."""
    for job in jobs:
        job.reason = certs.renewal_reason(job.existing, job.request, expected_ca, now, job.renew_before, job.bounds)
    return [job for job in jobs if job.reason]


def sign_jobs(signer, expected_ca, jobs, store_path):
    """Sign every job in the issuance log: allocated serials in one transaction."""
    if signer.public_key != expected_ca:
        raise FleetcaError("ca_public_key (or CA_KEY.pub) does not match the CA private key")
    log = IssuanceLog(store_path)
    try:
        fixed = [job for job in jobs if job.request.serial is not None]
        allocated = [job for job in jobs if job.request.serial is None]

        def sign(batch, serials):
            for job, serial in zip(batch, serials):
                job.certificate = certs.sign_certificate(job.request, serial, signer, job.comment)
            return [(job.certificate, job.requester) for job in batch]

        if allocated:
            log.issue(lambda serials: sign(allocated, serials), len(allocated))
        if fixed:
            log.record(sign(fixed, [job.request.serial for job in fixed]))
    finally:
        log.close()


def certify(params, now, check_mode, write_certificates):
    """The call's jobs, and those it signs (all but check mode), written by
    `write_certificates(pending)`: the module's flow, and its payload's."""
    signer = None
    try:
        with certs.batch_without_cycle_collection():
            jobs = jobs_of(params, now)
            expected_ca = ca_public_key(params)
            if expected_ca is None:  # no .pub to compare with: the signer tells
                signer = make_signer(params)
                expected_ca = signer.public_key
            pending = pending_jobs(jobs, expected_ca, now)
            if pending and not check_mode:
                signer = signer or make_signer(params)
                sign_jobs(signer, expected_ca, pending, default_store(params))
                write_certificates(pending)
    finally:
        if signer is not None:
            signer.close()
    return jobs, pending


def payload_main(args):
    """The module's result for a call whose certificates go to no file, as the cert action's
    payload runs it on the CA host: `args` are the module's parameters, checked on the
    controller, and `check_mode` and `diff`."""
    params = dict(args)
    check_mode, diff = params.pop("check_mode"), params.pop("diff")
    try:
        jobs, pending = certify(params, int(time.time()), check_mode, lambda pending: None)
    except FleetcaError as exc:
        return dict(failed=True, changed=False, msg=str(exc))
    result = result_of(params, jobs, bool(pending))
    if diff:
        result["diff"] = diff_of(jobs)
    return result


def result_of(params, jobs, changed):
    """The module's result: one certificate's fields at the top level, or a batch's `certificates`;
    with the arguments echoed as Ansible echoes them (a long batch, as its first entries)."""
    result = dict(changed=changed)
    entries = [job.result(bool(job.reason)) for job in jobs]
    if params["requests"] is None:
        result.update((k, v) for k, v in entries[0].items() if k not in ("path", "changed"))
        result["reason"] = jobs[0].reason
        result["invocation"] = {"module_args": params}
    else:
        result["certificates"] = entries
        result["invocation"] = {"module_args": dict(params, requests=listed(params["requests"]))}
    return result


def diff_of(jobs):
    before, after = [], []
    for job in jobs:
        label = job.path or job.request.key_id
        if job.existing is not None:
            before.append("# %s\n%s" % (label, job.existing.describe()))
        shown = job.certificate or (None if job.reason else job.existing)
        if shown is not None:
            after.append("# %s\n%s" % (label, shown.describe()))
        elif job.reason:
            after.append("# %s\n(to be signed: %s)\n" % (label, job.reason))
    return dict(before="".join(before), after="".join(after))
