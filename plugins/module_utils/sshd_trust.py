# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The files sshd's certificate trust reads, planned and installed in one pass on a server.

Host certificates (HostCertificate), the trusted user CA keys (TrustedUserCAKeys), the KRL
(RevokedKeys) and one principals file per user (AuthorizedPrincipalsFile). `plan` checks every
input and compares it with the files in place, writing nothing; `apply` then writes each
differing file atomically (0644, and root:root when run as root). One module call does what
would otherwise be one `copy` per file, each with its own round trips.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import os
import re
import stat

from ansible_collections.fleetca.ssh.plugins.module_utils.certs import parse_certificate
from ansible_collections.fleetca.ssh.plugins.module_utils.files import (
    check_writable_path, fsync_directory, read_if_exists, write_atomic)
from ansible_collections.fleetca.ssh.plugins.module_utils.keys import parse_public_key
from ansible_collections.fleetca.ssh.plugins.module_utils.krl import parse_krl
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError, WireError

FILE_MODE = 0o644
PRIVATE_KEY_MODE = 0o600
HOST_CERT_SUFFIX = "-cert.pub"
DIR_MODE = 0o755
# What sshd accepts as a user name in AuthorizedPrincipalsFile's %u, as a plain file name.
USER_NAME = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]*[$]?$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def is_user_name(name):
    """Whether `name` can be a principals file's name: a user name, never `.` or `..`."""
    return bool(USER_NAME.match(name)) and name not in (".", "..")


class Change:
    """One file to write, directory to create, file to remove or file to move into place (from
    `source`, with `mode`); `before`/`after` for --diff."""

    def __init__(self, action, path, content=None, before="", after="", source=None, mode=FILE_MODE):
        self.action = action  # "write", "mkdir", "remove" or "move"
        self.path = path
        self.content = content
        self.before = before
        self.after = after
        self.source = source
        self.mode = mode

    def diff(self):
        return {"before_header": self.path, "after_header": self.path,
                "before": self.before, "after": self.after}


def wanted_owner():
    """root:root when running as root; otherwise the files stay the caller's."""
    return (0, 0) if os.geteuid() == 0 else None


def _state(path):
    try:
        return os.lstat(path)
    except OSError:
        return None


def attributes_differ(mode, ids, wanted_mode, owner):
    """Whether a file's `mode` and `ids` (uid, gid) are not `wanted_mode` and `owner`
    (None: any owner). Also judges what the probe (sshd_probe.file_state) saw."""
    return mode != wanted_mode or (owner is not None and tuple(ids) != tuple(owner))


def _attributes_differ(info, mode, owner):
    return attributes_differ(stat.S_IMODE(info.st_mode), (info.st_uid, info.st_gid), mode, owner)


def _describe_attributes(mode, ids):
    """`mode 0644[, owner 0:0]` for a diff; `ids` None where the module enforces no owner."""
    text = "mode %04o" % mode
    if ids is not None:
        text += ", owner %d:%d" % ids
    return text


def _describe(info, owner):
    """The attributes of a file in place, its owner shown where the module enforces one."""
    ids = (info.st_uid, info.st_gid) if owner is not None else None
    return _describe_attributes(stat.S_IMODE(info.st_mode), ids)


def _read_regular(field, path):
    """(lstat result, bytes) of the file at `path`, (None, None) when absent; refuses a
    missing directory or something that is not a regular file."""
    check_writable_path(field, path)
    info = _state(path)
    if info is None:
        return None, None
    if not stat.S_ISREG(info.st_mode):
        raise FleetcaError("%s: %s is not a regular file" % (field, path))
    return info, read_if_exists(path)


def _file_change(path, info, current, content, describe, owner):
    """A Change writing `content` over `current` (the file's bytes, None when absent), or None
    when the file already is exactly that. `describe(bytes)` gives a content's diff text."""
    if current == content:
        if not _attributes_differ(info, FILE_MODE, owner):
            return None
        return Change("write", path, content, _describe(info, owner),
                      _describe_attributes(FILE_MODE, owner))
    before = "" if current is None else describe(current)
    return Change("write", path, content, before, describe(content))


def plan_file(field, path, content, describe, owner):
    """A Change writing `content` to `path`, or None when the file already is exactly that."""
    info, current = _read_regular(field, path)
    return _file_change(path, info, current, content, describe, owner)


def _text(data):
    return data.decode("utf-8", "replace")


def lines_content(field, lines):
    """The bytes of a file of one entry per line; refuses an entry that would add a line."""
    for index, line in enumerate(lines):
        if not line or "\n" in line or "\r" in line:
            raise FleetcaError("%s[%d] must be one non-empty line" % (field, index))
    return ("\n".join(lines) + "\n").encode("utf-8")


def certificate_content(field, certificate):
    """The bytes of a host certificate file: the certificate line."""
    return lines_content(field, [(certificate or "").strip()])


def user_ca_keys_content(keys):
    """The bytes of the TrustedUserCAKeys file: one key line each."""
    return lines_content("trusted_user_ca_keys.keys", [key.strip() for key in keys])


def principals_content(field, principals):
    """The bytes of one user's principals file: one principal per line; empty for none."""
    lines = [str(item).strip() for item in principals]
    if any("," in item for item in lines):
        raise FleetcaError("%s: a principal cannot contain a comma" % field)
    return lines_content(field, lines) if lines else b""


def _key_description(field, path):
    """`TYPE SHA256:...` of the public key in `path` for a diff, or `(absent)`."""
    text = read_if_exists(path)
    if text is None:
        return "(absent)"
    key = parse_public_key(field, _text(text).strip())
    return "%s %s\n" % (key.key_type, key.fingerprint)


def plan_key_replacement(field, cert_path, staged, certificate):
    """The two moves that put the staged new host key `staged` (private key file, `.pub` beside
    it) in place of the key `cert_path` certifies, or an error naming `field` when the staged key
    is not the one `certificate` certifies (a host key never goes in without its certificate)."""
    if not cert_path.endswith(HOST_CERT_SUFFIX):
        raise FleetcaError("%s.replace_key_from needs %s.path to end in %s (the certificate of host key FILE "
                           "is FILE%s)" % (field, field, HOST_CERT_SUFFIX, HOST_CERT_SUFFIX))
    key_path = cert_path[:-len(HOST_CERT_SUFFIX)]
    for path in (staged, staged + ".pub"):
        info = _state(path)
        if info is None or not stat.S_ISREG(info.st_mode):
            raise FleetcaError("%s.replace_key_from: %s is not a regular file" % (field, path))
    new_key = parse_public_key(field + ".replace_key_from", _text(read_if_exists(staged + ".pub")).strip())
    if new_key != certificate.public_key:
        raise FleetcaError("%s.replace_key_from: %s.pub is not the key that %s.certificate certifies; refusing to "
                           "install a host key without its certificate" % (field, staged, field))
    check_writable_path(field + ".path", key_path)
    before = _key_description(field + ".path", key_path + ".pub")
    after = "%s %s\n" % (new_key.key_type, new_key.fingerprint)
    return [Change("move", key_path, before=before, after=after, source=staged, mode=PRIVATE_KEY_MODE),
            Change("move", key_path + ".pub", before=before, after=after, source=staged + ".pub")]


def plan_host_certificates(entries, owner):
    """The certificates to write, each after the moves of the new host key it certifies."""
    changes = []
    for index, entry in enumerate(entries):
        field = "host_certificates[%d]" % index
        certificate = parse_certificate(field + ".certificate", (entry.get("certificate") or "").strip())
        if entry.get("replace_key_from"):
            changes += plan_key_replacement(field, entry["path"], entry["replace_key_from"], certificate)
        change = plan_file(field + ".path", entry["path"], certificate_content(field, entry.get("certificate")),
                           _text, owner)
        if change:
            changes.append(change)
    return changes


def plan_user_ca_keys(path, keys, owner):
    if not keys:
        raise FleetcaError("trusted_user_ca_keys.keys must name at least one CA public key")
    for index, key in enumerate(keys):
        parse_public_key("trusted_user_ca_keys.keys[%d]" % index, key.strip())
    change = plan_file("trusted_user_ca_keys.path", path, user_ca_keys_content(keys), _text, owner)
    return [change] if change else []


def _krl_summary(version, digest):
    return "KRL version %d, sha256 %s\n" % (version, digest)


def decode_krl(content, sha256):
    """The KRL bytes from base64 `content`, checked against `sha256` and parsed."""
    try:
        data = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise FleetcaError("revoked_keys.content must be base64 (as ansible.builtin.slurp returns it)")
    digest = hashlib.sha256(data).hexdigest()
    if sha256 is not None:
        if not SHA256_HEX.match(sha256):
            raise FleetcaError("revoked_keys.sha256 must be 64 lower-case hex digits")
        if digest != sha256:
            raise FleetcaError("revoked_keys.content has sha256 %s, not the expected %s: the master "
                               "KRL changed while it was read; run again" % (digest, sha256))
    try:
        version = parse_krl(data).version
    except WireError as exc:
        raise FleetcaError("revoked_keys.content is not a KRL sshd could load: %s" % exc)
    return data, version, digest


def plan_krl(path, content, sha256, owner):
    """Install the KRL `content` at `path`; refuse to replace a KRL of a higher version."""
    data, version, digest = decode_krl(content, sha256)
    info, installed = _read_regular("revoked_keys.path", path)
    installed_text = ""
    if installed is not None:
        installed_digest = hashlib.sha256(installed).hexdigest()
        try:
            installed_version = parse_krl(installed).version
        except WireError as exc:  # unreadable: replaced by the given KRL
            installed_text = "unreadable KRL (%s), sha256 %s" % (exc, installed_digest)
        else:
            if installed_version > version:
                raise FleetcaError("revoked_keys: %s has KRL version %d, newer than the given version %d: "
                                   "refusing to roll it back" % (path, installed_version, version))
            installed_text = _krl_summary(installed_version, installed_digest)
    new_text = _krl_summary(version, digest)
    change = _file_change(path, info, installed, data,
                          lambda raw: installed_text if raw is installed else new_text, owner)
    return ([change] if change else []), {"path": path, "krl_version": version, "sha256": digest}


def plan_principals(directory, users, exclusive, owner):
    """One file per user listing their principals; with `exclusive`, remove unlisted users' files."""
    changes = []
    info = _state(directory)
    if info is not None and not stat.S_ISDIR(info.st_mode):
        raise FleetcaError("authorized_principals.directory: %s is not a directory" % directory)
    if info is None:
        check_writable_path("authorized_principals.directory", directory)
        changes.append(Change("mkdir", directory, before="(absent)",
                              after="directory, " + _describe_attributes(DIR_MODE, owner)))
    elif _attributes_differ(info, DIR_MODE, owner):
        changes.append(Change("mkdir", directory, before=_describe(info, owner),
                              after=_describe_attributes(DIR_MODE, owner)))
    for user in sorted(users):
        field = "authorized_principals.users.%s" % user
        if not is_user_name(user):
            raise FleetcaError("authorized_principals.users: %r is not a user name (letters, digits, "
                               "'.', '_', '-'; no slash)" % user)
        if not isinstance(users[user], list):
            raise FleetcaError("%s must be a list of principals" % field)
        content = principals_content(field, users[user])
        path = os.path.join(directory, user)
        if info is None:
            changes.append(Change("write", path, content, "", _text(content)))
            continue
        change = plan_file(field, path, content, _text, owner)
        if change:
            changes.append(change)
    if exclusive and info is not None:
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if name not in users and os.path.isfile(path):
                changes.append(Change("remove", path, before=_text(read_if_exists(path) or b""), after=""))
    return changes


def apply(changes, owner):
    """Carry out planned changes in order (directories first, as planned)."""
    for change in changes:
        if change.action == "mkdir":
            if not os.path.isdir(change.path):
                os.mkdir(change.path, DIR_MODE)
            os.chmod(change.path, DIR_MODE)
            if owner is not None:
                os.chown(change.path, owner[0], owner[1])
        elif change.action == "write":
            write_atomic(change.path, change.content, FILE_MODE, owner)
        elif change.action == "move":
            move_into_place(change.source, change.path, change.mode, owner)
        else:
            os.unlink(change.path)


def move_into_place(source, path, mode, owner):
    """Rename `source` over `path` (atomic: sshd reads the old file or the new one), with `mode`
    and `owner` set before the rename."""
    os.chmod(source, mode)
    if owner is not None:
        os.chown(source, owner[0], owner[1])
    os.rename(source, path)
    fsync_directory(os.path.dirname(os.path.abspath(path)))
