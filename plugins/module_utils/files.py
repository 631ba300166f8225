# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Atomic file writes shared by the modules: temp file beside the target, fsync, rename.

`write_atomic` is for private keys (the temp file has its final mode and owner before any
byte is in it). `replace_file` is for the public files that take the `ansible.builtin.files`
options (certificates, KRLs): it keeps an existing file's owner, group, mode and SELinux
context, as `ansible.builtin.copy` does.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
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


def write_temp(path, content, mode, owner=None):
    """A temp file beside `path` holding `content`, flushed to disk: its path, for a rename.

    It gets `mode` (and `owner`, a (uid, gid) pair, when given) before any byte is written, so
    a private key is never readable by others, not even for a moment.
    """
    fd, temp_path = tempfile.mkstemp(prefix=".%s." % os.path.basename(path),
                                     dir=os.path.dirname(os.path.abspath(path)))
    try:
        os.fchmod(fd, mode)
        if owner is not None:
            os.fchown(fd, owner[0], owner[1])
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        os.unlink(temp_path)
        raise
    return temp_path


def write_atomic(path, content, mode, owner=None):
    """Replace `path` with `content` (bytes) so readers see the old or the new file, never a mix."""
    temp_path = write_temp(path, content, mode, owner)
    try:
        os.rename(temp_path, path)
    except BaseException:
        os.unlink(temp_path)
        raise
    fsync_directory(os.path.dirname(os.path.abspath(path)))


def write_if_different(field, path, content, mode, check_mode=False):
    """Make `path` a file holding `content` (bytes) with `mode`, writing only when it does not
    already; return whether it changed (in check mode: would change, nothing written)."""
    check_writable_path(field, path)
    same = read_if_exists(path) == content and stat.S_IMODE(os.stat(path).st_mode) == mode
    if not same and not check_mode:
        write_atomic(path, content, mode)
    return not same


def replace_file(module, path, content, new_file_mode):
    """Replace `path` with `content` (bytes) the way `ansible.builtin.copy` does.

    An existing file keeps its owner, group, mode and SELinux context (AnsibleModule.atomic_move
    copies them onto the new file); a new file gets `new_file_mode`. The task's own file
    options are applied afterwards by `apply_file_options`. Returns whether `path` was created.
    """
    creating = not os.path.lexists(path)
    temp_path = write_temp(path, content, 0o600)
    try:
        module.atomic_move(temp_path, path, unsafe_writes=module.params["unsafe_writes"])
    except BaseException as exc:
        if os.path.exists(temp_path):
            os.unlink(temp_path)
        if not isinstance(exc, Exception):
            raise
        # ansible-core 2.19 raises Exception from atomic_move (older versions fail_json)
        raise FleetcaError("cannot write %s: %s" % (path, exc))
    if creating:
        os.chmod(path, new_file_mode)  # atomic_move leaves a new file at 0666 & ~umask
    fsync_directory(os.path.dirname(os.path.abspath(path)))
    return creating


def apply_file_options(module, path, changed):
    """Apply the task's owner, group, mode, SELinux and attributes options to `path`.

    Options the task leaves unset are left as the file has them. In check mode nothing is
    changed, only reported. Returns `changed`, or True when an attribute was (or would be) changed.
    """
    file_args = module.load_file_common_arguments(module.params, path=path)
    return module.set_fs_attributes_if_different(file_args, changed)


def fsync_directory(directory):
    """Make a rename in `directory` durable."""
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
