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
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

RESULT_MARK = "FLEETCA-PAYLOAD-RESULT "
DISCOVERY_MODES = ("auto", "auto_legacy", "auto_silent", "auto_legacy_silent")
DISCOVERED_FACT = "discovered_interpreter_python"

# Each module is also an attribute of its package (an empty one), for the imports of the form
# `from ansible_collections.fleetca.ssh.plugins.module_utils import files`.
_BOOTSTRAP = """import json, os, sys, types
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
_args = json.loads(sys.argv[1] if len(sys.argv) > 1 else sys.stdin.readline())
_expand = lambda _path: os.path.expanduser(os.path.expandvars(_path))
for _name in %r:
    if isinstance(_args.get(_name), list):
        _args[_name] = [_expand(_path) for _path in _args[_name]]
    elif _args.get(_name):
        _args[_name] = _expand(_args[_name])
_result = sys.modules[%r].payload_main(_args)
sys.stdout.write(%r + json.dumps(_result) + "\\n")
"""


# What runs a payload sent on stdin: the payload's source, then its arguments, one JSON line each.
STDIN_LOADER = "import json, sys; exec(json.loads(sys.stdin.readline()))"


def payload_source(modules, paths=()):
    """The `python -c` source that runs `payload_main` of the last of `modules` (imported
    module_utils, dependencies first: the payload has nothing else to import them from), its
    arguments named in `paths` expanded there as a module's "path" options are."""
    sources = []
    for module in modules:
        with open(module.__file__, "rb") as handle:
            sources.append((module.__name__, handle.read().decode("utf-8")))
    return _BOOTSTRAP % (sources, tuple(paths), modules[-1].__name__, RESULT_MARK)


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
    module's options, as its DOCUMENTATION says: "path" options are expanded on the host) and
    MODULES (see payload_source); `payload_main` takes the options by their names."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False
    ARGUMENT_SPEC = {}
    MODULES = ()
    # A payload whose source and arguments may exceed one command line argument (128 KiB) comes
    # on stdin: only where the connection can feed it (see stdin_is_free).
    ON_STDIN = False

    def payload_args(self, params):
        return params

    def run(self, tmp=None, task_vars=None):
        result = super(PayloadAction, self).run(tmp, task_vars)
        params = self.validate_argument_spec(argument_spec=controller_spec(self.ARGUMENT_SPEC))[1]
        answer, facts = self.run_payload(params, task_vars)
        return answered(result, dict(answer, changed=False), facts)

    def run_payload(self, params, task_vars):
        """(the payload's answer, facts to return): `python -c PAYLOAD ARGS` on the host (ON_STDIN:
        both on its stdin), ARGS the payload's arguments from the validated `params`, their paths
        expanded there."""
        args = self.payload_args(params)
        paths = path_options(self.ARGUMENT_SPEC, args)
        interpreter, facts = module_interpreter(self, task_vars)
        source = payload_source(self.MODULES, paths)
        # The interpreter unquoted, as Ansible's pipelining runs a shebang ("/usr/bin/env python3").
        if self.ON_STDIN:
            executed = self._low_level_execute_command(
                "%s -c %s" % (interpreter, shlex.quote(STDIN_LOADER)), sudoable=True,
                in_data=("%s\n%s\n" % (json.dumps(source), json.dumps(args))).encode("utf-8"))
        else:
            executed = self._low_level_execute_command(
                "%s -c %s %s" % (interpreter, shlex.quote(source), shlex.quote(json.dumps(args))), sudoable=True)
        answer = parse_payload_output(executed.get("stdout", ""))
        if answer is None:
            raise AnsibleActionFail("%s could not run on %s (exit %s): %s" % (
                interpreter, task_vars.get("inventory_hostname"), executed.get("rc"),
                (executed.get("stderr", "") or executed.get("stdout", "")).strip()))
        return answer, facts


def stdin_is_free(action):
    """Whether a command's stdin reaches it: not where become may read a password or need a
    terminal from it, unless the connection pipelines (Ansible then feeds modules that way)."""
    return not action._play_context.become or action._connection.is_pipelining_enabled()


def path_options(spec, params):
    """The names of the "path" options (and lists of paths) among `params`, which the payload
    expands on the host."""
    return [name for name in params if name in spec and "path" in (spec[name].get("type"), spec[name].get("elements"))]


def answered(result, answer, facts):
    """The action's result: the payload's answer, and the interpreter fact it discovered."""
    result.update(answer)
    if facts:
        result["ansible_facts"] = facts
    return result


def controller_spec(spec, names=None):
    """The options `names` (all by default) of a module's argument spec, for checking on the
    controller: "path" as "str", since "path" would expand ~ and $VARS on the controller, not on
    the host (the payload expands them there)."""
    checked = {}
    for name in spec if names is None else names:
        option = dict(spec[name])
        for key in ("type", "elements"):
            if option.get(key) == "path":
                option[key] = "str"
        checked[name] = option
    return checked


class FastPathAction(PayloadAction):
    """A module whose unchanged case is answered in one round trip instead of a module call's
    five or six: `payload_main` of the last of MODULES decides read-only, with the module's own
    module_utils code, and returns the module's result when the module would change nothing, or
    {} when it must run. The module runs as usual for a task that sets an option outside
    FAST_PATH_OPTIONS, or a value the module's ARGUMENT_SPEC refuses (the module names it)."""

    FAST_PATH_OPTIONS = ()
    MUTUALLY_EXCLUSIVE = ()  # as the module's AnsibleModule is given them
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super(PayloadAction, self).run(tmp, task_vars)
        facts = {}
        params = None if self._task.async_val else self.fast_path_params()
        if params is not None:
            answer, facts = self.run_payload(params, task_vars)
            if answer:
                return answered(result, answer, facts)
            # the module's own discovery would ask the host again
            task_vars.setdefault("ansible_facts", {}).update(facts)
        # as ansible.builtin.normal runs a module
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        if facts:
            result.setdefault("ansible_facts", {}).update(facts)
        return result

    def fast_path_params(self, args=None):
        """The task's options (or `args`) checked as the module checks them, or None (the module runs)."""
        args = self._task.args if args is None else args
        if not set(args) <= set(self.FAST_PATH_OPTIONS):
            return None
        validator = ArgumentSpecValidator(controller_spec(self.ARGUMENT_SPEC, self.FAST_PATH_OPTIONS),
                                          mutually_exclusive=[list(pair) for pair in self.MUTUALLY_EXCLUSIVE])
        validated = validator.validate(args)
        if validated.error_messages:
            return None
        return validated.validated_parameters
