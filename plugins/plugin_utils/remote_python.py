# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run module_utils code on a target in ONE connection round trip, with the Python that
Ansible runs modules with there.

A module call without pipelining costs five or six round trips (temp dir, put, chmod, run,
remove); `python -c PAYLOAD ARGS` through the connection costs one. The payload is
self-contained: the sources of the module_utils files it needs, defined under their import
names in sys.modules, then `payload_main(args)` of the last one, whose result comes back as
one marked JSON line (a terminal or sudo may add other lines).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import shlex

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.executor.interpreter_discovery import discover_interpreter
from ansible.plugins.action import ActionBase

RESULT_MARK = "FLEETCA-PAYLOAD-RESULT "
DISCOVERY_MODES = ("auto", "auto_legacy", "auto_silent", "auto_legacy_silent")
DISCOVERED_FACT = "discovered_interpreter_python"

# Each module is also an attribute of its package (an empty one), for the imports of the form
# `from ansible_collections.fleetca.ssh.plugins.module_utils import files`.
_BOOTSTRAP = """import json, sys, types
for _name, _source in %r:
    _module = types.ModuleType(_name)
    _module.__file__ = "<fleetca payload: %%s>" %% _name
    sys.modules[_name] = _module
    _package_name, _, _basename = _name.rpartition(".")
    if _package_name not in sys.modules:
        sys.modules[_package_name] = types.ModuleType(_package_name)
        sys.modules[_package_name].__path__ = []
    setattr(sys.modules[_package_name], _basename, _module)
    exec(compile(_source, _module.__file__, "exec"), _module.__dict__)
_result = sys.modules[%r].payload_main(json.loads(sys.argv[1]))
sys.stdout.write(%r + json.dumps(_result) + "\\n")
"""


def payload_source(modules):
    """The `python -c` source that runs `payload_main` of the last of `modules` (imported
    module_utils, dependencies first: the payload has nothing else to import them from)."""
    sources = []
    for module in modules:
        with open(module.__file__, "rb") as handle:
            sources.append((module.__name__, handle.read().decode("utf-8")))
    return _BOOTSTRAP % (sources, modules[-1].__name__, RESULT_MARK)


def parse_payload_output(stdout):
    """The result dict in the payload's output, None when it printed none."""
    for line in stdout.splitlines():
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK):])
    return None


def module_interpreter(action, task_vars):
    """(the Python Ansible runs this task's modules with, facts to return), resolved as
    module_common._get_shebang and ActionBase._configure_module do it: the connection's own
    Python where the target is the controller's process, else INTERPRETER_PYTHON
    (ansible_python_interpreter, ANSIBLE_PYTHON_INTERPRETER, interpreter_python in ansible.cfg);
    for auto* or empty, the discovered interpreter, discovering it (one round trip) when the
    host has none yet, and returning it as the fact later module calls use."""
    delegate_to = action._task.delegate_to
    use_vars = task_vars["ansible_delegated_vars"][delegate_to] if delegate_to else task_vars
    if getattr(action._connection, "_remote_is_local", False):
        return use_vars["ansible_playbook_python"], {}
    configured = C.config.get_config_value("INTERPRETER_PYTHON", variables=use_vars)
    interpreter = action._templar.template((configured or "").strip())
    if interpreter and interpreter not in DISCOVERY_MODES:
        return interpreter, {}
    facts = use_vars.get("ansible_facts", {})
    if DISCOVERED_FACT in facts:
        return facts[DISCOVERED_FACT], {}
    found = discover_interpreter(action=action, interpreter_name="python", discovery_mode=interpreter,
                                 task_vars=use_vars)
    # As ActionBase: a delegated task's discovery belongs to the delegated host.
    if delegate_to and not action._task.delegate_facts:
        use_vars.setdefault("ansible_facts", {})[DISCOVERED_FACT] = found
        return found, {}
    return found, {DISCOVERED_FACT: found}


class PayloadAction(ActionBase):
    """An *_info module whose code runs as one payload. Subclasses set ARGUMENT_SPEC (the
    module's options, as its DOCUMENTATION says), MODULES (see payload_source) and map the
    validated options to the payload's arguments in `payload_args`."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False
    ARGUMENT_SPEC = {}
    MODULES = ()

    def payload_args(self, params):
        return params

    def run(self, tmp=None, task_vars=None):
        result = super(PayloadAction, self).run(tmp, task_vars)
        params = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)[1]
        interpreter, facts = module_interpreter(self, task_vars)
        # The interpreter unquoted, as Ansible's pipelining runs a shebang ("/usr/bin/env python3").
        command = "%s -c %s %s" % (interpreter, shlex.quote(payload_source(self.MODULES)),
                                   shlex.quote(json.dumps(self.payload_args(params))))
        executed = self._low_level_execute_command(command, sudoable=True)
        answer = parse_payload_output(executed.get("stdout", ""))
        if answer is None:
            raise AnsibleActionFail("%s could not run on %s (exit %s): %s" % (
                interpreter, task_vars.get("inventory_hostname"), executed.get("rc"),
                (executed.get("stderr", "") or executed.get("stdout", "")).strip()))
        result.update(answer)
        result["changed"] = False
        if facts:
            result["ansible_facts"] = facts
        return result
