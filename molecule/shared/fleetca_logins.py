# SPDX-License-Identifier: GPL-3.0-or-later
"""Real ssh logins from a molecule workstation container, shared by the scenarios' verifiers.

OpenSSH 9.8+ (Debian 13) has PerSourcePenalties on by default: after a few refused logins from
one address sshd refuses that address for a while, closing the connection before any
authentication result. `run_ssh` recognises such a penalty and waits it out before trying
again, so each result is judged on its real reason.
"""

import re
import time

DENIED = "Permission denied"
# No prompt can appear (BatchMode), host keys are checked strictly against the system
# known_hosts only (the client role's managed @cert-authority block), never a user file.
SSH = ("ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/dev/null"
       " -o GlobalKnownHostsFile=/etc/ssh/ssh_known_hosts -o IdentitiesOnly=yes -o ConnectTimeout=10")


def penalised(result):
    """True when sshd closed the connection before any authentication result (a penalty)."""
    return (result.rc == 255 and DENIED not in result.stderr
            and "Host key verification failed" not in result.stderr
            and re.search(r"Connection (closed|reset)|kex_exchange_identification", result.stderr) is not None)


def run_ssh(workstation, command, attempts=8, pause=6):
    """Run an ssh command line on the workstation (a testinfra host), waiting out penalties."""
    for dummy in range(attempts):
        result = workstation.run(command)
        if not penalised(result):
            break
        time.sleep(pause)
    return result
