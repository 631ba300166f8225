# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""People's certificates delivered to workstations (fleetca_ssh_client_user_certs), for the
fleetca.ssh.client role, which exposes these through its filters:

1. `check_entries`: the list checked and completed with its defaults, each error naming the field;
2. `probe_lines`: shell lines for the role's one probe (client_trust.probe_command): each listed
   user's passwd entry, public key line, and current certificate with its owner and mode;
3. `deliveries`: from that report, one fleetca.ssh.cert request per entry (the person is the
   login user; the CA host's policy, profiles.py, decides the rest) and where its certificate
   goes, or an error naming the workstation, the user and the field;
4. `batch`: every workstation's requests as one fleetca.ssh.cert call;
5. `installs`: the files one workstation writes, from that call's result.

Whether a certificate must be re-signed (missing, another CA, key or principals, inside the
renew window) is the cert module's decision on the CA host (certs.renewal_reason).
Standard library only, and Python 3.6+.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
from shlex import quote as shell_quote

from ansible_collections.fleetca.ssh.plugins.module_utils import certs, keys
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

FIELD = "fleetca_ssh_client_user_certs"
RENEW_FIELD = "fleetca_ssh_client_user_cert_renew_before"
DEFAULT_RENEW_BEFORE = "+4h"
DEFAULT_PROFILE = "default"
DEFAULT_PUBLIC_KEY_PATH = "~/.ssh/id_ed25519.pub"
ENTRY_KEYS = ("user", "profile", "public_key_path")
CERT_MODE = "0644"

# A login name (Debian's adduser NAME_REGEX, relaxed to upper case and dots).
LOGIN_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*[$]?\Z")
# An absolute path, or one under the user's home (~/...), ending in .pub: no control character.
KEY_PATH = re.compile(r"^(/|~/)[^\x00-\x1f\x7f]*\.pub\Z")
PROFILE_NAME = re.compile(r"^[^\s\x00-\x1f\x7f]+\Z")
# What the probe passes on from a key or certificate file: only a line shaped like a public key,
# so that a file linked to a secret can never reach the probe's output.
KEY_LINE = r"^[a-z0-9@.-]+ [A-Za-z0-9+/]+=*( |$)"
# Read at most this much of a file the user controls.
READ_LIMIT = 65536


def _show(value):
    return json.dumps(value)


# --- 1. the variables ----------------------------------------------------------------------


def check_renew_before(value):
    """The renew window as the cert module takes it (`+4h` when unset)."""
    if value is None:
        return DEFAULT_RENEW_BEFORE
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise FleetcaError("%s must be a duration such as +4h; got %s" % (RENEW_FIELD, _show(value)))
    certs.parse_duration(RENEW_FIELD, value)
    return str(value)


def _check_entry(field, entry):
    if not isinstance(entry, dict):
        raise FleetcaError("%s must be a mapping with %s; got %s" % (field, ", ".join(ENTRY_KEYS), _show(entry)))
    unknown = sorted(set(entry) - set(ENTRY_KEYS))
    if unknown:
        raise FleetcaError("%s: unknown key %s (known: %s)" % (field, ", ".join(unknown), ", ".join(ENTRY_KEYS)))
    user, profile, path = (entry.get(name) for name in ENTRY_KEYS)
    if not isinstance(user, str) or not LOGIN_NAME.match(user):
        raise FleetcaError("%s.user must be a login name on the workstation (letters, digits, '_', '.', '-'); got %s"
                           % (field, _show(user)))
    profile = DEFAULT_PROFILE if profile in (None, "") else profile
    if not isinstance(profile, str) or not PROFILE_NAME.match(profile):
        raise FleetcaError("%s.profile must be the name of a profile of fleetca_ssh_user_cert_profiles; got %s"
                           % (field, _show(profile)))
    path = DEFAULT_PUBLIC_KEY_PATH if path in (None, "") else path
    if not isinstance(path, str) or not KEY_PATH.match(path):
        raise FleetcaError("%s.public_key_path must be an absolute path or one under the user's home (~/...) "
                           "ending in .pub; got %s" % (field, _show(path)))
    return dict(user=user, profile=profile, public_key_path=path)


def check_entries(value):
    """The entries of fleetca_ssh_client_user_certs with their defaults; an entry that would
    write the same certificate file as another is refused."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise FleetcaError("%s must be a list of {user, profile, public_key_path}; got %s" % (FIELD, _show(value)))
    entries, seen = [], {}
    for index, item in enumerate(value):
        field = "%s[%d]" % (FIELD, index)
        entry = _check_entry(field, item)
        target = (entry["user"], entry["public_key_path"])
        if target in seen:
            raise FleetcaError("%s: user %s and public_key_path %s are already in %s[%d] (one certificate per key)"
                               % (field, entry["user"], entry["public_key_path"], FIELD, seen[target]))
        seen[target] = index
        entries.append(entry)
    return entries


# --- 2. the probe ----------------------------------------------------------------------------


def cert_path(key_path):
    """Where OpenSSH looks for the certificate of a key: beside it, `-cert.pub` for `.pub`."""
    return key_path[:-len(".pub")] + "-cert.pub"


def _shell_path(path):
    """`path` as a shell word, `~/` meaning "$home"/ (the user's home from the passwd entry)."""
    if path.startswith("~/"):
        return '"$home"/' + shell_quote(path[2:])
    return shell_quote(path)


def probe_lines(mark, entries):
    """Shell lines (POSIX sh, getent, cut, stat, head, grep, sed) that report, one tagged line
    each, the entries' passwd entries, key lines and certificates (`MARK ucert-TAG INDEX ...`)."""
    lines = []
    for index, entry in enumerate(entries):
        tag = "%s ucert-%%s %d" % (mark, index)
        lines.extend([
            "if entry=$(getent passwd %s); then" % shell_quote(entry["user"]),
            '  echo "%s $entry"' % (tag % "user"),
            "  home=$(printf '%s\\n' \"$entry\" | cut -d: -f6)",
            "  key=%s; cert=%s" % (_shell_path(entry["public_key_path"]), _shell_path(cert_path(entry["public_key_path"]))),
            '  if [ -f "$key" ] && [ ! -L "$key" ]; then',
            "    head -c %d \"$key\" | grep -E '%s' | head -n 1 | sed 's/^/%s /'" % (READ_LIMIT, KEY_LINE, tag % "key"),
            "  fi",
            '  if [ -e "$cert" ] || [ -L "$cert" ]; then',
            "    echo \"%s $(stat -c '%%u %%g %%a %%F' \"$cert\")\"" % (tag % "stat"),
            '    if [ -f "$cert" ] && [ ! -L "$cert" ]; then',
            "      head -c %d \"$cert\" | grep -E '%s' | head -n 1 | sed 's/^/%s /'" % (READ_LIMIT, KEY_LINE, tag % "cert"),
            "    fi",
            "  fi",
            "fi",
        ])
    return lines


def record_probe_line(found, tag, rest):
    """One `ucert-*` line of the probe into `found` (index -> {user, key, stat, cert})."""
    index, dummy, value = rest.partition(" ")
    if not index.isdigit():
        return
    item = found.setdefault(int(index), {})
    name = tag[len("ucert-"):]
    if name == "user" and value.count(":") >= 6:
        item["user"] = value.split(":")
    elif name == "stat":
        item["stat"] = value.split(" ", 3)
    elif name in ("key", "cert"):
        item[name] = value.strip()


# --- 3. one workstation's requests -----------------------------------------------------------


def _home_path(path, home):
    return home.rstrip("/") + path[1:] if path.startswith("~/") else path


def _delivery(field, entry, found, host, renew_before):
    user = entry["user"]
    if "user" not in found:
        raise FleetcaError("%s.user: no user %s on %s, so nothing is signed for it" % (field, _show(user), host))
    uid, gid, home = found["user"][2], found["user"][3], found["user"][5]
    key_path = _home_path(entry["public_key_path"], home)
    if not found.get("key"):
        raise FleetcaError("%s.public_key_path: %s of user %s on %s is missing or holds no public key line, "
                           "so nothing is signed for it" % (field, key_path, user, host))
    key = keys.parse_public_key("%s.public_key_path (%s of user %s on %s)" % (field, key_path, user, host),
                                found["key"])
    current = found.get("cert", "")
    request = dict(person=user, profile=entry["profile"], public_key=key.to_line(), renew_before=renew_before)
    if current:
        request["current_certificate"] = current
    return dict(host=host, user=user, path=cert_path(key_path), owner=user, group=gid, request=request,
                public_key=request["public_key"], current=current, attributes_ok=found.get("stat") == [uid, gid, CERT_MODE[1:], "regular file"])


def deliveries(entries, found, host, renew_before):
    """The certificate requests of one workstation and where each certificate goes.

    `found` is the probe's report (index -> {user, key, stat, cert}). Raises FleetcaError
    naming the workstation, the user and the field for a user that does not exist there or a
    public key file that is missing or not a public key.
    """
    return [_delivery("%s[%d]" % (FIELD, index), entry, found.get(index, {}), host, renew_before)
            for index, entry in enumerate(entries)]


# --- 4. the batch ----------------------------------------------------------------------------


def batch(plans, ca_host, ca_paths, profiles=None, users=None):
    """One fleetca.ssh.cert call for every workstation's deliveries (`plans`: each workstation's
    client plan, with `user_certs`), signed on `ca_host` with the user CA and under its policy.

    Returns ca_key, store, user_cert_profiles, users, requests, and `deliveries` in the order of
    `requests` (the cert module returns its certificates in that order).
    """
    all_deliveries = [item for plan in plans for item in (plan or {}).get("user_certs", [])]
    if all_deliveries and not ca_host:
        raise FleetcaError("fleetca_ssh_ca_host is empty: %s needs the CA host (group ssh_ca) to sign them" % FIELD)
    if all_deliveries and not (ca_paths or {}).get("user_ca_key"):
        raise FleetcaError("fleetca_ssh_ca_host: %s published no CA paths (fact fleetca_ssh_ca_paths): run role "
                           "fleetca.ssh.ca (or its tasks_from: facts) on it in the same run, as fleetca.ssh.trust "
                           "does" % ca_host)
    ca_paths = ca_paths or {}
    return dict(ca_key=ca_paths.get("user_ca_key"), store=ca_paths.get("store"),
                user_cert_profiles=profiles or {}, users=users or {},
                requests=[item["request"] for item in all_deliveries],
                deliveries=[dict((name, value) for name, value in item.items() if name != "request")
                            for item in all_deliveries])


# --- 5. what one workstation writes ----------------------------------------------------------


def installs(signed, all_deliveries, host):
    """The certificate files `host` writes: {path, content, owner, group, mode} for each of its
    certificates that differs from the file there (or whose owner or mode does).

    `signed` is the `certificates` list of the batched fleetca.ssh.cert result, in the order
    of `all_deliveries`. A certificate not returned (check mode: it would be signed) is left
    to the signing task's report.
    """
    if len(signed) != len(all_deliveries):
        raise FleetcaError("the signing call returned %d certificates for %d requests"
                           % (len(signed), len(all_deliveries)))
    writes = []
    for result, delivery in zip(signed, all_deliveries):
        if delivery["host"] != host or not result.get("certificate"):
            continue
        line = result["certificate"].strip()
        cert = certs.parse_certificate("the certificate for %s" % delivery["path"], line)
        if cert.public_key != keys.parse_public_key("the public key", delivery["public_key"]):
            raise FleetcaError("the certificate returned for %s on %s certifies another key" % (delivery["path"], host))
        if line != delivery["current"] or not delivery["attributes_ok"]:
            writes.append(dict(path=delivery["path"], content=line + "\n", owner=delivery["owner"],
                               group=delivery["group"], mode=CERT_MODE))
    return writes
