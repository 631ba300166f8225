#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ca_rotation
short_description: Rotate an OpenSSH CA key in phases, on the CA host
version_added: 0.1.0
description:
  - Reads or moves the rotation of the CA key at O(path). The files beside it are the phase -
    C(PATH.next) (started - trusted, not signing yet) or C(PATH.previous) (switched - the new
    key signs, the old one is still trusted) - so every run and every playbook sees the same one.
  - V(start) creates C(PATH.next) (mode 0600, the current key's type and size, encrypted with
    O(passphrase) when given) and C(PATH.next.pub). V(switch) makes the next key the current one
    and keeps the old one as C(PATH.previous). V(finish) moves the previous public key to
    C(retired/) beside O(path) and deletes its private key. V(rollback), after V(start), deletes
    the next key; after V(switch), makes the previous key the current one again and deletes the
    new one.
  - Each phase is idempotent (a rerun changes nothing) and refuses a wrong order with a clear
    error that changes nothing - V(switch) without V(start), V(finish) before V(switch), a
    V(start) while a rotation is switched, a V(rollback) with no rotation in progress (also
    after V(finish)). A V(finish) with no rotation in progress after an earlier finish is a rerun
    and changes nothing.
  - With O(store), V(finish) refuses, naming them, while the issuance log holds certificates of
    the previous key that are still valid, unless O(force=true).
  - Revoking the previous key (its public key in the master KRL) is not done here - the
    C(fleetca.ssh.ca) role's C(rotate) entry point does it with M(fleetca.ssh.krl), before the
    finish that deletes it.
  - The hosts the last run of a phase missed (O(missed_hosts)) hold back every other phase until a
    rerun of that phase reaches them.
  - Every change is made under the lock C(PATH.lock) (shared with M(fleetca.ssh.ca_key)) with
    renames in the CA directory; a key file is never rewritten in place.
  - A status read (O(phase=status) with only O(path) and O(extra_keys)) runs in one connection
    round trip (a module call without pipelining takes five or six); its action plugin sends the
    reader as one C(python -c) command to the Python Ansible runs modules with on the CA host, as
    M(fleetca.ssh.sshd_info) does. Every other call runs the module.
author:
  - fleetca.ssh contributors (@fleetca)
extends_documentation_fragment:
  - fleetca.ssh.lock
attributes:
  check_mode:
    support: full
    description: Reports the phase it would reach and the refusals, and writes nothing.
  diff_mode:
    support: none
    description: Private keys are never shown.
options:
  path:
    description:
      - The CA private key (its public key at C(PATH.pub)), as M(fleetca.ssh.ca_key) created it.
    type: path
    required: true
  phase:
    description:
      - V(status) only reads the phase and the trust set (and records O(missed_hosts)).
    type: str
    choices: [status, start, switch, finish, rollback]
    default: status
  passphrase:
    description:
      - Passphrase that encrypts the next key (the CA's own passphrase). Never logged.
    type: str
  comment:
    description:
      - Comment of the next key's public key line.
    type: str
    default: fleetca
  extra_keys:
    description:
      - More public key lines to trust next to the CA's own keys (an offline spare CA), added to
        RV(trusted_keys).
    type: list
    elements: str
    default: []
  store:
    description:
      - The issuance log. With it, V(finish) refuses while it holds still-valid certificates of
        the previous key.
    type: path
  force:
    description:
      - V(finish) even while the issuance log holds still-valid certificates of the previous key
        (they stop working when the previous key is revoked).
    type: bool
    default: false
  presented_signers:
    description:
      - For a host CA - each server's name mapped to the public key lines of the CA keys that
        signed the host certificates it presents. V(finish) refuses, naming them, while a server
        presents a certificate of the previous key (clients would refuse it once that key is
        revoked). O(force) does not lift this refusal.
    type: dict
    default: {}
  missed_hosts:
    description:
      - With O(phase=status) - the hosts the run of O(missed_phase) just missed (playbook
        C(fleetca.ssh.rotate) gives them), recorded in C(PATH.missed). Until a run records none,
        every other phase refuses to start, naming them; a rerun of O(missed_phase) may run. An
        empty list removes the record.
    type: list
    elements: str
  missed_phase:
    description: The phase that missed O(missed_hosts). Required with O(missed_hosts).
    type: str
    choices: [start, switch, finish, rollback]
requirements:
  - cryptography >= 38, for V(start)
seealso:
  - module: fleetca.ssh.ca_key
  - module: fleetca.ssh.krl
"""

EXAMPLES = r"""
- name: Start a rotation of the user CA
  fleetca.ssh.ca_rotation:
    path: /etc/ssh/fleetca/user_ca
    phase: start
    passphrase: "{{ vault_user_ca_passphrase }}"
    comment: fleetca-user-ca

- name: The phase and the keys to trust
  fleetca.ssh.ca_rotation:
    path: /etc/ssh/fleetca/user_ca
  register: user_ca_rotation
"""

RETURN = r"""
phase:
  description: The phase after this run (in check mode, the phase it would reach).
  returned: always
  type: str
  choices: [idle, started, switched]
  sample: started
trusted_keys:
  description:
    - The key lines to trust after this run - current, next or previous, then O(extra_keys),
      without repeats. Empty when the CA key does not exist (check mode on a new CA host).
  returned: always
  type: list
  elements: str
current_public_key:
  description: The public key line of the key that signs, or C("").
  returned: always
  type: str
next_public_key:
  description: The next key's public key line, or C("").
  returned: always
  type: str
previous_public_key:
  description: The previous key's public key line, or C("").
  returned: always
  type: str
retired_keys:
  description:
    - The public key lines of the keys earlier finished rotations of this CA retired (kept under
      C(retired/) beside O(path)), sorted by file name. Clients of a host CA write them as
      C(@revoked) lines.
  returned: always
  type: list
  elements: str
retiring_public_key:
  description: With V(finish) from V(switched) - the previous key that is (or would be) retired.
  returned: when O(phase=finish)
  type: str
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.fleetca.ssh.plugins.module_utils import files, keys, locks, rotation, signers
from ansible_collections.fleetca.ssh.plugins.module_utils.store import IssuanceLog
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

PHASE_REACHED = {"start": rotation.STARTED, "switch": rotation.SWITCHED,
                 "finish": rotation.IDLE, "rollback": rotation.IDLE}


def key_type_and_size(public_key):
    """The `signers.generate_private_key` arguments that make a key like `public_key`."""
    family = public_key.family
    if family not in signers.KEY_TYPES:
        raise FleetcaError("path: cannot make a next key like the current %s key" % public_key.key_type)
    return family, public_key.bits


def read_state(path):
    slots = rotation.read_slots(path)
    return slots, rotation.phase_of(slots, path)


def plan_phase(params):
    """((steps, slots, phase before), needs_write) for locks.plan_and_write."""
    slots, state = read_state(params["path"])
    if slots["current"] is None:
        raise FleetcaError("path: no CA key at %s.pub (create the CA first)" % params["path"])
    refusal = rotation.missed_refusal(rotation.read_missed(params["path"]), params["phase"])
    if refusal:
        raise FleetcaError(refusal)
    steps = rotation.plan(params["phase"], state, rotation.has_retired(params["path"]))
    if "retire_previous" in steps:
        refusal = rotation.host_finish_refusal(params["presented_signers"], slots["previous"])
        if refusal:
            raise FleetcaError(refusal)
        if not params["force"]:
            refuse_while_in_use(params["store"], slots["previous"])
    return (steps, slots, state), bool(steps)


def refuse_while_in_use(store, previous):
    if not store or not os.path.exists(store):
        return
    log = IssuanceLog(store)
    try:
        valid = rotation.still_valid(log.find(ca_fingerprint=previous.fingerprint), int(time.time()))
    finally:
        log.close()
    if valid:
        raise FleetcaError(rotation.finish_refusal(valid, previous.to_line()))


def link_replacing(source, target):
    if os.path.lexists(target):
        os.unlink(target)
    os.link(source, target)


def rename_if_exists(source, target):
    if os.path.lexists(source):
        os.rename(source, target)


def unlink_if_exists(path):
    if os.path.lexists(path):
        os.unlink(path)


def run_steps(params, steps, slots):
    """Carry out `steps`, each a rename, link or removal that a rerun can redo or skip: the private
    key is written before its .pub and removed after it, since a .pub marks the slot."""
    paths = rotation.slot_paths(params["path"])
    current, upcoming, previous = paths["current"], paths["next"], paths["previous"]
    for step in steps:
        if step == "create_next":
            key_type, size = key_type_and_size(slots["current"])
            private_key = signers.generate_private_key(key_type, size)
            files.write_atomic(upcoming, signers.private_key_bytes(private_key, params["passphrase"]), 0o600)
            line = keys.parse_public_key("path", signers.public_key_line(private_key)).to_line(params["comment"])
            files.write_atomic(upcoming + ".pub", (line + "\n").encode("utf-8"), 0o644)
        elif step == "keep_previous" and slots["previous"] is None:
            # links, not renames: PATH always names a key that signs
            link_replacing(current, previous)
            link_replacing(current + ".pub", previous + ".pub")
        elif step == "promote_next":
            rename_if_exists(upcoming, current)
            rename_if_exists(upcoming + ".pub", current + ".pub")
        elif step == "retire_previous":
            retired = rotation.retired_path(params["path"], slots["previous"])
            if not os.path.isdir(os.path.dirname(retired)):
                os.mkdir(os.path.dirname(retired), 0o700)
            files.write_atomic(retired, (slots["previous"].to_line() + "\n").encode("utf-8"), 0o644)
            unlink_if_exists(previous)
            unlink_if_exists(previous + ".pub")
        elif step == "drop_next":
            for doomed in (upcoming + ".pub", upcoming, previous + ".pub", previous):
                unlink_if_exists(doomed)  # a previous here is a link left by an interrupted switch
        elif step == "restore_previous":
            rename_if_exists(previous, current)
            rename_if_exists(previous + ".pub", current + ".pub")


def record_missed(module, params):
    """Write (or remove) PATH.missed; whether it changed."""
    path = params["path"] + rotation.MISSED_SUFFIX
    wanted = rotation.missed_record(params["missed_phase"], params["missed_hosts"])

    def plan():
        differs = files.read_if_exists(path) != wanted
        return differs, differs

    def write(_differs):
        if wanted is None:
            unlink_if_exists(path)
        else:
            files.write_atomic(path, wanted, 0o644)
    return locks.plan_and_write(module, params["path"], plan, write)


def main():
    module = AnsibleModule(
        argument_spec=dict(rotation.OPTIONS, **locks.ARGUMENT_SPEC),
        required_together=[("missed_hosts", "missed_phase")],
        supports_check_mode=True,
    )
    params = module.params
    if params["phase"] == "start" and not signers.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"))
    try:
        result = run(module, params)
    except FleetcaError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


def run(module, params):
    if params["phase"] == "status":
        changed = params["missed_hosts"] is not None and record_missed(module, params)
        return dict(changed=changed, **rotation.status(params["path"], params["extra_keys"]))
    steps, before, state = locks.plan_and_write(
        module, params["path"], lambda: plan_phase(params), lambda planned: run_steps(params, planned[0], planned[1]))
    changed = bool(steps)
    slots, reached = read_state(params["path"])
    if module.check_mode and changed:
        reached = PHASE_REACHED[params["phase"]]
    result = dict(changed=changed, phase=reached, **rotation.describe(params["path"], slots, params["extra_keys"]))
    if params["phase"] == "finish":
        result["retiring_public_key"] = rotation.line_of(before["previous"]) if state == rotation.SWITCHED else ""
    return result


if __name__ == "__main__":
    main()
