# SPDX-License-Identifier: GPL-3.0-or-later
"""The session's login account: a real local user that sshd lets in."""

import os
import pwd
import re

from fleetca_testing.commands import run

# One login account per test session (several sessions may run at once on one machine).
LOGIN_USER_PREFIX = "fleetca-t"
LOGIN_USER = "%s%d" % (LOGIN_USER_PREFIX, os.getpid())


def remove_stale_login_users():
    """Accounts left by sessions that died before their teardown (their pid is gone)."""
    for entry in pwd.getpwall():
        match = re.match(r"^%s(\d+)$" % re.escape(LOGIN_USER_PREFIX), entry.pw_name)
        if match and entry.pw_name != LOGIN_USER and not os.path.exists("/proc/%s" % match.group(1)):
            run(["userdel", "--remove", entry.pw_name], check=False)


def create_login_user():
    """Create LOGIN_USER (`fleetca-tPID`) unless it exists; returns its name.

    Not root: root's shadow entry may be locked ('!'), which sshd with UsePAM no refuses.
    The password field is '*' (no password, not locked), the shell /bin/sh.
    """
    remove_stale_login_users()
    try:
        pwd.getpwnam(LOGIN_USER)
    except KeyError:
        run(["useradd", "--create-home", "--shell", "/bin/sh", "--password", "*", LOGIN_USER])
    return LOGIN_USER


def remove_login_user():
    run(["userdel", "--remove", LOGIN_USER], check=False)
