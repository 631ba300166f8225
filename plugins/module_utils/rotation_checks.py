# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks that end each phase of a CA rotation, host by host (playbook fleetca.ssh.rotate).

Each takes what a host reads back after the phase wrote it, and returns None when the host holds
the phase's state, or one sentence naming the host and what it holds instead. Keys are compared by
their key material, never by their comment.

- a server's TrustedUserCAKeys file against the user CA trust set (user CA);
- the CA keys that signed the host certificates a server presents, and that sshd has loaded
  them (host CA: switch and rollback re-sign them);
- a client's managed known_hosts block against the host CA trust set and the retired host CA
  keys (host CA).

Standard library only (the filters import it on the controller).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.fleetca.ssh.plugins.module_utils import certs, client_trust, keys
from ansible_collections.fleetca.ssh.plugins.module_utils.server_plan import CERT_FILE_SUFFIX
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def _materials(field, lines):
    return sorted(set(keys.parse_public_key(field, line).blob for line in lines))


def _names(field, lines):
    return ", ".join(keys.parse_public_key(field, line).fingerprint for line in lines) or "no key"


def key_lines(text):
    """The non-empty, non-comment lines of a public key list file."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def trusted_user_ca_keys_problem(host, path, installed_text, expected):
    """A server's TrustedUserCAKeys file (its text) against the published user CA trust set."""
    installed = key_lines(installed_text)
    try:
        same = _materials(path, installed) == _materials("user CA trust set", expected)
    except FleetcaError as exc:
        return "%s: %s" % (host, exc)
    if same:
        return None
    return ("%s: %s trusts %s, the CA host publishes %s"
            % (host, path, _names(path, installed), _names("user CA trust set", expected)))


def _host_certificates(probe):
    """(certificate path, parsed certificate or None, parse error or None) of each host key in the
    probe's answer (module fleetca.ssh.sshd_info) that has a certificate, in key type order; and
    the paths of the host keys without one."""
    found, missing = [], []
    for key_type in sorted(probe.get("host_keys") or {}):
        key = probe["host_keys"][key_type]
        path = key["path"] + CERT_FILE_SUFFIX
        if not key.get("certificate"):
            missing.append(path)
            continue
        try:
            found.append((path, certs.parse_certificate(path, key["certificate"]), None))
        except FleetcaError as exc:
            found.append((path, None, str(exc)))
    return found, missing


def presented_signers(probe):
    """The public key lines of the CA keys that signed the host certificates in the probe's answer,
    distinct, in key type order."""
    lines = []
    for path, cert, error in _host_certificates(probe)[0]:
        if error:
            raise FleetcaError(error)
        line = cert.signature_key.to_line()
        if line not in lines:
            lines.append(line)
    return lines


def host_certificates_problem(host, probe, signer):
    """A server's host certificates against the host CA key `signer` that must have signed every
    one of them, as loaded by the running sshd."""
    expected = keys.parse_public_key("host CA key", signer)
    found, missing = _host_certificates(probe)
    problems = [error or "%s is signed by %s" % (path, cert.signature_key.fingerprint)
                for path, cert, error in found if error or cert.signature_key != expected]
    problems += ["no certificate at %s" % path for path in missing]
    not_loaded = [path for path in probe.get("not_loaded") or [] if path.endswith(CERT_FILE_SUFFIX)]
    if not_loaded:
        problems.append("sshd has not loaded %s yet" % ", ".join(not_loaded))
    if not problems:
        return None
    return "%s: %s (the host CA key is %s)" % (host, "; ".join(problems), expected.fingerprint)


def managed_block(text):
    """The lines of the fleetca.ssh.client managed block in a known_hosts file's text, or None
    when the file has no such block."""
    begin = client_trust.KNOWN_HOSTS_MARKER.format(mark="BEGIN")
    end = client_trust.KNOWN_HOSTS_MARKER.format(mark="END")
    lines = text.splitlines()
    if begin not in lines or end not in lines[lines.index(begin):]:
        return None
    start = lines.index(begin)
    return lines[start + 1:lines.index(end, start)]


def _marked(block, marker):
    """The key lines after `marker` (@cert-authority, @revoked) in the block: TYPE BASE64 [COMMENT]."""
    found = []
    for line in block:
        parts = line.split()
        if len(parts) >= 4 and parts[0] == marker:
            found.append(" ".join(parts[2:]))
    return found


def known_hosts_problem(host, path, text, trusted, revoked):
    """A client's known_hosts (its text) against the host CA trust set `trusted` (every
    @cert-authority line, and no other) and the keys `revoked` (each in an @revoked line)."""
    block = managed_block(text)
    if block is None:
        return "%s: %s has no fleetca.ssh managed block" % (host, path)
    written = _marked(block, "@cert-authority")
    problems = []
    if _materials(path, written) != _materials("host CA trust set", trusted):
        problems.append("trusts %s, the CA host publishes %s" % (_names(path, written), _names("host CA trust set", trusted)))
    listed = set(_materials(path, _marked(block, "@revoked")))
    unrevoked = [line for line in revoked if keys.parse_public_key("retired host CA key", line).blob not in listed]
    if unrevoked:
        problems.append("has no @revoked line for %s" % _names("retired host CA key", unrevoked))
    if not problems:
        return None
    return "%s: %s %s" % (host, path, "; ".join(problems))
