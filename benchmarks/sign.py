# SPDX-License-Identifier: GPL-3.0-or-later
"""Sign Ed25519 host keys in one fleetca.ssh.cert batch call: through ansible-playbook, the module
alone, the engine alone, raw Ed25519 signing and ssh-keygen -s, in one run.

Run as a script with PYTHONPATH pointing at an installed collection (after make install):
    PYTHONPATH=.build/collections .venv/bin/python benchmarks/sign.py [--certs 5000] [--profile]
- ansible-playbook: a vars file of requests loaded with include_vars, one cert task given them as
  `requests: "{{ sign_requests }}"`, and a set_fact reading the result; each task's time comes from
  a callback (task start to result). Two playbooks: every entry carrying type/valid_for/renew_before,
  and those given once at the top level as every entry's default; each run --playbook-runs times.
- the module alone: a separate Python process fed a JSON argument file, as Ansible runs it, so
  its wall time and peak RSS are what the task costs on the CA host.
- the engine alone: parse the keys, build the requests, sign and record in SQLite, in-process,
  paired --engine-pairs times with raw Ed25519 signing.
- ssh-keygen -s: one process per certificate on a sample, as community.crypto does.
Then where the cert task's time goes: each stage of the controller's worker timed (templating the
arguments, building the payload, the module process, parsing and sending the result).
--profile adds the top functions of the module process and of the controller's worker (cProfile).
"""

import argparse
import glob
import io
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

import ansible_collections.fleetca.ssh.plugins.modules.cert as cert_module
from ansible_collections.fleetca.ssh.plugins.module_utils import certs, keys, signers
from ansible_collections.fleetca.ssh.plugins.module_utils.store import IssuanceLog

# Per-certificate options shared by every host of the batch.
SHARED = dict(type="host", valid_for="+52w", renew_before="+4w")

# An aggregate callback writing each task's duration (start to result) to $FLEETCA_BENCH_TIMES.
TIMES_CALLBACK = '''
import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "fleetca_bench_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.times, self.started, self.failures = {}, None, []

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.started = (task.get_name(), time.perf_counter())

    def v2_runner_on_ok(self, result):
        name, started = self.started
        self.times[name] = time.perf_counter() - started

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self.failures.append(str(result._result.get("msg")))

    def v2_playbook_on_stats(self, stats):
        with open(os.environ["FLEETCA_BENCH_TIMES"], "w") as handle:
            json.dump(dict(times=self.times, failures=self.failures), handle)
'''

# ansible-playbook with the stages of each worker's task timed (workers are forked, so the patches
# made here reach them): each worker writes {task, stages} to $FLEETCA_BENCH_STAGES.PID, and with
# $FLEETCA_BENCH_PROFILE set runs the task under cProfile, stats to $FLEETCA_BENCH_PROFILE.PID.
TIMED_PLAYBOOK = '''
import cProfile, json, os, sys, time
from ansible.executor import task_executor
from ansible.executor.task_queue_manager import FinalQueue
from ansible.playbook.task import Task
from ansible.plugins.action import ActionBase

STAGES = {}
TIMED = [
    (Task, "post_validate", "templating the arguments"),
    (ActionBase, "_configure_module", "building the module payload"),
    (ActionBase, "_transfer_data", "writing the payload"),
    (ActionBase, "_low_level_execute_command", "commands on the host: the payload, or temp dir and module"),
    (ActionBase, "_parse_returned_data", "parsing the result"),
    (Task, "dump_attrs", "copying the task's fields for the main process"),
    (FinalQueue, "send_task_result", "sending the result to the main process"),
]

def timed(function, stage):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            STAGES[stage] = STAGES.get(stage, 0.0) + time.perf_counter() - started
    return wrapper

for owner, name, stage in TIMED:
    setattr(owner, name, timed(getattr(owner, name), stage))
original_run = task_executor.TaskExecutor.run

def run(self):
    profile_path = os.environ.get("FLEETCA_BENCH_PROFILE")
    profile = cProfile.Profile() if profile_path else None
    try:
        return profile.runcall(original_run, self) if profile else original_run(self)
    finally:
        if profile:
            profile.dump_stats("%s.%d" % (profile_path, os.getpid()))

def send_and_record(function):
    def wrapper(self, task_result):
        try:
            return function(self, task_result)
        finally:  # the result is sent last: what the worker did for this task is all in STAGES
            with open("%s.%d" % (os.environ["FLEETCA_BENCH_STAGES"], os.getpid()), "w") as handle:
                json.dump(dict(task=task_result.task_fields.get("name"), stages=STAGES), handle)
    return wrapper

task_executor.TaskExecutor.run = run
FinalQueue.send_task_result = send_and_record(FinalQueue.send_task_result)
from ansible.cli.playbook import main
sys.argv[0] = "ansible-playbook"
sys.exit(main())
'''


def public_key_line(key):
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode()


def collections_root():
    path = os.path.abspath(cert_module.__file__)  # .../ansible_collections/fleetca/ssh/plugins/modules/cert.py
    for dummy in range(6):
        path = os.path.dirname(path)
    return path


def run_module(args, workdir, profile=False):
    """Run the cert module in a child process; return (seconds, result, peak RSS MiB, profile text)."""
    args_path = os.path.join(workdir, "args.json")
    stats_path = os.path.join(workdir, "module.prof")
    with open(args_path, "w") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
    run = "runpy.run_path(%r, run_name='__main__')" % cert_module.__file__
    if profile:
        run = "cProfile.run(%r, %r)" % (run, stats_path)
    script = ("import cProfile, resource, runpy, sys; sys.argv = [sys.argv[0], %r]\n"
              "try:\n    %s\n"
              "finally:\n    sys.stderr.write('MAXRSS %%d\\n' %% resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
              % (args_path, run))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    result = json.loads(done.stdout)
    if result.get("failed"):
        sys.exit("module failed: %s" % result.get("msg"))
    rss_kib = int(done.stderr.rsplit("MAXRSS ", 1)[1])
    return elapsed, result, rss_kib / 1024.0, top_functions([stats_path]) if profile else ""


def run_playbook(workdir, name, ca_path, requests, defaults, profile=False):
    """One ansible-playbook run; return ({task: seconds}, {task: {stage: seconds}}, profile text)."""
    base = os.path.join(workdir, name)
    os.makedirs(os.path.join(base, "callback_plugins"))
    with open(os.path.join(base, "callback_plugins", "fleetca_bench_times.py"), "w") as handle:
        handle.write(TIMES_CALLBACK)
    vars_path = os.path.join(base, "requests.yml")
    with open(vars_path, "w") as handle:
        json.dump({"sign_requests": requests}, handle)  # JSON is YAML
    sign = dict(ca_key=ca_path, store=os.path.join(base, "issued.db"), requests="{{ sign_requests }}", **defaults)
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "load", "ansible.builtin.include_vars": {"file": vars_path}},
        {"name": "sign", "fleetca.ssh.cert": sign, "register": "signed"},
        {"name": "use", "ansible.builtin.set_fact": {
            "signed_count": "{{ signed.certificates | selectattr('changed') | list | length }}"}},
    ]}]
    playbook = os.path.join(base, "play.yml")
    with open(playbook, "w") as handle:
        json.dump(play, handle)
    inventory = os.path.join(base, "inventory.ini")
    with open(inventory, "w") as handle:
        handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    times_path = os.path.join(base, "times.json")
    stages_path = os.path.join(base, "stages.json")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_root(), ANSIBLE_CALLBACK_PLUGINS=os.path.join(
        base, "callback_plugins"), ANSIBLE_CALLBACKS_ENABLED="fleetca_bench_times", FLEETCA_BENCH_TIMES=times_path,
        ANSIBLE_LOCAL_TEMP=os.path.join(base, "tmp"), ANSIBLE_HOME=os.path.join(base, "home"),
        FLEETCA_BENCH_STAGES=stages_path)
    if profile:
        env["FLEETCA_BENCH_PROFILE"] = os.path.join(base, "worker.prof")
    done = subprocess.run([sys.executable, "-c", TIMED_PLAYBOOK, "-i", inventory, playbook], env=env,
                          capture_output=True, text=True, check=False)
    with open(times_path) as handle:
        recorded = json.load(handle)
    if done.returncode != 0 or recorded["failures"]:
        sys.exit("ansible-playbook failed: %s\n%s" % (recorded["failures"], done.stdout[-2000:]))
    stages = {}
    for path in glob.glob(stages_path + ".*"):
        with open(path) as handle:
            worker = json.load(handle)
        stages[worker["task"]] = worker["stages"]
    stats = glob.glob(os.path.join(base, "worker.prof.*"))
    return recorded["times"], stages, top_functions(stats) if profile else ""


def top_functions(stats_paths, count=25):
    out = io.StringIO()
    stats = pstats.Stats(*stats_paths, stream=out)
    stats.sort_stats("cumulative").print_stats(count)
    return out.getvalue()


def run_engine(ca_path, requests, workdir):
    """The engine alone, in-process: parse, build, sign, record; return seconds."""
    now = int(time.time())
    started = time.perf_counter()
    with certs.batch_without_cycle_collection():  # as the module
        signer = signers.KeyFileSigner(ca_path, None, "rsa-sha2-512")
        built = []
        after, before = certs.validity_window(None, None, SHARED["valid_for"], now)  # once per batch, as the module
        for entry in requests:
            public_key = keys.parse_public_key("public_key", entry["public_key"])
            built.append(certs.CertRequest(certs.HOST_CERT, public_key, entry["principals"], entry["principals"][0],
                                           after, before))
        log = IssuanceLog(os.path.join(workdir, "engine.db"))
        try:
            log.issue(lambda serials: [(certs.sign_certificate(request, serial, signer), None)
                                       for request, serial in zip(built, serials)], len(built))
        finally:
            log.close()
            signer.close()
    return time.perf_counter() - started


def run_raw_signing(count):
    key = ed25519.Ed25519PrivateKey.generate()
    data = os.urandom(200)
    started = time.perf_counter()
    for dummy in range(count):
        key.sign(data)
    return time.perf_counter() - started


def paired_engine_and_raw(ca_path, requests, workdir, pairs):
    """The engine and raw signing run back to back `pairs` times (this VM's speed drifts from one
    minute to the next): their median seconds and the median of each pair's ratio, in %."""
    engine, raw, ratios = [], [], []
    for dummy in range(pairs):
        engine.append(run_engine(ca_path, requests, workdir))
        os.remove(os.path.join(workdir, "engine.db"))
        raw.append(run_raw_signing(len(requests)))
        ratios.append(100.0 * raw[-1] / engine[-1])
    return statistics.median(engine), statistics.median(raw), statistics.median(ratios)


def run_ssh_keygen(ca_path, lines, workdir):
    started = time.perf_counter()
    for index, line in enumerate(lines):
        pub = os.path.join(workdir, "host%d.pub" % index)
        with open(pub, "w") as handle:
            handle.write(line + "\n")
        subprocess.run(["ssh-keygen", "-q", "-s", ca_path, "-h", "-I", "host%d" % index,
                        "-n", "host%d.example.com" % index, "-V", "+52w", "-z", str(index + 1), pub],
                       check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    return elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def print_breakdown(label, total, stages):
    """Where the cert task's time goes, from the worker's timed stages; the rest is outside them (forking
    the worker, the action checking the arguments, the strategy and callbacks in the main process)."""
    print("\nwhere the cert task's %.2f s go (%s):" % (total, label))
    for stage, seconds in sorted(stages.items(), key=lambda item: -item[1]):
        print("  %-56s %6.2f s %4.0f %%" % (stage, seconds, 100.0 * seconds / total))
    rest = total - sum(stages.values())
    label = "the rest: fork, the action's checks, strategy, callbacks"
    print("  %-56s %6.2f s %4.0f %%" % (label, rest, 100.0 * rest / total))


def host_requests(lines, shared):
    return [dict(shared, public_key=line, principals=["host%d" % i, "host%d.example.com" % i], requester="host%d" % i)
            for i, line in enumerate(lines)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certs", type=int, default=5000)
    parser.add_argument("--ssh-keygen-sample", type=int, default=200)
    parser.add_argument("--repeated-only", action="store_true",
                        help="only the playbook whose entries repeat the shared options (a module without batch defaults)")
    parser.add_argument("--playbook-runs", type=int, default=3, help="runs of each playbook (the median is shown)")
    parser.add_argument("--engine-pairs", type=int, default=5, help="paired runs of the engine and raw signing")
    parser.add_argument("--profile", action="store_true", help="print the top functions of the module and the worker")
    options = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="fleetca-bench-")
    ca_path = os.path.join(workdir, "host_ca")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", ca_path], check=True)
    lines = [public_key_line(ed25519.Ed25519PrivateKey.generate()) for count in range(options.certs)]
    repeated = host_requests(lines, SHARED)
    base = dict(ca_key=ca_path, store=os.path.join(workdir, "issued.db"))
    rows, profiles, breakdowns = [], [], []

    # ssh-keygen first: RUSAGE_CHILDREN's peak then covers only its processes
    keygen_s, keygen_rss = run_ssh_keygen(ca_path, lines[:options.ssh_keygen_sample], workdir)
    playbooks = [("entries repeat type, valid_for, renew_before", "repeated", repeated, {})]
    if not options.repeated_only:
        playbooks.append(("top-level defaults", "defaults", host_requests(lines, {}), SHARED))
    for label, name, requests, defaults in playbooks:
        runs = [run_playbook(workdir, "%s%d" % (name, index), ca_path, requests, defaults, options.profile)
                for index in range(options.playbook_runs)]
        times, stages, text = sorted(runs, key=lambda run: run[0]["sign"])[len(runs) // 2]  # the median run
        breakdowns.append((label, times["sign"], stages["sign"]))
        rows.append(("ansible-playbook, %s: cert task (median run)" % label, options.certs, times["sign"], None))
        rows.append(("  include_vars of the request list", options.certs, times["load"], None))
        rows.append(("  set_fact over the result", options.certs, times["use"], None))
        profiles.append(("controller worker, %s" % label, text))
    first_s, first, first_rss, text = run_module(dict(base, requests=repeated), workdir, options.profile)
    profiles.append(("module process (sign)", text))
    current = [dict(request, current_certificate=signed["certificate"])
               for request, signed in zip(repeated, first["certificates"])]
    again_s, again, again_rss, dummy = run_module(dict(base, requests=current), workdir)
    assert not again["changed"], "idempotent batch re-signed"
    engine_s, raw_s, ratio = paired_engine_and_raw(ca_path, repeated, workdir, options.engine_pairs)
    rows += [
        ("module process alone (sign)", options.certs, first_s, first_rss),
        ("module process alone (idempotent)", options.certs, again_s, again_rss),
        ("engine alone (parse, sign, record)", options.certs, engine_s, None),
        ("raw cryptography Ed25519 sign", options.certs, raw_s, None),
        ("ssh-keygen -s, one process per cert", options.ssh_keygen_sample, keygen_s, keygen_rss),
    ]
    print("%-62s %7s %8s %9s %9s" % ("case", "certs", "seconds", "certs/s", "peak MiB"))
    for name, count, seconds, rss in rows:
        print("%-62s %7d %8.2f %9.0f %9s" % (name, count, seconds, count / seconds,
                                             "" if rss is None else "%.1f" % rss))
    print("engine alone: %.0f%% of raw Ed25519 signing (median of %d paired runs); module (sign) %.1fx ssh-keygen"
          % (ratio, options.engine_pairs, (options.certs / first_s) / (options.ssh_keygen_sample / keygen_s)))
    print("load average at the end: %.2f %.2f %.2f (2 cores: compare ratios, not seconds)" % os.getloadavg())
    print("targets: >= 2,500 certs/s for the cert task, engine >= 50% of raw signing, peak < 200 MiB")
    for label, total, stages in breakdowns:
        print_breakdown(label, total, stages)
    for label, text in profiles:
        if text:
            print("\n--- %s ---\n%s" % (label, text))
    subprocess.run(["rm", "-rf", workdir], check=True)


if __name__ == "__main__":
    main()
