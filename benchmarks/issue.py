# SPDX-License-Identifier: GPL-3.0-or-later
"""Wall time of playbook fleetca.ssh.issue for one person, beside ansible-playbook's own start (an
empty play), in one run; each task's time from ansible.posix.profile_tasks.

Run as a script with PYTHONPATH pointing at an installed collection (after make install):
    PYTHONPATH=.build/collections .venv/bin/python benchmarks/issue.py [--rounds 5] [--compare LABEL=DIR]
The CA is made on the controller (the ssh_ca host is localhost, ansible_connection local, as
tests/interop/playbooks/test_issue.py sets it up) with role fleetca.ssh.ca; each round then runs the
empty play and the issue playbook (a person, a public key file, a dest). --compare LABEL=DIR (repeatable)
adds the issue playbook of another installed collection (DIR holds ansible_collections/, e.g. main's
.build/collections) to every round, interleaved, so that before and after see the same load.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import ansible_collections.fleetca.ssh as collection

PLAY_POLICY = {
    "fleetca_ssh_user_cert_profiles": {
        "ops": {"principals": ["{user}", "deploy"], "valid_for": "+8h", "max_valid_for": "+12h"}},
    "fleetca_ssh_users": {"alice": {"profiles": ["default", "ops"]}},
}
# profile_tasks' recap line: "NAME ---...--- 1.23s"
RECAP_LINE = re.compile(r"^(?P<name>.+?) -{3,} (?P<seconds>\d+\.\d+)s$")


def collections_root(package):
    path = os.path.abspath(list(package.__path__)[0])  # .../ansible_collections/fleetca/ssh
    return os.path.dirname(os.path.dirname(os.path.dirname(path)))


def ansible_playbook(workdir, root, args):
    """One ansible-playbook run on the collections under ROOT; return (seconds, {task: seconds})."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=root, ANSIBLE_HOME=os.path.join(workdir, "home"),
               ANSIBLE_LOCAL_TEMP=os.path.join(workdir, "tmp"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks", PROFILE_TASKS_SORT_ORDER="none",
               PROFILE_TASKS_TASK_OUTPUT_LIMIT="all")
    env.pop("PYTHONPATH", None)  # ansible-playbook finds the collection through ANSIBLE_COLLECTIONS_PATH only
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i",
               os.path.join(workdir, "inventory.json")] + args
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=workdir, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit("ansible-playbook %s failed:\n%s%s" % (" ".join(args), done.stdout[-3000:], done.stderr[-2000:]))
    recap = done.stdout.rsplit("=" * 20, 1)[-1]
    tasks = {}
    for line in recap.splitlines():
        match = RECAP_LINE.match(line.strip())
        if match:
            tasks[match.group("name")] = float(match.group("seconds"))
    return elapsed, tasks


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--compare", action="append", default=[], metavar="LABEL=DIR",
                        help="collections root of another build to time in the same rounds (e.g. before=DIR)")
    options = parser.parse_args()
    current = collections_root(collection)
    cases = [(label, os.path.abspath(root)) for label, root in (pair.split("=", 1) for pair in options.compare)]
    cases.append(("this", current))
    workdir = tempfile.mkdtemp(prefix="fleetca-bench-issue-")
    inventory = {"all": {
        "vars": dict(PLAY_POLICY, ansible_python_interpreter=sys.executable,
                     fleetca_ssh_ca_dir=os.path.join(workdir, "ca")),
        "children": {"ssh_ca": {"hosts": {"ca": {"ansible_connection": "local", "ansible_become": False}}}}}}
    with open(os.path.join(workdir, "inventory.json"), "w") as handle:
        json.dump(inventory, handle)
    for name, play in (("ca.yml", {"roles": ["fleetca.ssh.ca"]}), ("empty.yml", {"tasks": []})):
        with open(os.path.join(workdir, name), "w") as handle:
            json.dump([dict(play, hosts="ssh_ca", gather_facts=False)], handle)
    key = os.path.join(workdir, "alice")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
    ansible_playbook(workdir, current, ["ca.yml"])

    walls = {"empty play": []}
    tasks = {}
    loads = [os.getloadavg()[0]]
    for round_index in range(options.rounds):
        walls["empty play"].append(ansible_playbook(workdir, current, ["empty.yml"])[0])
        for label, root in cases:
            dest = os.path.join(workdir, "alice-%s-%d-cert.pub" % (label, round_index))
            request = {"fleetca_ssh_issue_user": "alice", "fleetca_ssh_issue_public_key_file": key + ".pub",
                       "fleetca_ssh_issue_dest": dest}
            seconds, timed = ansible_playbook(workdir, root, ["fleetca.ssh.issue", "-e", json.dumps(request)])
            if not os.path.exists(dest):
                sys.exit("%s: no certificate written at %s" % (label, dest))
            walls.setdefault("issue, " + label, []).append(seconds)
            for task, task_seconds in timed.items():
                tasks.setdefault(task, {}).setdefault(label, []).append(task_seconds)
        loads.append(os.getloadavg()[0])

    empty = statistics.median(walls["empty play"])
    print("%-44s %8s %8s   %s" % ("ansible-playbook", "median s", "- empty", "runs s"))
    for name, runs in walls.items():
        median = statistics.median(runs)
        over = "" if name == "empty play" else "%.2f" % (median - empty)
        print("%-44s %8.2f %8s   %s" % (name, median, over, " ".join("%.2f" % run for run in runs)))
    labels = [label for label, root in cases]
    print("\n%-70s %s" % ("task (profile_tasks, median s)", " ".join("%7s" % label for label in labels)))
    for task, by_label in tasks.items():
        medians = ["%.2f" % statistics.median(by_label[label]) if label in by_label else "-" for label in labels]
        print("%-70s %s" % (task[:70], " ".join("%7s" % median for median in medians)))
    print("\nload average (1 min) at each round's end: %s (2 cores)" % " ".join("%.1f" % load for load in loads))
    print("target: issue under 3 s on an idle machine, most of it Ansible's own start (the empty play)")
    shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
