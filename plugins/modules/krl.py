#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: krl
short_description: Manage an OpenSSH key revocation list (KRL)
version_added: 0.1.0
description:
  - Revokes (O(state=present)) or un-revokes (O(state=absent)) certificates and keys in the
    binary KRL file at O(path), the file that sshd's C(RevokedKeys) and ssh's
    C(RevokedHostKeys) read. The KRL is built in Python, without C(ssh-keygen), and is never
    larger than the one C(ssh-keygen -k) writes for the same revocations.
  - The revoked set is a set. O(state=present) adds exactly the named entries,
    O(state=absent) removes exactly them, splitting serial ranges where it must. Other
    entries of the file, including those written by C(ssh-keygen) and extension sections,
    are kept.
  - Idempotent. The file is rewritten only when the revoked set (or O(comment)) changes,
    and then its C(krl_version) increases by one. A missing file is created, empty when
    nothing is named, so that sshd never points at a KRL that does not exist (sshd refuses
    every public key login when its C(RevokedKeys) file is missing).
  - The file is replaced atomically (temporary file in the same directory, fsync, rename).
    sshd reads the new KRL at the next login; no reload is needed.
  - A new file gets mode C(0644) unless O(mode) says otherwise (sshd reads it as root; ssh reads
    C(RevokedHostKeys) as the user). A rewritten file keeps the owner, group, mode and SELinux
    context of the file it replaces unless O(owner), O(group), O(mode) or the SELinux options
    say otherwise (as M(ansible.builtin.copy) does). O(unsafe_writes) is honoured.
  - Concurrent runs on the same KRL all land. The module holds an exclusive lock
    (C(PATH.lock), see O(lock_timeout)) from reading the KRL to renaming the new one into
    place, so each run edits the file the previous one wrote and the version rises once
    per change.
  - Anti-rollback. A KRL on disk with a higher C(krl_version) than the one the module would
    write is an error, never a rewrite.
  - A KRL on disk that does not parse is an error naming the problem and its byte offset; the
    file is left untouched.
author:
  - fleetca.ssh contributors (@fleetca)
extends_documentation_fragment:
  - fleetca.ssh.fast_path_action
  - ansible.builtin.files
  - fleetca.ssh.lock
attributes:
  check_mode:
    support: full
    description: Reports the entries that would be added or removed and the version that would be written.
  diff_mode:
    support: full
    description: The entries removed (before) and added (after).
options:
  path:
    description:
      - The KRL file. Created when missing; its directory must exist.
    type: path
    required: true
  state:
    description:
      - V(present) revokes the named entries, V(absent) un-revokes them.
    type: str
    choices: [present, absent]
    default: present
  ca_public_key:
    description:
      - The CA whose certificates O(serials) and O(key_ids) revoke, as a key line or the path of a
        C(.pub) file.
      - Omitted, O(serials) and O(key_ids) revoke certificates of any CA.
      - With O(issued), only certificates of this CA are selected.
    type: str
  serials:
    description:
      - Certificate serials, as integers or strings V(N) or V(A-B) (an inclusive range, A <= B;
        V(A-A) is serial A). Serial 0 cannot be revoked by serial (sshd never matches it).
    type: list
    elements: raw
    default: []
  key_ids:
    description:
      - Certificate key ids (what C(ssh-keygen -s -I) sets), revoked under O(ca_public_key) or any CA.
    type: list
    elements: str
    default: []
  public_keys:
    description:
      - Key or certificate lines (C(TYPE BASE64 [COMMENT])).
      - A certificate is revoked as C(ssh-keygen -k) revokes that line, by its serial under its
        own CA, or by its key id when its serial is 0. O(ca_public_key) does not apply to it.
      - A plain key is revoked by its SHA256 hash, which also revokes every certificate of that key.
        With O(state=absent), every entry that revokes the key (its hash, its SHA1 hash, the key
        itself) is removed.
    type: list
    elements: str
    default: []
  sha256_fingerprints:
    description:
      - Plain keys to revoke by SHA256 fingerprint, as C(ssh-keygen -l) prints them
        (C(SHA256:) and 43 base64 characters).
    type: list
    elements: str
    default: []
  spec_file:
    description:
      - "A revocation spec file on the managed host, in the format C(ssh-keygen -k) reads (C(serial:
        N), C(serial: A-B), C(id: KEYID), C(key: LINE) for the key itself, C(sha1: LINE) and
        C(sha256: LINE) for its hash, C(hash: SHA256:FINGERPRINT), or a bare key or certificate
        line, taken as in O(public_keys); C(#) starts a comment), so that a CI job that already
        keeps one needs no conversion. A bare plain key is revoked by its SHA256 hash, where some
        C(ssh-keygen) versions store the key itself; sshd refuses it either way. Its entries are
        added to (or, with O(state=absent), removed from) the KRL together with the other options."
      - "Serials and key ids are those of O(ca_public_key), or of any CA when it is omitted (as
        C(ssh-keygen -k -s none)). As with C(ssh-keygen -k), C(serial: 0) and a range C(A-B) without
        A < B are errors, and numbers may be written C(0x...) (hex) or C(0...) (octal)."
      - "An error names the file's line; nothing is written."
    type: path
  issued:
    description:
      - Certificates to revoke by what the issuance log O(store) recorded when they were signed
        (by M(fleetca.ssh.cert)). Each selector names one of O(issued[].key_id),
        O(issued[].principal) or O(issued[].host); every certificate it matches is revoked by
        serial under the CA that signed it.
      - A selector that matches no certificate is an error, so that a typo cannot pass as done.
    type: list
    elements: dict
    default: []
    suboptions:
      key_id:
        description: Certificates with this key id.
        type: str
      principal:
        description: Certificates listing this principal.
        type: str
      host:
        description: Certificates requested for this inventory host (the C(requester) M(fleetca.ssh.cert) recorded).
        type: str
  store:
    description:
      - The issuance log to look O(issued) up in, and to prune by (O(prune_expired)). Required
        with either. It must exist.
    type: path
  prune_expired:
    description:
      - Drop the serials (and the parts of serial ranges) that the issuance log O(store) proves
        can only match expired certificates, so that the KRL of a fleet that revokes a few
        certificates a day stays small. In a CA's section, a serial goes when every
        certificate of that CA with this serial has its C(valid_before) in the past; in the
        any-CA section, when every certificate in the log with this serial has, whatever its CA.
      - Serials the log does not know, key ids, keys and fingerprints are never pruned. A
        serial named in O(serials) or O(issued) that can only match expired certificates is not
        added (sshd refuses an expired certificate anyway), so a rerun stays unchanged.
      - Pruning is a change of the revoked set, so the version rises (see O(krl_version)).
    type: bool
    default: false
  comment:
    description:
      - Comment stored in the KRL header. Omitted, the comment on disk is kept.
    type: str
  krl_version:
    description:
      - The version to write, for example a CI pipeline number. Omitted, the version on disk plus one.
      - Lower than the version on disk is an error (anti-rollback); equal to it is an error when
        the revoked set changes.
    type: int
notes:
  - OpenSSH refuses a KRL whose serial bitmap is larger than 2048 bytes, yet C(ssh-keygen -k)
    writes one for dense serials (and sshd then refuses every public key login). This module
    never writes such a bitmap, and refuses to edit a KRL that holds one.
  - Extension sections are kept as they are; OpenSSH before 9.4 refuses KRLs that contain them.
seealso:
  - module: fleetca.ssh.krl_info
  - name: PROTOCOL.krl
    description: The KRL format.
    link: https://github.com/openssh/openssh-portable/blob/master/PROTOCOL.krl
"""

EXAMPLES = r"""
- name: Revoke two serials and a range of the user CA
  fleetca.ssh.krl:
    path: /etc/ssh/fleetca/revoked.krl
    ca_public_key: /etc/ssh/fleetca/user_ca.pub
    serials: [42, "1000-1999"]

- name: Revoke everything issued to a leaver, whichever CA signed it
  fleetca.ssh.krl:
    path: /etc/ssh/fleetca/revoked.krl
    store: /etc/ssh/fleetca/issued.db
    issued:
      - principal: alice
      - key_id: alice@example.com

- name: Revoke the certificates of a decommissioned host and a stolen laptop key
  fleetca.ssh.krl:
    path: /etc/ssh/fleetca/revoked.krl
    store: /etc/ssh/fleetca/issued.db
    issued:
      - host: web17.example.com
    public_keys:
      - "{{ lookup('ansible.builtin.file', 'laptop.pub') }}"
    sha256_fingerprints:
      - SHA256:ZIrC5wCKy3XOdHbGuDqhGvAPmQbZCbqzqNVCEtqbbXM

- name: Un-revoke a serial revoked by mistake (splits the range it is part of)
  fleetca.ssh.krl:
    path: /etc/ssh/fleetca/revoked.krl
    ca_public_key: /etc/ssh/fleetca/user_ca.pub
    serials: [1500]
    state: absent

- name: Revoke what the CI's ssh-keygen spec file lists
  fleetca.ssh.krl:
    path: /etc/ssh/fleetca/revoked.krl
    ca_public_key: /etc/ssh/fleetca/user_ca.pub
    spec_file: /srv/ci/revocations.spec

- name: Revoke a serial and drop the serials of certificates that have expired since
  fleetca.ssh.krl:
    path: /etc/ssh/fleetca/revoked.krl
    ca_public_key: /etc/ssh/fleetca/user_ca.pub
    serials: [4242]
    store: /etc/ssh/fleetca/issued.db
    prune_expired: true

- name: Make sure a KRL exists before sshd_config names it
  fleetca.ssh.krl:
    path: /etc/ssh/fleetca_revoked.krl
"""

RETURN = r"""
krl_version:
  description: The version of the KRL now on disk (or that would be, in check mode).
  returned: always
  type: int
  sample: 7
sha256:
  description:
    - SHA-256 of the KRL file's bytes now on disk, in hex (in check mode, of the bytes that would be
      written), as C(fleetca.ssh.krl_info) returns it.
  returned: always
  type: str
  sample: 3c1c8e0d2f6c3a8c5c0c9d7f8b0e1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b
previous_version:
  description: The version that was on disk before, null when there was no file.
  returned: always
  type: int
  sample: 6
added:
  description:
    - The entries this run revoked (with O(state=present)).
    - At most 100 are listed; a last item C(... and N more) counts the others, so that a large
      revocation set does not make a large result.
  returned: always
  type: list
  elements: str
  sample: ["serial 42 of CA SHA256:3V0jHuBkGzKK9hQ0fPLqnuW7DgS+Xo/d3ID5nZ9grRE", "serials 1000-1999 of any CA"]
removed:
  description:
    - The entries this run un-revoked (with O(state=absent)).
    - At most 100 are listed, as for RV(added).
  returned: always
  type: list
  elements: str
  sample: ['key id "alice@example.com" of any CA']
pruned:
  description: How many serials O(prune_expired) dropped (or would drop, in check mode); 0 without it.
  returned: always
  type: int
  sample: 12
entries:
  description: How many entries the KRL now revokes (serials, key ids, keys and fingerprints; not ranges).
  returned: always
  type: int
  sample: 1043
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleetca.ssh.plugins.module_utils import files, krl_request, locks
from ansible_collections.fleetca.ssh.plugins.module_utils.krl_request import ExpiredSerials, build_revocations
from ansible_collections.fleetca.ssh.plugins.module_utils.krl_request import load_ca_option
from ansible_collections.fleetca.ssh.plugins.module_utils.listing import listed
from ansible_collections.fleetca.ssh.plugins.module_utils.store import IssuanceLog, select_issued
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def read_spec(path):
    """The text of the spec file at `path` (None when not given)."""
    if not path:
        return None
    try:
        data = files.read_if_exists(path)
    except FleetcaError as exc:
        raise FleetcaError("spec_file: %s" % exc)
    if data is None:
        raise FleetcaError("spec_file: %s does not exist" % path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FleetcaError("spec_file: %s is not UTF-8 text (byte %d)" % (path, exc.start))


def open_store(params):
    """The issuance log, when `issued` or `prune_expired` needs it (else None)."""
    needed_by = [name for name in ("issued", "prune_expired") if params[name]]
    if not needed_by:
        return None
    store = params["store"]
    if not store:
        raise FleetcaError("store: required with %s (the issuance log)" % " and ".join(needed_by))
    if not os.path.isfile(store):
        raise FleetcaError("store: %s does not exist" % store)
    return IssuanceLog(store)


def read_store(params):
    """(the issuance log records `issued` names, the ExpiredSerials to prune or None)."""
    log = open_store(params)
    if log is None:
        return [], None
    try:
        records = []
        if params["issued"]:
            records = select_issued(log, params["issued"], load_ca_option("ca_public_key", params["ca_public_key"]))
        expired = ExpiredSerials.from_log(log, int(time.time())) if params["prune_expired"] else None
        return records, expired
    finally:
        log.close()


# A new KRL's mode unless the task sets `mode`; an existing file keeps its own.
NEW_FILE_MODE = 0o644


def diff_of(update, path):
    before = "no file" if update.old_version is None else "version %d" % update.old_version
    pruned = ["%d serials of expired certificates (prune_expired)" % update.pruned] if update.pruned else []
    return {
        "before": "".join("%s\n" % entry for entry in listed(update.removed) + pruned),
        "after": "".join("%s\n" % entry for entry in listed(update.added)),
        "before_header": "%s (%s)" % (path, before),
        "after_header": "%s (version %d)" % (path, update.krl.version),
    }


def update_file(module, path, request, expired):
    """Plan the change of the KRL at `path` and write it (not in check mode): (update, sha256)."""
    params = module.params

    def plan():
        planned = krl_request.plan_file(path, request, params["state"], params["comment"], params["krl_version"],
                                        expired)
        return planned, planned[0].changed

    def write(planned):
        files.replace_file(module, path, planned[2], NEW_FILE_MODE)

    # from the read to the rename under the lock: a concurrent run waits, then edits what this one wrote
    update, digest, dummy = locks.plan_and_write(module, path, plan, write)
    return update, digest


def main():
    module = AnsibleModule(
        argument_spec=dict(krl_request.OPTIONS, **locks.ARGUMENT_SPEC),
        supports_check_mode=True,
        add_file_common_args=True,
    )
    params = module.params
    path = params["path"]
    try:
        files.check_writable_path("path", path)
        records, expired = read_store(params)
        request = build_revocations(params["ca_public_key"], params["serials"], params["key_ids"],
                                    params["public_keys"], params["sha256_fingerprints"], records,
                                    read_spec(params["spec_file"]))
        update, digest = update_file(module, path, request, expired)
    except FleetcaError as exc:
        module.fail_json(msg=str(exc))
    changed = update.changed
    if os.path.exists(path):
        changed = files.apply_file_options(module, path, changed)
    result = krl_request.result_of(update, digest, changed)
    if module._diff:
        result["diff"] = diff_of(update, path)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
