#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cert
short_description: Sign OpenSSH host and user certificates with a CA key, in pure Python
version_added: 0.1.0
description:
  - Signs OpenSSH certificates (C(*-cert-v01@openssh.com)) for Ed25519, ECDSA, RSA and
    security-key (sk-*) public keys with an Ed25519, ECDSA or RSA CA, without running C(ssh-keygen).
  - Every certificate signed is recorded in the issuance log O(store), which also hands out
    serials (unique and never 0, even with many concurrent runs).
  - Idempotent. An existing certificate (at O(path), or given in O(current_certificate)) is kept
    when it was signed by this CA over this key with the same type, principals, key id,
    critical options and extensions, is still valid, and is not inside O(renew_before).
  - Sign one certificate with the top-level options, or many in one call with O(requests)
    (one CA key load and one issuance-log transaction for the whole batch), the top-level
    per-certificate options being every request's default.
author:
  - fleetca.ssh contributors (@fleetca)
extends_documentation_fragment:
  - fleetca.ssh.ca_signer
  - fleetca.ssh.cert_request
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    description: Reports which certificates would be signed and why; signs, records and writes nothing.
  diff_mode:
    support: full
    description: Shows the C(ssh-keygen -L) fields of each certificate before and after.
options:
  store:
    description:
      - Path of the issuance log (SQLite) on the CA host.
      - Defaults to C(issued.db) beside O(ca_key) (or beside O(ca_public_key) when that is a path).
    type: path
  user_cert_profiles:
    description:
      - The profiles of people's certificates (the CA host's C(fleetca_ssh_user_cert_profiles)),
        name -> C({principals, valid_for, max_valid_for, extensions, force_command,
        source_address, key_id}).
      - C(principals) (list; C({user}) stands for the person; default C(["{user}"])), C(valid_for)
        (the default validity, default C(+16h)), C(max_valid_for) (default C(+24h)), C(extensions)
        (list of names OpenSSH knows; default what C(ssh-keygen) grants), C(force_command),
        C(source_address) (list of addresses or CIDR networks), C(key_id) (template over C({user})
        and C({profile}), default C({user}@{profile})).
      - The built-in profile C(default) (principals C(["{user}"]), C(+16h), at most C(+24h)) stays
        beside these; a profile named C(default) here replaces it.
      - Given (even empty), or with O(users), every certificate of the call must name a O(person).
        A bad profile fails naming it, for example C(user_cert_profiles.ops.source_address).
    type: dict
  users:
    description:
      - Who may get a certificate and under which profiles (the CA host's C(fleetca_ssh_users)),
        person -> C({profiles=[...]}) (a list of profile names).
      - When empty or not given, anyone may get the C(default) profile; otherwise only the listed
        people, and only their profiles.
    type: dict
seealso:
  - module: fleetca.ssh.cert_info
  - module: fleetca.ssh.ca_key
"""

EXAMPLES = r"""
- name: Sign a user certificate valid for 8 hours
  fleetca.ssh.cert:
    ca_key: /etc/ssh/fleetca/user_ca
    store: /etc/ssh/fleetca/issued.db
    type: user
    public_key: "{{ lookup('ansible.builtin.file', 'alice.pub') }}"
    principals: [alice]
    key_id: alice@example.com
    valid_for: +8h
  delegate_to: "{{ groups['ssh_ca'][0] }}"
  register: alice_cert

- name: Sign every server's host key in one call, renewing four weeks before expiry
  fleetca.ssh.cert:
    ca_key: /etc/ssh/fleetca/host_ca
    ca_key_passphrase: "{{ vault_host_ca_passphrase }}"
    requests:
      - type: host
        public_key: "{{ web1_host_key }}"
        principals: [web1, web1.example.com]
        valid_for: +52w
        renew_before: +4w
        requester: web1
        current_certificate: "{{ web1_current_cert | default(omit) }}"

- name: Sign alice's key under the policy (profile ops - her name and ops, 8 hours, pty only)
  fleetca.ssh.cert:
    ca_key: /etc/ssh/fleetca/user_ca
    store: /etc/ssh/fleetca/issued.db
    user_cert_profiles:
      ops:
        principals: ["{user}", ops]
        valid_for: +8h
        max_valid_for: +12h
        extensions: [permit-pty]
        source_address: [10.0.0.0/8]
    users:
      alice: {profiles: [default, ops]}
    person: alice
    profile: ops
    public_key: "{{ lookup('ansible.builtin.file', 'alice.pub') }}"
  delegate_to: "{{ groups['ssh_ca'][0] }}"

- name: Sign every server's host key in one call, the shared options given once
  fleetca.ssh.cert:
    ca_key: /etc/ssh/fleetca/host_ca
    type: host
    valid_for: +52w
    renew_before: +4w
    requests:
      - {public_key: "{{ web1_host_key }}", principals: [web1, web1.example.com], requester: web1}
      - {public_key: "{{ web2_host_key }}", principals: [web2, web2.example.com], requester: web2}

- name: Sign with a CA key held in ssh-agent, forcing a command
  fleetca.ssh.cert:
    use_agent: true
    ca_public_key: /etc/ssh/fleetca/user_ca.pub
    store: /etc/ssh/fleetca/issued.db
    type: user
    public_key_path: /tmp/backup.pub
    path: /tmp/backup-cert.pub
    principals: [backup]
    valid_for: +1d
    critical_options:
      force-command: /usr/local/bin/backup
      source-address: 10.0.0.0/8
    extensions: {}
"""

RETURN = r"""
certificate:
  description: The certificate line (single form).
  returned: success, unless in check mode and a new certificate would be signed
  type: str
serial:
  description: Serial of the certificate (single form).
  returned: success, unless in check mode and a new certificate would be signed
  type: int
valid_after:
  description: Start of validity, epoch seconds (single form).
  returned: success
  type: int
valid_before:
  description: End of validity, epoch seconds, 18446744073709551615 for forever (single form).
  returned: success
  type: int
reason:
  description: Why the certificate was (or would be) signed, or V(null) when kept (single form).
  returned: success
  type: str
certificates:
  description: One entry per element of O(requests), in order.
  returned: when O(requests) is used
  type: list
  elements: dict
  contains:
    path:
      description: O(path) of the request, when it has one.
      type: str
    requester:
      description: O(requester) of the request, when it has one (a caller picks its own certificates by it).
      type: str
    certificate:
      description: The certificate line.
      type: str
    serial:
      description: Serial.
      type: int
    valid_after:
      description: Start of validity, epoch seconds.
      type: int
    valid_before:
      description: End of validity, epoch seconds.
      type: int
    changed:
      description: Whether this certificate was (or would be) signed.
      type: bool
    reason:
      description: Why it was (or would be) signed; absent when the certificate was kept.
      type: str
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.validation import (
    check_type_bool,
    check_type_dict,
    check_type_int,
    check_type_list,
    check_type_path,
    check_type_str,
)

from ansible_collections.fleetca.ssh.plugins.module_utils import cert_requests, certs, files, keys, signers
from ansible_collections.fleetca.ssh.plugins.module_utils.listing import listed
from ansible_collections.fleetca.ssh.plugins.module_utils.store import IssuanceLog
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

# The options of one certificate: at the top level (every request's default) and in each of
# `requests`. No defaults here, so that "not given" stays visible to the merge
# (cert_requests.BUILT_IN says what an option nobody set means).
CERT_SPEC = dict(
    type=dict(type="str", choices=["host", "user"]),
    public_key=dict(type="str"),
    public_key_path=dict(type="path"),
    path=dict(type="path"),
    current_certificate=dict(type="str"),
    principals=dict(type="list", elements="str"),
    allow_any_principal=dict(type="bool"),
    key_id=dict(type="str"),
    serial=dict(type="int"),
    valid_from=dict(type="str"),
    valid_to=dict(type="str"),
    valid_for=dict(type="str"),
    renew_before=dict(type="str", no_log=False),
    critical_options=dict(type="dict"),
    allow_unknown_critical_options=dict(type="bool"),
    extensions=dict(type="dict"),
    requester=dict(type="str"),
    comment=dict(type="str"),
    person=dict(type="str"),
    profile=dict(type="str"),
)
ONE_CHOICE = [("valid_to", "valid_for"), ("public_key", "public_key_path")]

SIGNER_SPEC = dict(
    ca_key=dict(type="path"),
    ca_key_passphrase=dict(type="str", no_log=True),
    ca_public_key=dict(type="str"),
    use_agent=dict(type="bool", default=False),
    agent_socket=dict(type="path"),
    rsa_algorithm=dict(type="str", choices=list(signers.RSA_ALGORITHMS), default="rsa-sha2-512"),
    store=dict(type="path"),
    user_cert_profiles=dict(type="dict"),
    users=dict(type="dict"),
    # each element checked against CERT_SPEC by validate_request (see there why)
    requests=dict(type="list", elements="dict"),
)


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


TYPE_CHECKERS = dict(str=check_type_str, path=check_type_path, list=check_type_list,
                     dict=check_type_dict, bool=check_type_bool, int=check_type_int)
# Values already of these types need no conversion (the common case in a large batch).
NATIVE_TYPES = dict(str=str, list=list, dict=dict, bool=bool, int=int)


def validate_request(field, element):
    """One element of `requests` against CERT_SPEC, with Ansible's own type checks; only the
    options it sets (the merge with the top level fills in the others).

    A fifth of what AnsibleModule's sub-option validation costs (0.04 s against 0.2 s for
    5,000 requests), which would be the largest part of the module's own time in a batch.
    """
    if not isinstance(element, dict):
        raise FleetcaError("%s must be a dictionary" % field.rstrip("."))
    unknown = sorted(set(element) - set(CERT_SPEC))
    if unknown:
        raise FleetcaError("%s unsupported options: %s (supported: %s)"
                           % (field.rstrip("."), ", ".join(unknown), ", ".join(sorted(CERT_SPEC))))
    params = {}
    for name, spec in CERT_SPEC.items():  # in the spec's order, so the first bad option is always the same
        value = element.get(name)
        if value is None:
            continue
        try:
            if type(value) is not NATIVE_TYPES.get(spec["type"]):  # pylint: disable=unidiomatic-typecheck
                value = TYPE_CHECKERS[spec["type"]](value)
            if spec.get("elements") == "str" and not all(isinstance(item, str) for item in value):
                value = [check_type_str(item) for item in value]
        except (TypeError, ValueError) as exc:
            raise FleetcaError("%s%s: %s" % (field, name, exc))
        if "choices" in spec and value not in spec["choices"]:
            raise FleetcaError("%s%s must be one of %s" % (field, name, ", ".join(spec["choices"])))
        params[name] = value
    return params


def validated_params(params):
    """The module's parameters with every element of `requests` checked."""
    if params["requests"] is None:
        return params
    return dict(params, requests=[validate_request("requests[%d]." % index, element)
                                  for index, element in enumerate(params["requests"])])


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


def sign_jobs(signer, jobs, store_path):
    """Sign every job in the issuance log: allocated serials in one transaction."""
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


# A new certificate file's mode unless the task sets `mode`; an existing file keeps its own.
NEW_FILE_MODE = 0o644


def write_certificates(module, jobs):
    for job in jobs:
        if job.path and job.certificate is not None:
            files.replace_file(module, job.path, (job.certificate.to_line(job.comment) + "\n").encode("utf-8"),
                               NEW_FILE_MODE)


def file_attributes_changed(module, jobs):
    changed = False
    for job in jobs:
        if job.path and os.path.exists(job.path):
            changed = files.apply_file_options(module, job.path, changed)
    return changed


def main():
    argument_spec = dict(SIGNER_SPEC, **CERT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           add_file_common_args=True,
                           mutually_exclusive=ONE_CHOICE)
    if not signers.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"))
    now = int(time.time())
    params = module.params
    signer = None
    try:
        with certs.batch_without_cycle_collection():
            validity = Validity(now)
            jobs = [Job(field, job_params, validity)
                    for field, job_params in cert_requests.certificate_params(CERT_SPEC, validated_params(params))]
            expected_ca = ca_public_key(params)
            if expected_ca is None:  # no .pub to compare with: the signer tells
                signer = make_signer(params)
                expected_ca = signer.public_key
            for job in jobs:
                job.reason = certs.renewal_reason(job.existing, job.request, expected_ca, now,
                                                  job.renew_before, job.bounds)
            pending = [job for job in jobs if job.reason]
            if pending and not module.check_mode:
                signer = signer or make_signer(params)
                if signer.public_key != expected_ca:
                    raise FleetcaError("ca_public_key (or CA_KEY.pub) does not match the CA private key")
                sign_jobs(signer, pending, default_store(params))
                write_certificates(module, pending)
    except FleetcaError as exc:
        module.fail_json(msg=str(exc))
    finally:
        if signer is not None:
            signer.close()
    # in check mode, set_fs_attributes_if_different only reports what it would change
    changed = file_attributes_changed(module, jobs) or bool(pending)
    result = dict(changed=changed)
    if module._diff:
        result["diff"] = diff_of(jobs)
    entries = [job.result(bool(job.reason)) for job in jobs]
    if module.params["requests"] is None:
        result.update((k, v) for k, v in entries[0].items() if k not in ("path", "changed"))
        result["reason"] = jobs[0].reason
    else:
        result["certificates"] = entries
        # Ansible echoes the arguments in every result: a long batch, as its first entries
        result["invocation"] = {"module_args": dict(params, requests=listed(params["requests"]))}
    module.exit_json(**result)


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


if __name__ == "__main__":
    main()
