# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet's certificate state, as playbook fleetca.ssh.report shows it: its request, each
server's record, the fleet's JSON and the table printed from it.

An expired, expiring or misnamed host certificate makes clients fall back to a TOFU prompt
without saying why; a KRL behind the master lets a revoked certificate in; a trust list that
differs from the CA's lets an unknown CA in or locks a rotated one out. The report names each.

Standard library only (the filters import it on the controller).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

from ansible_collections.fleetca.ssh.plugins.module_utils import certs, keys
from ansible_collections.fleetca.ssh.plugins.module_utils.playbook_vars import reject_unknown
from ansible_collections.fleetca.ssh.plugins.module_utils.server_plan import CERT_FILE_SUFFIX, host_principals
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import UINT64_MAX, FleetcaError

PREFIX = "fleetca_ssh_report_"
NAMES = ("expiring_within", "dest")
DEFAULT_EXPIRING_WITHIN = "+14d"
# Columns of the table's server rows and of its expiring certificates.
SERVER_COLUMNS = ("SERVER", "HOST KEY", "VALID UNTIL", "LEFT", "KRL", "USER CA")
EXPIRING_COLUMNS = ("SERIAL", "TYPE", "KEY ID", "PRINCIPALS", "VALID UNTIL", "LEFT", "REQUESTER", "REVOKED")
# Marks a cell or a line that needs the operator's attention.
FLAG = "!!"


# --- the request ----------------------------------------------------------------------------

def accepted_names():
    return sorted(PREFIX + name for name in NAMES)


def report_request(variables, cwd=None):
    """{expiring_within, expiring_within_seconds, dest} from every variable whose name starts with
    fleetca_ssh_report_. `dest` (null: no JSON file) is made absolute against `cwd`, the
    directory ansible-playbook was started from."""
    reject_unknown(variables, "report", accepted_names())
    within = variables.get(PREFIX + "expiring_within")
    within = DEFAULT_EXPIRING_WITHIN if within is None or within == "" else within
    seconds = certs.parse_duration(PREFIX + "expiring_within", within)
    dest = variables.get(PREFIX + "dest")
    if dest is not None and not isinstance(dest, str):
        raise FleetcaError("%sdest must be a path on the controller, not %r" % (PREFIX, dest))
    if dest:
        base = cwd if cwd is not None else os.getcwd()
        dest = os.path.join(base, os.path.expanduser(dest.strip()))
    return {"expiring_within": str(within), "expiring_within_seconds": seconds, "dest": dest or None}


# --- one server -----------------------------------------------------------------------------

def _blobs(field, lines):
    """{key blob: fingerprint} of key lines (comments and blank lines skipped)."""
    found = {}
    for index, line in enumerate(lines):
        line = str(line).strip()
        if line and not line.startswith("#"):
            key = keys.parse_public_key("%s[%d]" % (field, index), line)
            found[key.blob] = key.fingerprint
    return found


def _effective(probe, option):
    """The value `sshd -T` reports for `option` (lower case), None when sshd -T failed."""
    lines = probe.get("effective")
    if lines is None:
        return None
    for line in lines:
        name, _sep, value = line.partition(" ")
        if name == option:
            return value.strip()
    return "none"


def _certificate_problems(host, key, cert, expected, probe):
    problems = []
    try:
        if key.get("public_key") and keys.parse_public_key(key["path"] + ".pub", key["public_key"]) != cert.public_key:
            problems.append("certifies another key than %s.pub" % key["path"])
    except FleetcaError as exc:
        problems.append(str(exc))
    host_ca_keys = _blobs("host CA keys", expected.get("host_ca_keys") or [])
    if host_ca_keys and cert.signature_key.blob not in host_ca_keys:
        problems.append("signed by %s, not a host CA key the CA host publishes" % cert.signature_key.fingerprint)
    missing = [name for name in host_principals(host, probe, expected.get("principals_extra") or [])
               if name not in cert.principals]
    if missing:
        problems.append("does not name %s (principals: %s)" % (", ".join(missing), ", ".join(cert.principals)))
    return problems


def host_certificate(host, key_type, key, expected, probe, now):
    """The record of the certificate of one host key (`key_type`: the probe's name, `ed25519`)."""
    path = key["path"] + CERT_FILE_SUFFIX
    try:
        cert = certs.parse_certificate(path, key["certificate"])
    except FleetcaError as exc:
        return {"path": path, "host_key": key_type, "key_type": None, "valid_before": None, "seconds_left": 0,
                "signing_ca_fingerprint": None, "problems": [str(exc)]}
    problems = _certificate_problems(host, key, cert, expected, probe)
    if cert.valid_after > now:
        problems.append("not valid before %s" % certs.format_time(cert.valid_after))
    return {"path": path, "host_key": key_type, "key_type": cert.key_type, "key_id": cert.key_id, "serial": cert.serial,
            "principals": cert.principals, "valid_after": certs.format_time(cert.valid_after),
            "valid_before": certs.format_time(cert.valid_before), "seconds_left": cert.seconds_left(now),
            "signing_ca_fingerprint": cert.signature_key.fingerprint, "problems": problems}


def host_certificates(host, probe, expected, now):
    """(certificate records, problems of keys without one), in the probe's key type order."""
    records, problems = [], []
    for key_type in sorted(probe.get("host_keys") or {}):
        key = probe["host_keys"][key_type]
        if not key.get("public_key"):
            problems.append("no %s host key at %s" % (key_type, key["path"]))
        elif not key.get("certificate"):
            problems.append("%s host key has no certificate (%s%s): clients fall back to a host key prompt"
                            % (key_type, key["path"], CERT_FILE_SUFFIX))
        else:
            records.append(host_certificate(host, key_type, key, expected, probe, now))
        if key.get("staged_files"):
            problems.append("%s host key rotation left unfinished: %s (rerun fleetca.ssh.enroll)"
                            % (key_type, ", ".join(key["staged_files"])))
    return records, problems


def krl_state(krl, expected, probe):
    """The installed KRL against the master: {krl_version, krl_sha256, krl_current}, problems."""
    path = expected["revoked_keys"]
    master = expected.get("krl_master") or {}
    state = {"krl_path": path, "krl_version": krl.get("krl_version"), "krl_sha256": krl.get("sha256"),
             "krl_current": bool(master.get("sha256")) and krl.get("sha256") == master.get("sha256")}
    problems = []
    reads = _effective(probe, "revokedkeys")
    if reads is not None and reads != path:
        problems.append("sshd reads RevokedKeys %s, not %s" % (reads, path))
    if krl.get("sha256") is None:
        problems.append("no readable KRL at %s (%s)" % (path, krl.get("msg") or "missing"))
    elif not state["krl_current"] and master.get("sha256"):
        behind = master.get("version") is not None and (krl.get("krl_version") or 0) < int(master["version"])
        problems.append("KRL version %s %s the master's %s" % (
            krl.get("krl_version"), "is behind" if behind else "differs from", master.get("version")))
    return state, problems


def trust_state(probe, expected):
    """Whether the server trusts exactly the expected user CA keys: (ok, problems)."""
    path = expected["trusted_user_ca_keys_file"]
    problems = []
    reads = _effective(probe, "trustedusercakeys")
    if reads is not None and reads != path:
        problems.append("sshd reads TrustedUserCAKeys %s, not %s" % (reads, path))
    state = (probe.get("files") or {}).get(path)
    if not state or state.get("content") is None:
        return False, problems + ["no trusted user CA keys file %s" % path]
    try:
        installed = _blobs(path, state["content"].splitlines())
    except FleetcaError as exc:
        return False, problems + [str(exc)]
    wanted = _blobs("user CA keys", expected.get("user_ca_keys") or [])
    extra = sorted(fingerprint for blob, fingerprint in installed.items() if blob not in wanted)
    missing = sorted(fingerprint for blob, fingerprint in wanted.items() if blob not in installed)
    if extra:
        problems.append("trusts user CA keys the CA host does not publish: %s" % ", ".join(extra))
    if missing:
        problems.append("does not trust the published user CA keys %s" % ", ".join(missing))
    return not problems, problems


def server_report(probe, host, krl, expected):
    """One server's record from its probe (module fleetca.ssh.sshd_info) and its installed KRL
    (module fleetca.ssh.krl_info, entries=false; a failed read has no sha256). `expected`:
    user_ca_keys, host_ca_keys, krl_master ({version, sha256}), trusted_user_ca_keys_file,
    revoked_keys, principals_extra."""
    now = int(probe.get("probed_at") or time.time())
    certificates, problems = host_certificates(host, probe, expected, now)
    record, krl_problems = krl_state(krl, expected, probe)
    trusted, trust_problems = trust_state(probe, expected)
    record.update(trusted_user_ca_ok=trusted, trusted_user_ca_keys_file=expected["trusted_user_ca_keys_file"],
                  host_certificates=certificates, probed_at=certs.format_time(now),
                  problems=problems + krl_problems + trust_problems)
    return record


# --- the fleet ------------------------------------------------------------------------------

def span_text(seconds):
    """A time left, coarse: `364d 23h`, `5h 02m`, `59m`, `forever`, `expired`."""
    if seconds >= UINT64_MAX:
        return "forever"
    if seconds <= 0:
        return "expired"
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return "%dd %02dh" % (days, hours)
    if hours:
        return "%dh %02dm" % (hours, minutes)
    return "%dm" % max(minutes, 1)


def _mark_expiry(record, within):
    """Flags each host certificate expired or expiring; the server's problems name them, then
    each certificate's own problems."""
    expiry, own = [], []
    for cert in record["host_certificates"]:
        left = cert["seconds_left"]
        readable = cert["valid_before"] is not None  # an unreadable certificate has its own problem
        cert["expired"] = readable and left <= 0
        cert["expiring"] = readable and 0 < left <= within
        if cert["expired"] or cert["expiring"]:
            what = "expired" if cert["expired"] else "expires in %s" % span_text(left)
            expiry.append("host certificate %s %s (valid before %s)" % (cert["path"], what, cert["valid_before"]))
        own.extend("%s: %s" % (cert["path"], problem) for problem in cert["problems"])
    record["problems"] = expiry + own + record["problems"]


def fleet_report(servers, master, expiring, unreachable, request, now=None):
    """The report's JSON: master KRL, servers (inventory name -> server_report with the expiry
    flags of `request`'s expiring_within), the CA's expiring certificates (issued_info records),
    the servers that could not be read, and when."""
    within = request["expiring_within_seconds"]
    reported = {}
    for name in sorted(servers):
        record = dict(servers[name], host_certificates=[dict(cert) for cert in servers[name]["host_certificates"]],
                      problems=list(servers[name]["problems"]))
        _mark_expiry(record, within)
        reported[name] = record
    now = int(now if now is not None else time.time())
    return {"generated": certs.format_time(now), "generated_epoch": now,
            "expiring_within": request["expiring_within"], "expiring_within_seconds": within,
            "master": {"krl_version": master.get("version"), "sha256": master.get("sha256")},
            "servers": reported, "expiring": list(expiring), "unreachable": sorted(unreachable)}


# --- the table ------------------------------------------------------------------------------

def columns(rows):
    """Rows of cells as lines, each column as wide as its widest cell."""
    widths = [max(len(str(row[index])) for row in rows) for index in range(len(rows[0]))]
    return [("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths))).rstrip() for row in rows]


def _krl_cell(record, master):
    if record["krl_sha256"] is None:
        return "%s missing" % FLAG
    if record["krl_current"]:
        return "v%s current" % record["krl_version"]
    return "%s v%s, master v%s" % (FLAG, record["krl_version"], master.get("krl_version"))


def _cert_cells(cert):
    left = span_text(cert["seconds_left"])
    if cert["expired"] or cert["expiring"] or cert["problems"]:
        left = "%s %s" % (FLAG, left)
    return [cert["host_key"], cert["valid_before"] or "?", left]


def server_rows(name, record, master):
    krl = _krl_cell(record, master)
    trust = "ok" if record["trusted_user_ca_ok"] else "%s mismatch" % FLAG
    certificates = record["host_certificates"] or [None]
    rows = []
    for cert in certificates:
        cells = _cert_cells(cert) if cert else ["%s none" % FLAG, "-", "-"]
        rows.append([name] + cells + [krl, trust])
    return rows


def report_lines(report):
    """The report as lines of plain text: a summary, one row per host certificate, the problems,
    the CA's expiring certificates and the servers that could not be read."""
    master = report["master"]
    servers = report["servers"]
    troubled = [name for name in servers if servers[name]["problems"]]
    lines = ["fleetca.ssh.report at %s: %d server%s, master KRL version %s; %d with problems, %d unreachable; "
             "%d certificate%s expiring within %s" % (
                 report["generated"], len(servers), "" if len(servers) == 1 else "s", master.get("krl_version"),
                 len(troubled), len(report["unreachable"]), len(report["expiring"]),
                 "" if len(report["expiring"]) == 1 else "s", report["expiring_within"])]
    rows = [list(SERVER_COLUMNS)]
    for name in sorted(servers):
        rows.extend(server_rows(name, servers[name], master))
    rows.extend([name, "%s unreachable" % FLAG, "-", "-", "-", "-"] for name in report["unreachable"])
    lines.extend(columns(rows) if len(rows) > 1 else ["No server in group ssh_servers."])
    if troubled:
        lines.append("Problems:")
        for name in sorted(troubled):
            lines.extend("%s %s: %s" % (FLAG, name, problem) for problem in servers[name]["problems"])
    lines.extend(expiring_lines(report))
    if report["unreachable"]:
        lines.append("%s not reported (unreachable or failed): %s" % (FLAG, ", ".join(report["unreachable"])))
    return lines


def expiring_lines(report):
    expiring = report["expiring"]
    if not expiring:
        return ["No certificate in the issuance log expires within %s." % report["expiring_within"]]
    rows = [list(EXPIRING_COLUMNS)]
    for record in expiring:
        rows.append([record["serial"], record["cert_type"], record["key_id"], ",".join(record["principals"]),
                     record["valid_before"], span_text(record["valid_before_epoch"] - report["generated_epoch"]),
                     record.get("requester") or "-", "yes" if record.get("revoked") else "no"])
    return ["Certificates in the issuance log expiring within %s:" % report["expiring_within"]] + columns(rows)
