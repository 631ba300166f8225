# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules of a CA key rotation without lockout: its phase, its trust set, what each step does.

A CA key `KEY` (with `KEY.pub`) may have beside it `KEY.next` (a rotation was started: servers
or clients trust it, nothing signs with it yet) or `KEY.previous` (the rotation was switched:
`KEY` is the new key and signs, the old one is still trusted). These files are the one source of
truth for the phase: a slot exists when its `.pub` does (the private key is written before its
`.pub` and removed after it, so a `.pub` never stands for a missing private key).

    idle --start--> started --switch--> switched --finish--> idle (old key retired and revoked)
    started --rollback--> idle (next deleted); switched --rollback--> idle (old key signs again)

Standard library only (the filters import it on the controller).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.fleetca.ssh.plugins.module_utils import files, keys
from ansible_collections.fleetca.ssh.plugins.module_utils.playbook_vars import reject_unknown
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

PHASES = ("start", "switch", "finish", "rollback")
IDLE, STARTED, SWITCHED = "idle", "started", "switched"
NEXT_SUFFIX = ".next"
# The hosts the last run of a phase missed (JSON {"phase", "hosts"}): the next phase waits for them.
MISSED_SUFFIX = ".missed"
PREVIOUS_SUFFIX = ".previous"
RETIRED_DIR = "retired"
# How many still-valid certificates a refused finish names (the count is always given).
NAMED_CERTIFICATES = 10

# fleetca.ssh.ca_rotation's own options; with the lock's (locks.ARGUMENT_SPEC), its whole argument spec.
OPTIONS = dict(
    path=dict(type="path", required=True),
    phase=dict(type="str", choices=["status"] + list(PHASES), default="status"),
    passphrase=dict(type="str", no_log=True),
    comment=dict(type="str", default="fleetca"),
    extra_keys=dict(type="list", elements="str", default=[], no_log=False),  # public keys
    store=dict(type="path"),
    force=dict(type="bool", default=False),
    presented_signers=dict(type="dict", default={}),
    missed_hosts=dict(type="list", elements="str"),
    missed_phase=dict(type="str", choices=list(PHASES)),
)


def slot_paths(path):
    """The private key path of each slot of the CA key at `path`."""
    return {"current": path, "next": path + NEXT_SUFFIX, "previous": path + PREVIOUS_SUFFIX}


def retired_dir(path):
    return os.path.join(os.path.dirname(os.path.abspath(path)), RETIRED_DIR)


def retired_path(path, public_key):
    """Where the public key of a retired CA key goes: named by the key and its fingerprint, so
    several retirements of one CA never overwrite each other."""
    digest = public_key.sha256.hex()[:16]
    return os.path.join(retired_dir(path), "%s.%s.pub" % (os.path.basename(path), digest))


def read_public_key(field, pub_path):
    """The public key at `pub_path`, or None when the file does not exist."""
    content = files.read_if_exists(pub_path)
    if content is None:
        return None
    return keys.parse_public_key(field, content.decode("utf-8", "replace").strip())


def read_slots(path):
    """The public key of each slot (None where it is empty)."""
    return dict((slot, read_public_key(slot, private + ".pub")) for slot, private in slot_paths(path).items())


def retired_files(path):
    """The files of the retired keys of the CA key at `path`, sorted."""
    directory = retired_dir(path)
    if not os.path.isdir(directory):
        return []
    prefix = os.path.basename(path) + "."
    return sorted(os.path.join(directory, name) for name in os.listdir(directory)
                  if name.startswith(prefix) and name.endswith(".pub"))


def has_retired(path):
    """Whether a rotation of the CA key at `path` was ever finished."""
    return bool(retired_files(path))


def retired_keys(path):
    """The public key lines of every key a finished rotation of the CA key at `path` retired:
    clients write them as @revoked lines (they do not read the servers' KRL)."""
    return [read_public_key("retired key %s" % name, name).to_line() for name in retired_files(path)]


def phase_of(slots, path="KEY"):
    """The phase the slots show. A previous key equal to the current one is a switch that stopped
    after its first step (the old key kept, the next not yet promoted): still `started`."""
    current, upcoming, previous = slots["current"], slots["next"], slots["previous"]
    if upcoming is not None and previous is not None and previous != current:
        raise FleetcaError(
            "%s has both %s and %s (and they differ from %s): not a state a rotation leaves; "
            "keep the key that signs, move the other one away, and rerun"
            % (path, path + NEXT_SUFFIX, path + PREVIOUS_SUFFIX, path))
    if upcoming is not None:
        return STARTED
    if previous is not None:
        return SWITCHED
    return IDLE


def line_of(public_key):
    return public_key.to_line() if public_key is not None else ""


def describe(path, slots, extra_keys=()):
    """The keys the slots of the CA key at `path` give to trust, and those its finished rotations
    retired, as fleetca.ssh.ca_rotation returns them after every phase."""
    return dict(trusted_keys=trusted_keys(slots, extra_keys) if slots["current"] else [],
                current_public_key=line_of(slots["current"]), next_public_key=line_of(slots["next"]),
                previous_public_key=line_of(slots["previous"]), retired_keys=retired_keys(path))


def status(path, extra_keys=()):
    """The phase of the CA key at `path` and its keys (fleetca.ssh.ca_rotation, phase=status)."""
    slots = read_slots(path)
    return dict(phase=phase_of(slots, path), **describe(path, slots, extra_keys))


def payload_main(args):
    """status() on the CA host, run by the ca_rotation action as one `python -c` payload
    (plugin_utils/remote_python.py)."""
    try:
        return dict(changed=False, **status(args["path"], args["extra_keys"]))
    except FleetcaError as exc:
        return {"failed": True, "msg": str(exc)}


def plan(phase, state, finished_before=False):
    """The steps `phase` takes from `state` ([] when it already holds), or a FleetcaError saying
    why this phase cannot follow that state (nothing is changed then)."""
    if phase not in PHASES:
        raise FleetcaError("phase must be one of %s, not %r" % (", ".join(PHASES), phase))
    steps = {
        ("start", IDLE): ["create_next"],
        ("start", STARTED): [],
        ("switch", STARTED): ["keep_previous", "promote_next"],
        ("switch", SWITCHED): [],
        ("finish", SWITCHED): ["retire_previous"],
        ("rollback", STARTED): ["drop_next"],
        ("rollback", SWITCHED): ["restore_previous"],
    }
    if (phase, state) in steps:
        return steps[(phase, state)]
    if phase == "finish" and state == IDLE and finished_before:
        return []  # a rerun of a finish that completed: the servers may still need converging
    refusals = {
        ("start", SWITCHED): "a rotation is switched but not finished: run finish (or rollback) first",
        ("switch", IDLE): "switch without start: no next key to switch to (run start first)",
        ("finish", STARTED): "finish before switch: the next key does not sign yet (run switch first)",
        ("finish", IDLE): "no rotation to finish (run start, then switch)",
        ("rollback", IDLE): ("nothing to roll back: no rotation in progress (after finish the old key "
                             "is revoked; start a new rotation instead)"),
    }
    raise FleetcaError("phase %s: %s" % (phase, refusals[(phase, state)]))


def trusted_keys(slots, extra_keys=(), extra_field="extra_keys"):
    """The key lines to trust: the current key, the next or previous one, then the extra keys
    (each checked), without repeats. Empty when there is no CA key yet."""
    lines = [slots[slot].to_line() for slot in ("current", "next", "previous") if slots.get(slot) is not None]
    seen = set(keys.parse_public_key("key", line).blob for line in lines)
    for index, line in enumerate(extra_keys):
        key = keys.parse_public_key("%s[%d]" % (extra_field, index), str(line).strip())
        if key.blob not in seen:
            seen.add(key.blob)
            lines.append(key.to_line())
    return lines


def read_missed(path):
    """The record of the hosts the last run of a phase of the CA key at `path` missed:
    {"phase": ..., "hosts": [...]}, or None when every host caught up."""
    content = files.read_if_exists(path + MISSED_SUFFIX)
    if content is None:
        return None
    try:
        record = json.loads(content.decode("utf-8"))
        return {"phase": str(record["phase"]), "hosts": [str(host) for host in record["hosts"]]}
    except (ValueError, KeyError, TypeError):
        raise FleetcaError("%s%s is not a record of missed hosts (remove it once every host caught up)"
                           % (path, MISSED_SUFFIX))


def missed_record(phase, hosts):
    """The file content that records `hosts` missed by `phase`, or None (no file) when none was."""
    if not hosts:
        return None
    return (json.dumps({"phase": phase, "hosts": sorted(set(hosts))}, sort_keys=True) + "\n").encode("utf-8")


def missed_refusal(record, phase):
    """Why `phase` must wait: the last run of another phase missed hosts (a rerun of that same
    phase converges them); None when it need not."""
    if record is None or not record["hosts"] or record["phase"] == phase:
        return None
    return ("phase %s: the %s phase did not reach %s yet; rerun %s until it does, then %s"
            % (phase, record["phase"], ", ".join(record["hosts"]), record["phase"], phase))


def still_valid(records, now):
    """The issuance records whose certificate can still log in at `now` (sshd's rule:
    valid_after <= now < valid_before)."""
    return [record for record in records if record.valid_after <= now < record.valid_before]


def finish_refusal(valid_records, previous_line):
    """Why finish must wait while certificates of the previous key are still valid, naming them."""
    named = ", ".join("%s (serial %d)" % (record.key_id, record.serial)
                      for record in valid_records[:NAMED_CERTIFICATES])
    more = len(valid_records) - NAMED_CERTIFICATES
    return ("phase finish: the issuance log holds %d still-valid certificate%s of the previous key %s: %s%s. "
            "Wait until they are renewed by the new key and expired, revoke them, or set "
            "fleetca_ssh_rotate_force: true to cut them off now"
            % (len(valid_records), "" if len(valid_records) == 1 else "s", previous_line, named,
               " and %d more" % more if more > 0 else ""))


def host_finish_refusal(presented_signers, previous):
    """Why finish of a host CA rotation must wait: the servers (name -> the CA key lines that
    signed the host certificates it presents) still presenting a certificate of `previous`;
    None when none is. Finishing then would make clients refuse those servers."""
    stale = sorted(host for host, signers in presented_signers.items()
                   if any(keys.parse_public_key("presented_signers[%s]" % host, line) == previous
                          for line in signers))
    if not stale:
        return None
    return ("phase finish: %d server%s still present%s a host certificate of the previous host CA key %s: %s. "
            "Run the switch phase again (it re-signs their host certificates) and then finish"
            % (len(stale), "" if len(stale) == 1 else "s", "s" if len(stale) == 1 else "",
               previous.to_line(), ", ".join(stale)))


# --- the request of playbook fleetca.ssh.rotate ---------------------------------------------

REQUEST_PREFIX = "fleetca_ssh_rotate_"
CAS = ("user", "host")


def rotate_request(variables):
    """The rotation playbook fleetca.ssh.rotate was asked for, from every variable whose name
    starts with fleetca_ssh_rotate_: {ca, phase, force}. A typo, a missing or unknown CA or phase
    fails here, naming the variable, before anything changes."""
    reject_unknown(variables, "rotate", [REQUEST_PREFIX + name for name in ("ca", "force", "phase")])
    ca = variables.get(REQUEST_PREFIX + "ca")
    if ca not in CAS:
        raise FleetcaError("%sca must be user or host (which CA to rotate), not %r" % (REQUEST_PREFIX, ca))
    requested = variables.get(REQUEST_PREFIX + "phase")
    if requested not in PHASES:
        raise FleetcaError("%sphase must be one of %s (in that order; rollback after start or switch), not %r"
                           % (REQUEST_PREFIX, ", ".join(PHASES), requested))
    force = variables.get(REQUEST_PREFIX + "force", False)
    if force not in (True, False, "true", "false", "True", "False", "yes", "no"):
        raise FleetcaError("%sforce must be true or false, not %r" % (REQUEST_PREFIX, force))
    return {"ca": ca, "phase": requested, "force": force in (True, "true", "True", "yes"),
            "converge": converge_marks(ca, requested)}


def converge_marks(ca, phase):
    """The hosts a phase must reach, as {group, fact}: each host of the group that the phase
    converged sets the fact; the playbook names the others and fails."""
    servers, clients = "ssh_servers", "ssh_clients"
    if ca == "user":
        marks = [(servers, "fleetca_ssh_user_ca_trust_rolled_out")]
        if phase == "finish":
            marks.append((servers, "fleetca_ssh_krl_rolled_out"))  # the master KRL revokes the old key
    elif phase == "start":
        marks = [(clients, "fleetca_ssh_host_ca_trust_rolled_out")]
    else:
        # switch and rollback re-sign the host certificates; finish rolls out the KRL
        server_fact = "fleetca_ssh_krl_rolled_out" if phase == "finish" else "fleetca_ssh_host_certs_rolled_out"
        marks = [(servers, server_fact), (clients, "fleetca_ssh_host_ca_trust_rolled_out")]
    return [{"group": group, "fact": fact} for group, fact in marks]


def missed_hosts(request, groups, hostvars):
    """The hosts the phase of `request` did not converge: those of each mark's group without the
    mark's fact, each once, in inventory order."""
    missed = []
    for mark in request["converge"]:
        for host in groups.get(mark["group"]) or []:
            if host not in missed and mark["fact"] not in hostvars[host]:
                missed.append(host)
    return missed
