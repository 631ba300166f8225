# SPDX-License-Identifier: GPL-3.0-or-later
"""Sign Ed25519 host keys in one fleetca.ssh.cert batch call: through ansible-playbook, the module
alone, the engine alone, raw Ed25519 signing and ssh-keygen -s, in one run.

Run as a script with PYTHONPATH pointing at an installed collection (after make install):
    PYTHONPATH=.build/collections .venv/bin/python benchmarks/sign.py [--certs 5000] [--profile]
- ansible-playbook: a vars file of requests loaded with include_vars, one cert task given them as
  `requests: "{{ sign_requests }}"`, and a set_fact reading the result; each task's time comes from
  a callback (task start to result). Run twice: every entry carrying type/valid_for/renew_before,
  and those given once at the top level as every entry's default.
- the module alone: a separate Python process fed a JSON argument file, as Ansible runs it, so
  its wall time and peak RSS are what the task costs on the CA host.
- the engine alone: parse the keys, build the requests, sign and record in SQLite, in-process.
- ssh-keygen -s: one process per certificate on a sample, as community.crypto does.
--profile prints where the time goes: the module process and the controller's worker (cProfile).
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
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

# ansible-playbook with each worker's task execution under cProfile (workers are forked, so the
# patch made here reaches them); stats go to $FLEETCA_BENCH_PROFILE.PID.
PROFILED_PLAYBOOK = '''
import cProfile, os, sys
from ansible.executor import task_executor
original = task_executor.TaskExecutor.run
def profiled(self):
    profile = cProfile.Profile()
    try:
        return profile.runcall(original, self)
    finally:
        profile.dump_stats("%s.%d" % (os.environ["FLEETCA_BENCH_PROFILE"], os.getpid()))
task_executor.TaskExecutor.run = profiled
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
    """One ansible-playbook run; return ({task: seconds}, profile text)."""
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
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_root(), ANSIBLE_CALLBACK_PLUGINS=os.path.join(
        base, "callback_plugins"), ANSIBLE_CALLBACKS_ENABLED="fleetca_bench_times", FLEETCA_BENCH_TIMES=times_path,
        ANSIBLE_LOCAL_TEMP=os.path.join(base, "tmp"), ANSIBLE_HOME=os.path.join(base, "home"),
        FLEETCA_BENCH_PROFILE=os.path.join(base, "worker.prof"))
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook")]
    if profile:
        command = [sys.executable, "-c", PROFILED_PLAYBOOK]
    done = subprocess.run(command + ["-i", inventory, playbook], env=env, capture_output=True, text=True,
                          check=False)
    with open(times_path) as handle:
        recorded = json.load(handle)
    if done.returncode != 0 or recorded["failures"]:
        sys.exit("ansible-playbook failed: %s\n%s" % (recorded["failures"], done.stdout[-2000:]))
    stats = [os.path.join(base, f) for f in os.listdir(base) if f.startswith("worker.prof.")]
    return recorded["times"], top_functions(stats) if profile else ""


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


def host_requests(lines, shared):
    return [dict(shared, public_key=line, principals=["host%d" % i, "host%d.example.com" % i], requester="host%d" % i)
            for i, line in enumerate(lines)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certs", type=int, default=5000)
    parser.add_argument("--ssh-keygen-sample", type=int, default=200)
    parser.add_argument("--repeated-only", action="store_true",
                        help="only the playbook whose entries repeat the shared options (a module without batch defaults)")
    parser.add_argument("--profile", action="store_true", help="print the top functions of the module and the worker")
    options = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="fleetca-bench-")
    ca_path = os.path.join(workdir, "host_ca")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", ca_path], check=True)
    lines = [public_key_line(ed25519.Ed25519PrivateKey.generate()) for count in range(options.certs)]
    repeated = host_requests(lines, SHARED)
    base = dict(ca_key=ca_path, store=os.path.join(workdir, "issued.db"))
    rows, profiles = [], []

    # ssh-keygen first: RUSAGE_CHILDREN's peak then covers only its processes
    keygen_s, keygen_rss = run_ssh_keygen(ca_path, lines[:options.ssh_keygen_sample], workdir)
    playbooks = [("entries repeat type, valid_for, renew_before", "repeated", repeated, {})]
    if not options.repeated_only:
        playbooks.append(("top-level defaults", "defaults", host_requests(lines, {}), SHARED))
    for label, name, requests, defaults in playbooks:
        times, text = run_playbook(workdir, name, ca_path, requests, defaults, options.profile)
        rows.append(("ansible-playbook, %s: cert task" % label, options.certs, times["sign"], None))
        rows.append(("  include_vars of the request list", options.certs, times["load"], None))
        rows.append(("  set_fact over the result", options.certs, times["use"], None))
        profiles.append(("controller worker, %s" % label, text))
    first_s, first, first_rss, text = run_module(dict(base, requests=repeated), workdir, options.profile)
    profiles.append(("module process (sign)", text))
    current = [dict(request, current_certificate=signed["certificate"])
               for request, signed in zip(repeated, first["certificates"])]
    again_s, again, again_rss, dummy = run_module(dict(base, requests=current), workdir)
    assert not again["changed"], "idempotent batch re-signed"
    engine_s = run_engine(ca_path, repeated, workdir)
    raw_s = run_raw_signing(options.certs)
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
    print("engine alone: %.0f%% of raw Ed25519 signing; module (sign) %.1fx ssh-keygen"
          % (100.0 * raw_s / engine_s, (options.certs / first_s) / (options.ssh_keygen_sample / keygen_s)))
    print("load average at the end: %.2f %.2f %.2f (2 cores: compare ratios, not seconds)" % os.getloadavg())
    print("targets: >= 2,500 certs/s for the cert task, engine >= 50% of raw signing, peak < 200 MiB")
    for label, text in profiles:
        if text:
            print("\n--- %s ---\n%s" % (label, text))
    subprocess.run(["rm", "-rf", workdir], check=True)


if __name__ == "__main__":
    main()
