# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the playbook tests: run one of the collection's playbooks (or a playbook file)
with ansible-playbook against an inventory the test writes, in the test's directory."""

import json
import os

import pytest
from fleetca_testing.commands import collections_root, run, venv_tool

PLAYBOOKS = os.path.join(collections_root(), "ansible_collections", "fleetca", "ssh", "playbooks")


@pytest.fixture
def playbook(ansible_playbook, workdir):
    """`playbook(inventory, name, extra_vars=None, options=())`: (exit code, output) of
    ansible-playbook on the installed collection's playbook NAME (or an absolute path), run in
    `workdir`; `options` are more command-line arguments (`--check`, `--diff`)."""
    def run_playbook(inventory, name, extra_vars=None, options=()):
        path = name if os.path.isabs(name) else os.path.join(PLAYBOOKS, name)
        args = [venv_tool("ansible-playbook"), "-i", inventory, path] + list(options)
        if extra_vars:
            args += ["-e", json.dumps(extra_vars)]
        result = run(args, check=False, env=ansible_playbook.env(), cwd=str(workdir))
        return result.returncode, result.stdout + result.stderr
    return run_playbook
