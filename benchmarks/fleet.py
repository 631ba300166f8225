# SPDX-License-Identifier: GPL-3.0-or-later
"""Enroll a fleet of server containers with fleetca.ssh, against community.crypto.openssh_cert.

Run as a script by hand (it starts containers; it is not a test):

    PYTHONPATH=.build/collections .venv/bin/python benchmarks/fleet.py [--servers 20] [--forks 10] [--keep] [--skip-baseline] [--skip-pull] [--skip-rotation]

Ours, on N fresh systemd containers (tests/bin/containers.sh, network fleetca-bench, a CA
bench-ca on Debian 12 and servers bench-srv01.. cycling through Debian 11, 12 and 13):
`ansible-playbook fleetca.ssh.enroll` (first enrollment), the same again (idempotent: the recap
must show changed=0), `fleetca.ssh.revoke` with revoked serials and key ids rolled out to every
server, and that again (idempotent), then (unless --skip-rotation) `fleetca.ssh.rotate` through
start, switch and finish of the user CA and then of the host CA. Then the pull side (unless --skip-pull), on N fresh
containers (bench-pull-*): enrollment with fleetca_ssh_krl_url (the CA serves its publish
directory with python3 -m http.server) and fleetca_ssh_krl_sync_interval (--pull-interval), a
revocation made on the CA only (molecule/pull/revoke_on_ca.yml), then the time until every
server has installed the new KRL by itself. Then the baseline, on N fresh containers of the same
releases (bench-base-*): benchmarks/baseline_enroll.yml, the same enrollment with one
community.crypto.openssh_cert task per host and key type, run twice the same way. After each
side's enrollment, ssh-keyscan -c from its CA container must get an ed25519 and an RSA host
certificate naming each server. Both sides run with the same forks (-f) and Ansible's defaults
otherwise (no pipelining unless --pipelining, no fact cache), with ansible.posix.profile_tasks on for the slowest tasks.
The playbooks run from the installed collection (--collections); run the benchmark alone: a
`make install` during the run replaces the tree under it.

Timings are measured, not asserted: the exit status is non-zero only when something fails (a
playbook, an idempotent run that changed something, a server without its host certificates).
"""

import argparse
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time

from ansible_collections.fleetca.ssh.plugins.module_utils import certs

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONTAINERS = os.path.join(REPO, "tests", "bin", "containers.sh")
BASELINE = os.path.join(REPO, "benchmarks", "baseline_enroll.yml")
NETWORK = "fleetca-bench"
CA_RELEASE = "12"
# Host certificate types every server must offer.
KEY_TYPES = ("ssh-ed25519-cert-v01@openssh.com", "ssh-rsa-cert-v01@openssh.com")

# Revoked by the rollout: serials (one range, one single) and key ids.
REVOCATIONS = """\
fleetca_ssh_revoke_serials: [424242, "900000-900099"]
fleetca_ssh_revoke_key_ids: [alice@laptop, "host:decommissioned.example.com:ed25519"]
"""

# The rotation phases run after the revocations (unless --skip-rotation), on the same fleet: a
# user CA rotation (servers' TrustedUserCAKeys; finish also rolls out the KRL), then a host CA
# rotation (switch re-signs every host certificate and reloads sshd). No workstation: the
# clients' part is the same managed block the trust playbook writes.
ROTATION = [(ca, phase) for ca in ("user", "host") for phase in ("start", "switch", "finish")]
ROTATION_PREFIX = "fleetca.ssh.rotate "

# Pull sync (--pull-interval): the CA serves its publish directory over HTTP, a revocation is
# made on the CA only (the pull scenario's playbook), the servers' timers bring it.
PUBLISH_DIR = "/srv/fleetca-krl"
PULL_PORT = 8080
REVOKE_ON_CA = os.path.join(REPO, "molecule", "pull", "revoke_on_ca.yml")
MASTER_KRL = "/etc/ssh/fleetca/revoked.krl"
INSTALLED_KRL = "/etc/ssh/fleetca_revoked.krl"

RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+"
                   r"skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)")
RESULT = re.compile(r"^(ok|changed|failed|fatal): \[([^\]\s]+)(?: -> [^\]]+)?\]")
PROFILE = re.compile(r"^(.+?) -{2,} (\d+\.\d+)s$")


class Interrupted(Exception):
    """SIGTERM or SIGHUP: clean up like on Ctrl-C."""


def on_signal(signum, _frame):
    raise Interrupted("signal %d" % signum)


def describe_collection(collections):
    """Version and install time of the collection measured (the roles change between runs)."""
    manifest = os.path.join(collections, "ansible_collections", "fleetca", "ssh", "MANIFEST.json")
    with open(manifest) as handle:
        version = json.load(handle)["collection_info"]["version"]
    installed = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(manifest)))
    head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          check=False).stdout.strip() or "unknown"
    return "fleetca.ssh %s installed %s under %s (work tree at %s)" % (version, installed, collections, head)


def loadavg():
    return "%.2f %.2f %.2f" % os.getloadavg()


def containers(*args):
    # 21 systemd containers booting at once on a loaded 2-core machine can take minutes.
    env = dict(os.environ)
    env.setdefault("FLEETCA_BOOT_TIMEOUT", "600")
    subprocess.run([CONTAINERS] + list(args), check=True, env=env)


def write_inventory(path, ca, servers):
    lines = ["all:", "  vars:", "    ansible_connection: community.docker.docker",
             "    ansible_python_interpreter: /usr/bin/python3", "  children:",
             "    ssh_ca:", "      hosts:", "        %s:" % ca, "    ssh_servers:", "      hosts:"]
    lines += ["        %s:" % name for name in servers]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def parse_output(text):
    """Recap per host, result lines per host (loop items each), profile_tasks' task times."""
    recap, results, profile = {}, {}, []
    section = None
    for line in text.splitlines():
        if line.startswith("PLAY RECAP"):
            section = "recap"
            continue
        if section == "recap":
            match = RECAP.match(line)
            if match:
                recap[match.group(1)] = dict(zip(("ok", "changed", "unreachable", "failed", "skipped"),
                                                 map(int, match.groups()[1:6])))
                continue
            if line.startswith("====="):
                section = "profile"
            continue
        if section == "profile":
            match = PROFILE.match(line.strip())
            if match:
                profile.append((match.group(1).strip(), float(match.group(2))))
            continue
        match = RESULT.match(line)
        if match:
            results[match.group(2)] = results.get(match.group(2), 0) + 1
    return recap, results, profile


class Run:
    """One ansible-playbook run: wall time, per-host counts, slowest tasks, log file."""

    def __init__(self, scenario, side, idempotent, ca, servers):
        self.scenario, self.side, self.idempotent = scenario, side, idempotent
        self.ca, self.servers = ca, servers
        self.seconds = self.rc = None
        self.load = loadavg()
        self.recap, self.results, self.profile = {}, {}, []
        self.log = None
        self.problems = []

    def server_mean(self, servers, what):
        values = [what(name) for name in servers]
        return sum(values) / float(len(values))

    def tasks(self, host):
        stats = self.recap.get(host, {})
        return stats.get("ok", 0) + stats.get("failed", 0) + stats.get("unreachable", 0)

    def changed(self):
        return sum(stats["changed"] for stats in self.recap.values())


class Bench:
    def __init__(self, options, workdir):
        self.options, self.workdir = options, workdir
        self.runs = []
        self.pull = None  # {interval, arrivals: {server: seconds}} of the pull side
        self.started = []  # containers this run created, removed at the end
        self.env = dict(os.environ,
                        ANSIBLE_COLLECTIONS_PATH=options.collections,
                        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
                        ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks",
                        PROFILE_TASKS_TASK_OUTPUT_LIMIT="all",
                        ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0",
                        ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
                        ANSIBLE_DEPRECATION_WARNINGS="0",
                        ANSIBLE_PIPELINING="1" if options.pipelining else "0")
        for name in ("ANSIBLE_CONFIG", "ANSIBLE_STRATEGY", "ANSIBLE_FORKS"):
            self.env.pop(name, None)

    def names(self, prefix):
        servers = ["%s-srv%02d" % (prefix, index + 1) for index in range(self.options.servers)]
        return "%s-ca" % prefix, servers

    def up(self, ca, servers):
        """Start the fleet (containers.sh up fails unless every container booted with sshd)."""
        releases = self.options.releases
        specs = [(ca, CA_RELEASE)] + [(name, releases[index % len(releases)]) for index, name in enumerate(servers)]
        self.started += [ca] + servers
        started = time.perf_counter()
        containers("up", NETWORK, *["%s:%s" % spec for spec in specs])
        fleet = " ".join("%s:%s" % spec for spec in specs)
        print("containers up in %.0f s: %s" % (time.perf_counter() - started, fleet), file=sys.stderr)

    def down(self, names):
        if names:
            containers("down", NETWORK, *names)
            self.started = [name for name in self.started if name not in names]

    def playbook(self, run, inventory, playbook, *extra):
        """Run ansible-playbook; fills `run` (and self.runs); False when it failed."""
        argv = [self.options.ansible_playbook, "-i", inventory, "-f", str(self.options.forks), playbook]
        argv += list(extra)
        run.log = os.path.join(self.workdir, re.sub(r"[^a-z0-9]+", "-", run.scenario.lower()).strip("-") + ".log")
        print("running %s (load %s): %s" % (run.scenario, run.load, " ".join(map(shlex.quote, argv))), file=sys.stderr)
        started = time.perf_counter()
        run.rc, output = run_group(argv, self.options.timeout, cwd=self.workdir, env=self.env)
        run.seconds = time.perf_counter() - started
        with open(run.log, "w") as handle:
            handle.write(output)
        run.recap, run.results, run.profile = parse_output(output)
        self.runs.append(run)
        if run.rc != 0:
            status = "ran out of time (--timeout %d s)" % self.options.timeout if run.rc is None else "exited %d" % run.rc
            run.problems.append("FAIL %s: ansible-playbook %s (log %s):\n%s"
                                % (run.scenario, status, run.log, tail(output, 40)))
        elif run.idempotent and run.changed():
            changed = ", ".join("%s=%d" % (host, stats["changed"]) for host, stats in sorted(run.recap.items())
                                if stats["changed"])
            run.problems.append("FAIL %s: the idempotent run changed %s (log %s)" % (run.scenario, changed, run.log))
        return not run.problems

    def check_certificates(self, ca, servers):
        """ssh-keyscan -c from the CA container: every server offers a host certificate of each
        type naming it (keyscan prints certificates without the host they came from)."""
        argv = ["docker", "exec", ca, "ssh-keyscan", "-c", "-t", "ed25519,rsa", "-T", "10"] + servers
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        seen = set()
        for line in done.stdout.splitlines():
            if line.split(" ", 1)[0] in KEY_TYPES:
                cert = certs.parse_certificate("certificate", line)
                if cert.type_name == "host":
                    seen.update((name, cert.key_type) for name in cert.principals)
        missing = ["%s %s" % (name, key) for name in servers for key in KEY_TYPES if (name, key) not in seen]
        if missing:
            return ["FAIL host certificates not offered (ssh-keyscan -c from %s): %s" % (ca, ", ".join(missing))]
        return []

    def side(self, prefix, steps):
        """Start a fresh fleet, run `steps` (scenario, playbook, idempotent, extra args) in order
        while they succeed, check the host certificates after the first, remove the fleet."""
        ca, servers = self.names(prefix)
        inventory = os.path.join(self.workdir, "%s-inventory.yml" % prefix)
        write_inventory(inventory, ca, servers)
        problems = []
        self.up(ca, servers)
        for index, (scenario, playbook, idempotent, extra) in enumerate(steps):
            run = Run(scenario, prefix, idempotent, ca, servers)
            ok = self.playbook(run, inventory, playbook, *extra)
            problems += run.problems
            if not ok:
                break
            if index == 0:
                problems += self.check_certificates(ca, servers)
        if not self.options.keep:
            self.down([ca] + servers)
        return problems


    def pull_side(self, prefix, interval):
        """Start a fresh fleet that pulls the signed KRL every `interval`, enroll it, revoke a key
        id on the CA only, then time its arrival on every server; remove the fleet."""
        ca, servers = self.names(prefix)
        inventory = os.path.join(self.workdir, "%s-inventory.yml" % prefix)
        write_inventory(inventory, ca, servers)
        self.up(ca, servers)
        subprocess.run(["docker", "exec", ca, "mkdir", "-p", PUBLISH_DIR], check=True)
        subprocess.run(["docker", "exec", "-d", ca, "python3", "-m", "http.server", str(PULL_PORT),
                        "--directory", PUBLISH_DIR], check=True)
        pull = ("-e", "fleetca_ssh_krl_url=http://%s:%d/revoked.krl" % (ca, PULL_PORT),
                "-e", "fleetca_ssh_krl_sync_interval=%s" % interval, "-e", "fleetca_ssh_krl_publish_dir=" + PUBLISH_DIR)
        problems = []
        enroll = Run("fleetca.ssh.enroll (pull sync)", prefix, False, ca, servers)
        revoke = Run("revocation on the CA only", prefix, False, ca, servers)
        if (self.playbook(enroll, inventory, "fleetca.ssh.enroll", *pull)
                and self.playbook(revoke, inventory, REVOKE_ON_CA, "-e", json.dumps({"pull_key_ids": ["bench@pull"]}))):
            published = time.perf_counter()
            master = sha256_in(ca, MASTER_KRL)
            self.pull = {"interval": interval, "arrivals": arrivals(servers, master, published,
                                                                      self.options.timeout)}
            late = sorted(set(servers) - set(self.pull["arrivals"]))
            if late:
                problems.append("FAIL the pulled KRL did not reach %s within %d s" % (", ".join(late),
                                                                                   self.options.timeout))
        problems += enroll.problems + revoke.problems
        if not self.options.keep:
            self.down([ca] + servers)
        return problems


def sha256_in(container, path):
    done = subprocess.run(["docker", "exec", container, "sha256sum", path], capture_output=True, text=True,
                          check=False)
    return done.stdout.split()[0] if done.returncode == 0 and done.stdout else None


def arrivals(servers, master, since, timeout):
    """{server: seconds after `since` when its installed KRL became the master}: every pending
    server asked at once (one docker exec each) about every half second."""
    found, deadline = {}, since + timeout
    while len(found) < len(servers) and time.perf_counter() < deadline:
        pending = [name for name in servers if name not in found]
        asked = dict((name, subprocess.Popen(["docker", "exec", name, "sha256sum", INSTALLED_KRL],
                                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))
                     for name in pending)
        for name, process in asked.items():
            out = process.communicate()[0]
            if out.split()[:1] == [master]:
                found[name] = time.perf_counter() - since
        time.sleep(0.5)
    return found


def end_group(process):
    """End a process group we started (ansible-playbook and its forks): SIGTERM, then SIGKILL."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, signum)
            process.wait(10)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def run_group(argv, timeout, **kwargs):
    """(exit status, stdout+stderr) of a command run in a process group of its own; the status is
    None when it ran out of time. On an interruption the group is ended, then the error raised."""
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          start_new_session=True, **kwargs) as process:
        try:
            output = process.communicate(timeout=timeout)[0]
        except subprocess.TimeoutExpired:
            end_group(process)
            return None, process.communicate()[0]
        except BaseException:
            end_group(process)
            raise
    return process.returncode, output


def tail(text, count):
    return "\n".join(text.splitlines()[-count:])


def print_table(bench):
    runs = bench.runs
    baseline = {run.scenario.split(" (")[-1]: run for run in runs if run.side == "bench-base"}
    header = ("scenario", "wall s", "tasks/host", "skipped/host", "results/host", "CA tasks", "changed",
              "load", "vs baseline")
    fmt = "%-42s %7s %10s %12s %12s %8s %7s %6s %12s"
    print(fmt % header)
    for run in runs:
        versus = ""
        twin = baseline.get(run.scenario.split(" (")[-1]) if run.side != "bench-base" else None
        if twin is not None and twin.seconds and run.seconds:
            ratio = twin.seconds / run.seconds
            versus = "%.2fx faster" % ratio if ratio >= 1 else "%.2fx slower" % (1 / ratio)
        tasks = run.server_mean(run.servers, run.tasks)
        skipped = run.server_mean(run.servers, lambda host: run.recap.get(host, {}).get("skipped", 0))
        results = run.server_mean(run.servers, lambda host: run.results.get(host, 0))
        status = "" if run.rc == 0 else " FAILED"
        print(fmt % ((run.scenario + status)[:42], "%.1f" % run.seconds, "%.1f" % tasks, "%.1f" % skipped,
                     "%.1f" % results, run.tasks(run.ca), run.changed(), run.load.split()[0], versus))
    print("tasks/host: mean over the servers of ok+failed+unreachable in the PLAY RECAP (tasks that ran for "
          "the host; changed is part of ok; a loop counts once; a delegated or run_once task counts for the "
          "host it ran for); skipped/host: the recap's skipped; results/host: result lines per server "
          "(ok/changed/failed), loop items counted one by one; CA tasks: the recap's ok+failed on the CA "
          "host; changed: the recap's total, all hosts; load: 1-minute load average at the start.")


def print_profiles(bench, count):
    if count <= 0:
        return
    for run in bench.runs:
        if not run.profile:
            continue
        print("\nslowest tasks, %s (%.1f s; profile_tasks: wall time of each task across all hosts):"
              % (run.scenario, run.seconds))
        for name, seconds in sorted(run.profile, key=lambda item: -item[1])[:count]:
            print("  %6.2f s  %s" % (seconds, name))


def print_pull(bench):
    if not bench.pull or not bench.pull["arrivals"]:
        return
    times = sorted(bench.pull["arrivals"].values())
    print("\npull sync every %s: the KRL of a revocation made on the CA only, installed on every server "
          "(seconds after the revocation's playbook ended; a server asked every ~0.5 s):" % bench.pull["interval"])
    print("  servers %d, first %.1f s, median %.1f s, last %.1f s"
          % (len(times), times[0], times[len(times) // 2], times[-1]))


def verdicts(bench):
    notes = []
    by_name = {run.scenario: run for run in bench.runs if run.rc == 0}
    ours, theirs = by_name.get("fleetca.ssh.enroll (first)"), by_name.get("baseline openssh_cert (first)")
    if ours and theirs:
        ratio = theirs.seconds / ours.seconds
        notes.append("first enrollment: %.1f s against the baseline's %.1f s, %.2fx (target >= 2x faster): %s"
                     % (ours.seconds, theirs.seconds, ratio, "met" if ratio >= 2 else "MISSED"))
    again = by_name.get("fleetca.ssh.enroll (idempotent)")
    if again:
        notes.append("idempotent enrollment: %.1f s, changed=%d (target < 25 s): %s"
                     % (again.seconds, again.changed(), "met" if again.seconds < 25 else "MISSED"))
    for run in bench.runs:
        if again and run.rc == 0 and run.scenario.startswith(ROTATION_PREFIX):
            # the target: no slower than an idempotent enrollment plus the writes the phase makes
            notes.append("%s: %.1f s, %.1f tasks/server, changed=%d (idempotent enrollment %.1f s)"
                         % (run.scenario, run.seconds, run.server_mean(run.servers, run.tasks), run.changed(),
                            again.seconds))
    return notes


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=20, help="server containers per side (default 20)")
    parser.add_argument("--forks", type=int, default=10, help="ansible-playbook -f, the same for both sides")
    parser.add_argument("--releases", default="11,12,13",
                        help="Debian releases the servers cycle through (default 11,12,13; the CA is on 12)")
    parser.add_argument("--keep", action="store_true", help="leave the containers and the logs for inspection")
    parser.add_argument("--logs", help="write the playbook logs (and inventories) to this directory and keep them")
    parser.add_argument("--skip-baseline", action="store_true", help="run our side only")
    parser.add_argument("--pull-interval", default="30s", metavar="SPAN",
                        help="fleetca_ssh_krl_sync_interval of the pull side (default 30s)")
    parser.add_argument("--skip-pull", action="store_true", help="no pull side (its own N servers)")
    parser.add_argument("--skip-rotation", action="store_true",
                        help="no user and host CA rotation after the revocations")
    parser.add_argument("--pipelining", action="store_true",
                        help="run both sides with ANSIBLE_PIPELINING=1 (default: Ansible's default, off)")
    parser.add_argument("--timeout", type=int, default=1800,
                        help="seconds one ansible-playbook run may take before it counts as failed (default 1800)")
    parser.add_argument("--profile", type=int, default=6, metavar="N",
                        help="print the N slowest tasks of every run (0: none)")
    parser.add_argument("--collections", default=os.environ.get(
        "ANSIBLE_COLLECTIONS_PATH", os.path.join(REPO, ".build", "collections")),
        help="where fleetca.ssh is installed (default $ANSIBLE_COLLECTIONS_PATH or .build/collections)")
    parser.add_argument("--ansible-playbook", default=os.environ.get(
        "FLEETCA_ANSIBLE_PLAYBOOK", os.path.join(REPO, ".venv", "bin", "ansible-playbook")),
        help="ansible-playbook to run (default $FLEETCA_ANSIBLE_PLAYBOOK or .venv/bin/ansible-playbook)")
    options = parser.parse_args()
    options.releases = [release.strip() for release in options.releases.split(",") if release.strip()]
    if options.servers < 1 or options.forks < 1 or not options.releases:
        parser.error("--servers and --forks must be at least 1, --releases non-empty")
    if not os.path.isfile(os.path.join(options.collections, "ansible_collections", "fleetca", "ssh", "MANIFEST.json")):
        parser.error("fleetca.ssh is not installed under %s (make install)" % options.collections)
    if not os.access(options.ansible_playbook, os.X_OK):
        parser.error("%s is not executable" % options.ansible_playbook)
    return options


def main():
    options = parse_args()
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    workdir = options.logs or tempfile.mkdtemp(prefix="fleetca-fleet-bench-")
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "revocations.yml"), "w") as handle:
        handle.write("---\n" + REVOCATIONS)
    bench = Bench(options, workdir)
    print(describe_collection(options.collections), file=sys.stderr)
    print("N=%d servers (Debian %s), forks=%d, pipelining %s, load average at start %s, logs in %s"
          % (options.servers, "/".join(options.releases), options.forks, "on" if options.pipelining else "off",
             loadavg(), workdir), file=sys.stderr)
    revoke = ("-e", "@" + os.path.join(workdir, "revocations.yml"))
    problems = []
    try:
        problems += bench.side("bench", [
            ("fleetca.ssh.enroll (first)", "fleetca.ssh.enroll", False, ()),
            ("fleetca.ssh.enroll (idempotent)", "fleetca.ssh.enroll", True, ()),
            ("fleetca.ssh.revoke (KRL rollout)", "fleetca.ssh.revoke", False, revoke),
            ("fleetca.ssh.revoke (again, idempotent)", "fleetca.ssh.revoke", True, revoke),
        ] + ([] if options.skip_rotation else [
            ("%s%s %s" % (ROTATION_PREFIX, ca, phase), "fleetca.ssh.rotate", False,
             ("-e", "fleetca_ssh_rotate_ca=" + ca, "-e", "fleetca_ssh_rotate_phase=" + phase))
            for ca, phase in ROTATION]))
        if not options.skip_pull:
            problems += bench.pull_side("bench-pull", options.pull_interval)
        if not options.skip_baseline:
            problems += bench.side("bench-base", [
                ("baseline openssh_cert (first)", BASELINE, False, ()),
                ("baseline openssh_cert (idempotent)", BASELINE, True, ()),
            ])
    except (KeyboardInterrupt, Interrupted) as error:
        problems.append("FAIL interrupted (%s)" % (error or "Ctrl-C"))
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, RuntimeError) as error:
        problems.append("FAIL %s" % error)
    finally:
        if bench.started and not options.keep:
            try:
                bench.down(bench.started)
            except (subprocess.CalledProcessError, KeyboardInterrupt, Interrupted) as error:
                problems.append("FAIL removing containers %s: %s" % (" ".join(bench.started), error))

    print("\nN=%d servers (Debian %s, CA on Debian %s), forks=%d, pipelining %s, %d CPUs, load average at the end %s"
          % (options.servers, "/".join(options.releases), CA_RELEASE, options.forks,
             "on" if options.pipelining else "off", os.cpu_count(), loadavg()))
    if bench.runs:
        print_table(bench)
        print_pull(bench)
        print_profiles(bench, options.profile)
    print()
    for note in verdicts(bench) + problems:
        print(note)
    if options.keep or options.logs or problems:
        print("logs kept in %s" % workdir)
        if options.keep and bench.started:
            print("containers left running on %s: %s (remove: %s down %s %s)"
                  % (NETWORK, " ".join(bench.started), CONTAINERS, NETWORK, " ".join(bench.started)))
    else:
        subprocess.run(["rm", "-rf", workdir], check=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
