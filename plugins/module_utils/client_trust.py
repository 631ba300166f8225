# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decisions of the fleetca.ssh.client role, which its filter plugins expose.

1. `check_settings`: the role's variables checked and normalised, each error naming the
   variable (key and revoked key lines end up verbatim in known_hosts: an injected newline or
   `#` would add or hide entries).
2. `probe_command`: one POSIX shell command, run with ansible.builtin.raw (one round trip), that
   reports which OpenSSH client tools the target has, the host key algorithms its ssh lists,
   its /etc/ssh/ssh_config, the known_hosts user's passwd entry, and what people's certificates
   need (client_user_certs.py: each listed user, key and current certificate).
3. `plan`: from the settings and that report, what to install and what to write where.

Standard library only, and Python 3.6+ (it also runs on the controller through the filters).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
from shlex import quote as shell_quote

from ansible_collections.fleetca.ssh.plugins.module_utils import client_user_certs, keys
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

# The role's variables that check_settings reads; None stands for "not set".
VARIABLES = (
    "fleetca_ssh_host_ca_public_key",
    "fleetca_ssh_host_ca_trusted_keys",
    "fleetca_ssh_host_ca_extra_keys",
    "fleetca_ssh_known_hosts_path",
    "fleetca_ssh_known_hosts_user",
    "fleetca_ssh_known_hosts_mode",
    "fleetca_ssh_known_hosts_patterns",
    "fleetca_ssh_revoked_host_keys",
    "fleetca_ssh_host_ca_retired_keys",
    "fleetca_ssh_client_config",
    "fleetca_ssh_client_certificate_file",
    "fleetca_ssh_client_packages",
    "fleetca_ssh_client_user_certs",
    "fleetca_ssh_client_user_cert_renew_before",
)

# The tools the role runs or that a user of the trust needs (`ssh`, and `ssh-keygen -F` to look
# a host up); the packages are installed only when one of them is missing.
TOOLS = ("ssh", "ssh-keygen")

# known_hosts text that ssh reads as a separator or a comment, or that ends the line.
CONTROL_OR_COMMENT = re.compile(r"[\x00-\x1f\x7f#]")
# One known_hosts host pattern: host names, wildcards * and ?, IPv4/IPv6 addresses,
# [host]:port, an optional leading ! (negation). No whitespace, comma (the patterns are
# joined with commas), '#' or control character.
HOST_PATTERN = re.compile(r"^!?[A-Za-z0-9.*?:\[\]_-]+\Z")
# A path or ssh_config token written unquoted: no whitespace, '#', quote or control character.
SSH_CONFIG_TOKEN = re.compile(r'^[^\s#"\x00-\x1f\x7f]+\Z')
ABSOLUTE_PATH = re.compile(r"^/[^\x00-\x1f\x7f]*\Z")
OCTAL_MODE = re.compile(r"^0?[0-7]{3}\Z")

KEY_LINE_RULE = ("one line 'TYPE BASE64 [COMMENT]' with a plain key type (no certificate), without "
                 "newline, NUL, other control character or '#' (surrounding whitespace is ignored)")

SYSTEM_CONFIG = "/etc/ssh/ssh_config"
DROPIN = "/etc/ssh/ssh_config.d/fleetca.conf"
KNOWN_HOSTS_MARKER = "# {mark} fleetca.ssh.client managed block: host CA trust (edits inside are overwritten)"
CONFIG_MARKER = "# {mark} fleetca.ssh.client managed block: host key algorithms"

# HostKeyAlgorithms in order of preference: every certificate algorithm first, then the plain
# ones; only those the target's `ssh -Q HostKeyAlgorithms` lists are written. Left out on
# purpose: ssh-rsa and ssh-rsa-cert-v01@openssh.com (SHA-1 signatures), ssh-dss* (DSA),
# webauthn-* (not a host key algorithm).
HOST_KEY_ALGORITHMS = (
    "ssh-ed25519-cert-v01@openssh.com",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "rsa-sha2-512-cert-v01@openssh.com",
    "rsa-sha2-256-cert-v01@openssh.com",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "rsa-sha2-512",
    "rsa-sha2-256",
)
SNIPPET_HEADER = ("# Prefer host certificates signed by the fleet's host CA (fleetca.ssh.client):\n"
                  "# certificate algorithms first, then plain keys; no SHA-1 ssh-rsa, no DSA.")

# ssh_config lines that open a block: an Include after one applies to that block only.
BLOCK_START = re.compile(r"(?i)\s*(Host|Match)\s")
DROPIN_INCLUDE = re.compile(r"(?i)\s*Include\s+(/etc/ssh/)?ssh_config\.d/\*\.conf\s*$")


def _show(value):
    return json.dumps(value)


# --- 1. the role's variables -----------------------------------------------------------------


def check_key_line(field, value):
    """The public key line `value` (surrounding whitespace dropped) when it is safe to write into
    known_hosts and is a plain key the collection's parser reads; else a FleetcaError naming `field`."""
    if not isinstance(value, str):
        raise FleetcaError("%s must be %s; got %s" % (field, KEY_LINE_RULE, _show(value)))
    line = value.strip()
    parts = line.split(" ", 2)
    if CONTROL_OR_COMMENT.search(line) or len(parts) < 2 or not all(parts[:2]):
        raise FleetcaError("%s must be %s; got %s" % (field, KEY_LINE_RULE, _show(value)))
    try:
        key = keys.parse_public_key("the line", line)
    except FleetcaError as exc:
        raise FleetcaError("%s is not a valid public key (%s): must be %s; got %s"
                           % (field, exc, KEY_LINE_RULE, _show(value)))
    _check_curve_point(field, key, value)
    return line


def _check_curve_point(field, key, value):
    """An ECDSA point must lie on its curve (ssh-keygen refuses one that does not); checked where
    `cryptography` is importable, as on every Ansible controller."""
    if key.family != "ecdsa" or not keys.HAS_CRYPTOGRAPHY:
        return
    try:
        key.to_cryptography()
    except ValueError:
        raise FleetcaError("%s is not a valid public key (its point is not on curve %s); got %s"
                           % (field, key.fields["curve"], _show(value)))


def _check_string_list(field, value, allow_empty, what):
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value) or \
            (not value and not allow_empty):
        raise FleetcaError("%s must be a %slist of %s; got %s"
                           % (field, "" if allow_empty else "non-empty ", what, _show(value)))
    return value


def check_patterns(value):
    field = "fleetca_ssh_known_hosts_patterns"
    _check_string_list(field, value, False, "host pattern strings (e.g. ['*'] or ['*.example.org', '192.0.2.10'])")
    bad = [pattern for pattern in value if not HOST_PATTERN.match(pattern)]
    if bad:
        raise FleetcaError(
            "%s: invalid host pattern(s) %s. A pattern is a host name, IP address or [host]:port with "
            "optional * and ? wildcards and an optional leading !; no whitespace, comma, '#', newline, "
            "NUL or other control character." % (field, ", ".join(_show(pattern) for pattern in bad)))
    return list(value)


def check_revoked_keys(revoked_host_keys, retired_ca_keys):
    """The key lines to write as @revoked: the revoked host keys, then the host CA keys finished
    rotations retired (clients do not read the servers' KRL); checked, trimmed and deduplicated
    (first occurrence kept)."""
    lines = []
    for field, value in (("fleetca_ssh_revoked_host_keys", revoked_host_keys),
                         ("fleetca_ssh_host_ca_retired_keys", retired_ca_keys)):
        _check_string_list(field, value, True, "public key lines (strings)")
        for index, item in enumerate(value):
            line = check_key_line("%s[%d]" % (field, index), item)
            if line not in lines:
                lines.append(line)
    return lines


def check_ca_keys(ca_key, trusted_keys, extra_keys):
    """The host CA key lines to trust, each checked: the current key, the CA host's published
    trust set (the next or previous key during a rotation), the extra keys (a spare CA); one
    line per distinct key, the first occurrence kept."""
    lines = [check_key_line("fleetca_ssh_host_ca_public_key", ca_key)]
    for field, value in (("fleetca_ssh_host_ca_trusted_keys", trusted_keys),
                         ("fleetca_ssh_host_ca_extra_keys", extra_keys)):
        _check_string_list(field, value, True, "public key lines (strings)")
        lines.extend(check_key_line("%s[%d]" % (field, index), item) for index, item in enumerate(value))
    kept, materials = [], set()
    for line in lines:
        material = tuple(line.split(" ", 2)[:2])
        if material not in materials:
            materials.add(material)
            kept.append(line)
    return kept


def check_user(value):
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or not client_user_certs.LOGIN_NAME.match(value):
        raise FleetcaError("fleetca_ssh_known_hosts_user must be a login name (letters, digits, '_', '.', '-'); "
                           "got %s" % _show(value))
    return value


def check_path(value):
    if not isinstance(value, str) or not ABSOLUTE_PATH.match(value):
        raise FleetcaError("fleetca_ssh_known_hosts_path must be an absolute path without control characters; "
                           "got %s" % _show(value))
    return value


def check_mode(value):
    if value is None:
        return None
    if not isinstance(value, str) or not OCTAL_MODE.match(value):
        raise FleetcaError('fleetca_ssh_known_hosts_mode must be an octal mode as a quoted string such as "0644" '
                           "(an unquoted 0644 is the number 420 in YAML); got %s" % _show(value))
    return value


def check_client_config(enabled, certificate_file):
    if not isinstance(enabled, bool):
        raise FleetcaError("fleetca_ssh_client_config must be true or false; got %s" % _show(enabled))
    if not isinstance(certificate_file, str) or not (certificate_file == "" or SSH_CONFIG_TOKEN.match(certificate_file)):
        raise FleetcaError("fleetca_ssh_client_certificate_file must be a path (ssh_config tokens such as ~ and %%d "
                           "allowed) without whitespace, quote, '#' or control character, or \"\"; got %s"
                           % _show(certificate_file))
    return enabled, certificate_file


def check_settings(variables):
    """The role's variables (name -> value, None when unset), checked: the settings the plan uses.

    Raises FleetcaError naming the first variable that is wrong.
    """
    unknown = sorted(set(variables) - set(VARIABLES))
    if unknown:
        raise FleetcaError("unknown settings: %s" % ", ".join(unknown))
    value = dict((name, variables.get(name)) for name in VARIABLES)
    ca_key = value["fleetca_ssh_host_ca_public_key"]
    if ca_key is None:
        raise FleetcaError("fleetca_ssh_host_ca_public_key is required: the host CA's public key line, as the "
                           "fleetca.ssh.ca role sets it")
    settings = dict(
        ca_keys=check_ca_keys(ca_key, value["fleetca_ssh_host_ca_trusted_keys"] or [],
                              value["fleetca_ssh_host_ca_extra_keys"] or []),
        patterns=check_patterns(value["fleetca_ssh_known_hosts_patterns"]),
        revoked=check_revoked_keys(value["fleetca_ssh_revoked_host_keys"],
                                   value["fleetca_ssh_host_ca_retired_keys"] or []),
        user=check_user(value["fleetca_ssh_known_hosts_user"]),
        known_hosts_path=check_path(value["fleetca_ssh_known_hosts_path"]),
        mode=check_mode(value["fleetca_ssh_known_hosts_mode"]),
        packages=list(_check_string_list("fleetca_ssh_client_packages", value["fleetca_ssh_client_packages"],
                                         True, "package names")),
    )
    settings["user_certs"] = client_user_certs.check_entries(value["fleetca_ssh_client_user_certs"])
    settings["user_cert_renew_before"] = client_user_certs.check_renew_before(
        value["fleetca_ssh_client_user_cert_renew_before"])
    settings["client_config"], settings["certificate_file"] = check_client_config(
        value["fleetca_ssh_client_config"], value["fleetca_ssh_client_certificate_file"])
    return settings


# --- 2. the probe ----------------------------------------------------------------------------

PROBE_MARK = "fleetca-probe"


def probe_command(settings):
    """The shell command that reports, one tagged line each, what `plan` needs from the target.

    POSIX sh and the base system only (sed, getent): it runs before anything is installed.
    """
    mark = PROBE_MARK
    lines = [
        "LC_ALL=C; export LC_ALL",
        "for tool in %s; do" % " ".join(TOOLS),
        '  if command -v "$tool" >/dev/null 2>&1; then echo "%s tool $tool"; fi' % mark,
        "done",
        "if command -v ssh >/dev/null 2>&1; then",
        "  ssh -Q HostKeyAlgorithms 2>/dev/null | sed 's/^/%s algorithm /'" % mark,
        "fi",
        "if [ -f %s ]; then" % SYSTEM_CONFIG,
        "  echo '%s config'; sed 's/^/%s config-line /' %s" % (mark, mark, SYSTEM_CONFIG),
        "fi",
        "if [ -e %s ]; then echo '%s dropin'; fi" % (DROPIN, mark),
    ]
    if settings["user"]:
        lines.append("getent passwd %s | sed 's/^/%s user /'" % (shell_quote(settings["user"]), mark))
    lines.extend(client_user_certs.probe_lines(mark, settings["user_certs"]))
    lines.append("echo '%s end'" % mark)
    return "\n".join(lines)


def parse_probe(output):
    """The probe's report: tools found, host key algorithms, ssh_config lines (None when there is
    no such file), whether the drop-in exists, the user's passwd fields (None when unknown), and
    what client_user_certs reads (`user_certs`: entry index -> its findings)."""
    report = dict(tools=[], algorithms=[], config=None, dropin=False, user=None, user_certs={})
    finished = False
    prefix = PROBE_MARK + " "
    for raw_line in output.splitlines():
        line = raw_line.rstrip("\r")  # raw runs with a tty: CRLF line ends
        if not line.startswith(prefix):
            continue  # a login banner or a message on stderr
        tag, dummy, rest = line[len(prefix):].partition(" ")
        if tag == "tool":
            report["tools"].append(rest)
        elif tag == "algorithm":
            report["algorithms"].append(rest.strip())
        elif tag == "config":
            report["config"] = []
        elif tag == "config-line" and report["config"] is not None:
            report["config"].append(rest)
        elif tag == "dropin":
            report["dropin"] = True
        elif tag == "user" and rest.count(":") >= 6:
            report["user"] = rest.split(":")
        elif tag.startswith("ucert-"):
            client_user_certs.record_probe_line(report["user_certs"], tag, rest)
        elif tag == "end":
            finished = True
    if not finished:
        raise FleetcaError("the probe of the client did not finish; its output was: %s" % output[-2000:])
    return report


# --- 3. the plan -----------------------------------------------------------------------------


def ssh_config_includes_dropins(config_lines):
    """Whether ssh_config includes ssh_config.d/*.conf before its first Host or Match block,
    where a drop-in applies to every host (Debian's ssh_config does, since OpenSSH 8.2)."""
    for line in config_lines:
        if BLOCK_START.match(line):
            return False
        if DROPIN_INCLUDE.match(line):
            return True
    return False


def known_hosts_target(settings, report, host):
    """Where the managed block goes: path, owner, group, mode, and the ~/.ssh to create ('' for none)."""
    user = settings["user"]
    if not user:
        return dict(path=settings["known_hosts_path"], owner="root", group="root",
                    mode=settings["mode"] or "0644", ssh_dir="")
    entry = report["user"]
    if entry is None:
        raise FleetcaError("fleetca_ssh_known_hosts_user: no user %s on %s" % (_show(user), host))
    gid, home = entry[3], entry[5]
    return dict(path=home + "/.ssh/known_hosts", owner=user, group=gid, mode=settings["mode"] or "0600",
                ssh_dir=home + "/.ssh")


def known_hosts_block(settings):
    patterns = ",".join(settings["patterns"])
    lines = ["@cert-authority %s %s" % (patterns, ca_key) for ca_key in settings["ca_keys"]]
    lines.extend("@revoked * %s" % line for line in settings["revoked"])
    return "\n".join(lines)


def ssh_config_snippet(settings, algorithms):
    """The snippet's text (no final newline): the preferred algorithms the target's ssh lists."""
    listed = set(algorithms)
    lines = [SNIPPET_HEADER, "HostKeyAlgorithms " + ",".join(a for a in HOST_KEY_ALGORITHMS if a in listed)]
    if settings["certificate_file"]:
        lines.append("CertificateFile " + settings["certificate_file"])
    return "\n".join(lines)


def client_config_plan(settings, report):
    """What happens to the drop-in and to the managed block in ssh_config.

    `write_dropin` / `write_block`: the snippet to write there, or None; `remove_dropin` /
    `remove_block`: whether a copy in the place not in use must go.
    """
    config = report["config"]
    use_dropin = ssh_config_includes_dropins(config or [])
    snippet = ssh_config_snippet(settings, report["algorithms"]) if settings["client_config"] else None
    block_begin = CONFIG_MARKER.replace("{mark}", "BEGIN")
    return dict(
        write_dropin=snippet if use_dropin else None,
        write_block=None if use_dropin else snippet,
        remove_dropin=report["dropin"] and not (snippet is not None and use_dropin),
        remove_block=block_begin in (config or []) and not (snippet is not None and not use_dropin),
    )


def missing_tools(report):
    return [tool for tool in TOOLS if tool not in report["tools"]]


def plan(probe_output, settings, host, check_mode=False, installed=False):
    """Everything the role does on `host`, decided from its probe output and the settings.

    `install`: the packages to install (all of them, when ssh or ssh-keygen is missing; none
    otherwise, so a workstation without a package mirror is never asked to reach one).
    `installed`: this is the probe after installing them, so a tool still missing is an error.
    `user_certs`: the people's certificates to request for this host (client_user_certs.deliveries).
    In check mode, with the tools not installed yet, the ssh_config steps are left out
    (`client_config` is None): what they need to know comes from the ssh to be installed.
    """
    report = parse_probe(probe_output)
    missing = missing_tools(report)
    if missing and (installed or not settings["packages"]):
        raise FleetcaError(
            "%s not found on %s%s; fleetca_ssh_client_packages must name the packages that provide them"
            % (" and ".join(missing), host,
               " after installing %s" % ", ".join(settings["packages"]) if installed else ""))
    skip_config = bool(missing) and check_mode and "ssh" in missing
    return dict(
        install=settings["packages"] if missing else [],
        user_certs=client_user_certs.deliveries(settings["user_certs"], report["user_certs"], host,
                                                settings["user_cert_renew_before"]),
        known_hosts=dict(known_hosts_target(settings, report, host), block=known_hosts_block(settings),
                         marker=KNOWN_HOSTS_MARKER),
        client_config=None if skip_config else dict(client_config_plan(settings, report), dropin=DROPIN,
                                                    system_config=SYSTEM_CONFIG, marker=CONFIG_MARKER),
    )
