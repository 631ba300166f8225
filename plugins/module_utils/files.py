# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Atomic file writes shared by the modules: temp file beside the target, fsync, rename."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile

from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def check_writable_path(field, path):
    """Fail before any work when `path` cannot be written (missing directory, a directory)."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FleetcaError("%s: directory %s does not exist" % (field, directory))
    if os.path.isdir(path):
        raise FleetcaError("%s: %s is a directory" % (field, path))


def identity(path):
    """What changes whenever `path` is replaced or rewritten (None when it does not exist)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


def read_if_exists(path):
    """The file's bytes, or None when it does not exist."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        if not os.path.exists(path):
            return None
        raise FleetcaError("cannot read %s: %s" % (path, exc.strerror))


def write_atomic(path, content, mode, owner=None):
    """Replace `path` with `content` (bytes) so readers see the old or the new file, never a mix.

    The temp file gets `mode` (and `owner`, a (uid, gid) pair, when given) before any byte
    is written, so a private key is never readable by others, not even for a moment.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, temp_path = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    try:
        os.fchmod(fd, mode)
        if owner is not None:
            os.fchown(fd, owner[0], owner[1])
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(temp_path, path)
    except BaseException:
        if os.path.exists(temp_path):
            os.unlink(temp_path)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
