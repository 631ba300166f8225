# SPDX-License-Identifier: GPL-3.0-or-later
"""ansible-playbook runs against localhost with the collection under test."""

import collections
import json
import os
import re
import subprocess
import sys

from fleetca_testing.commands import collections_root, venv_tool

PlaybookRun = collections.namedtuple("PlaybookRun", "returncode output recap results")

_RECAP = re.compile(r"^localhost\s*:\s*((?:\w+=\d+\s*)+)$", re.MULTILINE)


# An aggregate callback that saves every task result (by task name) to a JSON file,
# so that tests read module results without an extra task in the play.
RESULTS_CALLBACK = '''
import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "fleetca_test_results"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.results = {}

    def _save(self, result, status):
        data = dict((k, v) for k, v in result._result.items() if not k.startswith("_ansible"))
        data["_status"] = status
        if status == "failed":
            data["failed"] = True
        self.results[result._task.get_name()] = data

    def v2_runner_on_ok(self, result):
        self._save(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._save(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._save(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._save(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        with open(os.environ["FLEETCA_TEST_RESULTS"], "w") as handle:
            json.dump(self.results, handle, default=str)
'''


class AnsibleRunner:
    """Runs playbooks against localhost (connection local) with the collection under test.

    `run(tasks)` writes a one-play playbook (the tasks as given) into the directory and
    returns its exit code, output, PLAY RECAP counts and every task's result keyed by
    task name (a callback saves them, failed tasks included).
    """

    def __init__(self, directory):
        self.dir = str(directory)
        self.count = 0
        os.makedirs(self.dir, exist_ok=True)
        self.inventory = os.path.join(self.dir, "inventory.ini")
        with open(self.inventory, "w") as handle:
            handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
        self.config = os.path.join(self.dir, "ansible.cfg")
        with open(self.config, "w") as handle:
            handle.write("[defaults]\n")
        self.callback_dir = os.path.join(self.dir, "callback_plugins")
        os.makedirs(self.callback_dir, exist_ok=True)
        with open(os.path.join(self.callback_dir, "fleetca_test_results.py"), "w") as handle:
            handle.write(RESULTS_CALLBACK)

    def env(self, extra=None):
        env = dict(os.environ)
        env.update(
            ANSIBLE_CONFIG=self.config,
            ANSIBLE_COLLECTIONS_PATH=collections_root(),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_FORCE_COLOR="0",
            ANSIBLE_RETRY_FILES_ENABLED="0",
            ANSIBLE_STDOUT_CALLBACK="default",
            ANSIBLE_CALLBACK_PLUGINS=self.callback_dir,
            ANSIBLE_CALLBACKS_ENABLED="fleetca_test_results",
            ANSIBLE_LOCAL_TEMP=os.path.join(self.dir, ".ansible-tmp"),
            ANSIBLE_HOME=os.path.join(self.dir, ".ansible-home"),
            ANSIBLE_DEPRECATION_WARNINGS="0",
        )
        env.pop("SSH_AUTH_SOCK", None)  # an agent reaches a module only when a test says so
        env.update(extra or {})
        return env

    def start(self, tasks, check=False, diff=False, verbosity=0, extra_args=(), env=None):
        """Start ansible-playbook on a one-play playbook of `tasks`; `finish` collects it."""
        self.count += 1
        name = "play%d" % self.count
        dump = os.path.join(self.dir, name + ".results.json")
        play = [{"name": name, "hosts": "localhost", "gather_facts": False, "tasks": list(tasks)}]
        playbook = os.path.join(self.dir, name + ".yml")
        with open(playbook, "w") as handle:
            json.dump(play, handle, indent=2)  # JSON is YAML
        args = [venv_tool("ansible-playbook"), "-i", self.inventory, playbook]
        if check:
            args.append("--check")
        if diff:
            args.append("--diff")
        if verbosity:
            args.append("-" + "v" * verbosity)
        args += list(extra_args)
        run_env = self.env(env)
        run_env["FLEETCA_TEST_RESULTS"] = dump
        process = subprocess.Popen(args, env=run_env, cwd=self.dir, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return process, dump

    @staticmethod
    def finish(started, timeout=300):
        process, dump = started
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise
        recap = {}
        match = _RECAP.search(stdout)
        if match:
            recap = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1)))
        results = {}
        if os.path.exists(dump):
            with open(dump) as handle:
                results = json.load(handle)
        return PlaybookRun(process.returncode, stdout + stderr, recap, results)

    def run(self, tasks, timeout=300, **options):
        """Run a one-play playbook of `tasks` (options as for `start`) and wait for it."""
        return self.finish(self.start(tasks, **options), timeout)

    def run_concurrently(self, task_lists, timeout=300, **options):
        """Start one ansible-playbook per list of tasks, all at once; their runs, in order."""
        started = [self.start(tasks, **options) for tasks in task_lists]
        return [self.finish(each, timeout) for each in started]
