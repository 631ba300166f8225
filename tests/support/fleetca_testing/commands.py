# SPDX-License-Identifier: GPL-3.0-or-later
"""Running commands and finding the tools and the collection under test."""

import os
import shutil
import subprocess
import sys

from ansible_collections.fleetca.ssh.plugins.module_utils import wire as _wire


def collections_root():
    """The directory holding `ansible_collections/` that Python imported fleetca.ssh from.

    Not resolved through symlinks: a development tree may link
    ansible_collections/fleetca/ssh to the work tree, and Ansible must see that path.
    """
    path = os.path.abspath(_wire.__file__)  # .../ansible_collections/fleetca/ssh/plugins/module_utils/wire.py
    for dummy in range(6):
        path = os.path.dirname(path)
    if not os.path.isdir(os.path.join(path, "ansible_collections", "fleetca", "ssh")):
        raise RuntimeError("cannot locate the collections root of %s" % _wire.__file__)
    return path


def venv_tool(name):
    """A tool installed next to the Python running the tests (the venv's), else on PATH."""
    candidate = os.path.join(os.path.dirname(sys.executable), name)  # not realpath: keep the venv
    if os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which(name)
    if not found:
        raise RuntimeError("%s not found next to %s nor on PATH" % (name, sys.executable))
    return found


def run(args, check=True, **kwargs):
    """subprocess.run with text output captured; on failure, an assertion showing both streams."""
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 120)
    result = subprocess.run([str(a) for a in args], check=False, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError("%s exited %d\nstdout:\n%s\nstderr:\n%s"
                             % (" ".join(map(str, args)), result.returncode, result.stdout, result.stderr))
    return result
