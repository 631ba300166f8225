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
  action:
    support: full
    description:
      - A call whose certificates go to no file (no O(path) at the top level or in any of O(requests),
        no O(requests[].public_key_path), no file attribute such as O(mode)) is signed by an action
        plugin as one command on the CA host, to the Python Ansible runs modules with there, with
        the module's own code; the command reads its code and arguments (the passphrase
        included) on its standard input, so a batch of thousands of requests is one round trip
        and no module is built and sent. With C(become) that command's standard input could be
        read by C(sudo), so it is used there only when pipelining is on. Every other call runs the
        module, and the result is the same.
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

from ansible_collections.fleetca.ssh.plugins.module_utils import cert_checks, cert_jobs, cert_requests, files, signers
from ansible_collections.fleetca.ssh.plugins.module_utils.cert_requests import CERT_SPEC, SIGNER_SPEC
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

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
                           mutually_exclusive=[list(pair) for pair in cert_requests.ONE_CHOICE])
    if not signers.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"))
    params = module.params
    try:
        jobs, pending = cert_jobs.certify(cert_checks.validated_params(params), int(time.time()), module.check_mode,
                                          lambda pending: write_certificates(module, pending))
    except FleetcaError as exc:
        module.fail_json(msg=str(exc))
    # in check mode, set_fs_attributes_if_different only reports what it would change
    result = cert_jobs.result_of(params, jobs, file_attributes_changed(module, jobs) or bool(pending))
    if module._diff:
        result["diff"] = cert_jobs.diff_of(jobs)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
