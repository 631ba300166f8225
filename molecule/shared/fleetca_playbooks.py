# SPDX-License-Identifier: GPL-3.0-or-later
"""ansible-playbook runs from a molecule verifier, with molecule's own inventory and ansible.cfg
(ANSIBLE_CONFIG and MOLECULE_INVENTORY_FILE come from molecule's environment), shared by the
scenarios' verifiers."""

import os
import re
import shutil
import subprocess
import sys


def playbook(name, *args):
    """(exit code, stdout + stderr) of `ansible-playbook -i INVENTORY name args...`."""
    command = shutil.which("ansible-playbook") or os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    result = subprocess.run([command, "-i", inventory, name, *args],
                            capture_output=True, text=True, timeout=600, check=False)
    return result.returncode, result.stdout + result.stderr


def recap(output):
    """PLAY RECAP counters per host: {host: {"ok": n, "changed": n, ...}}."""
    rows = re.findall(r"^(\S+)\s*:\s*(ok=.*)$", output, re.M)
    return {host: {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counters)} for host, counters in rows}
