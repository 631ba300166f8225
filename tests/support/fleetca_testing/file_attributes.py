# SPDX-License-Identifier: GPL-3.0-or-later
"""File attributes as a user checks them after a run: owner, group, mode; the umask a run gets."""

import contextlib
import os
import stat

NOBODY, NOGROUP = 65534, 65534  # nobody:nogroup on Debian (the tests run as root)


def owner_group_mode(path):
    info = os.stat(str(path))
    return info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)


@contextlib.contextmanager
def umask(mask):
    """Run the block (and the processes it starts) with `mask` as umask."""
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)
