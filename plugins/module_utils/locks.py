# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An exclusive lock on a file beside the one a module reads, changes and replaces.

Two writers of one KRL (or one CA key pair) that both read the old file and both rename
their new file into place lose the first writer's change. Holding this lock from the read
to the rename makes every read-modify-write land. It is an flock(2) on `PATH.lock`, so the
kernel releases it when its holder exits, even when killed: a crash never leaves it held.
The lock file is kept (removing it would let two callers lock two different files).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import os
import random
import socket
import time

from ansible_collections.fleetca.ssh.plugins.module_utils import files
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

LOCK_SUFFIX = ".lock"
# A waiting caller says so once it has waited this long (in seconds).
NOTICE_AFTER = 5.0
DEFAULT_TIMEOUT = 120


def lock_path(path):
    return path + LOCK_SUFFIX


class FileLock:
    """`with FileLock(path, field, timeout, notice):` holds the lock on `path` for the block.

    `notice(message)` is called once when the wait passes NOTICE_AFTER seconds; after
    `timeout` seconds (the option `field`) the wait ends in a FleetcaError naming the holder. `waited` is the
    time spent waiting, for the caller's result.
    """

    def __init__(self, path, field="lock_timeout", timeout=DEFAULT_TIMEOUT, notice=None):
        self.path = lock_path(path)
        self.timeout = timeout
        self.notice = notice
        self.field = field
        self.waited = 0.0
        self._fd = None

    def __enter__(self):
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        except OSError as exc:
            raise FleetcaError("cannot open the lock file %s: %s" % (self.path, exc.strerror))
        try:
            self._wait()
            self._record_holder()
        except BaseException:
            os.close(self._fd)
            raise
        return self

    def __exit__(self, *exc_info):
        os.close(self._fd)  # closing the last descriptor releases the flock
        return False

    def _try_lock(self):
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (IOError, OSError) as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return False
            raise FleetcaError("cannot lock %s: %s" % (self.path, exc.strerror))
        return True

    def _wait(self):
        start = time.monotonic()
        noticed = False
        delay = 0.005
        while not self._try_lock():
            waited = time.monotonic() - start
            if waited >= self.timeout:
                raise FleetcaError(
                    "%s: gave up after %d s waiting for the lock %s, held by %s; another run is "
                    "still changing the file (or hangs): rerun when it has finished"
                    % (self.field, self.timeout, self.path, self.holder()))
            if not noticed and waited >= NOTICE_AFTER and self.notice is not None:
                self.notice("waiting for the lock %s, held by %s (gives up after %d s)"
                            % (self.path, self.holder(), self.timeout))
                noticed = True
            # jittered backoff: waiters do not wake in lockstep, a free lock is taken quickly
            time.sleep(min(delay * random.uniform(0.5, 1.5), self.timeout - waited, 0.2))
            delay = min(delay * 2, 0.2)
        self.waited = time.monotonic() - start

    def _record_holder(self):
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        text = "pid %d on %s since %s\n" % (os.getpid(), socket.gethostname(), since)
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, text.encode("utf-8"), 0)

    def holder(self):
        """Who holds the lock, as the holder wrote it (pid, host, since when)."""
        try:
            text = os.pread(self._fd, 200, 0).decode("utf-8", "replace").strip()
        except OSError:
            text = ""
        return text or "another process"


# The option every locking module takes (documented in doc_fragments/lock.py).
ARGUMENT_SPEC = {"lock_timeout": {"type": "int", "default": DEFAULT_TIMEOUT}}


def plan_and_write(module, path, plan, write):
    """Plan a change of `path` (and the files beside it), then write it under the lock.

    `plan()` returns (planned, needs_write); `write(planned)` carries it out. The plan is made
    without the lock, so check mode, bad input and unchanged runs take none and leave no lock
    file; a run with something to write takes the lock and plans again only when `path` was
    replaced since it was read (another run wrote first). Returns what was planned last.
    """
    timeout = module.params["lock_timeout"]
    if timeout < 0:
        raise FleetcaError("lock_timeout: must be 0 or more seconds, not %d" % timeout)
    before = files.identity(path)
    planned, needs_write = plan()
    if not needs_write or module.check_mode:
        return planned
    with _ModuleLock(module, path, timeout):
        if files.identity(path) != before:
            planned, needs_write = plan()
        if needs_write:
            write(planned)
    return planned


class _ModuleLock(FileLock):
    """The wait noticed in the host's system log; a warning in the module's result when it waited."""

    def __init__(self, module, path, timeout):
        super(_ModuleLock, self).__init__(path, "lock_timeout", timeout, module.log)
        self._module = module

    def __exit__(self, *exc_info):
        super(_ModuleLock, self).__exit__(*exc_info)
        if self.waited >= NOTICE_AFTER:
            self._module.warn("waited %.1f s for the lock %s (another run was changing the file)"
                              % (self.waited, self.path))
        return False
