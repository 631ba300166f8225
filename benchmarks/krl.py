# SPDX-License-Identifier: GPL-3.0-or-later
"""KRL engine against ssh-keygen -k / -Q, on the same revocations in the same run.

Run as a script with PYTHONPATH pointing at an installed collection:

    PYTHONPATH=.build/collections python benchmarks/krl.py [--cases NAME ...]

Each measurement runs in a child process of its own, so that its wall time and
peak RSS are what one build or query costs: ours builds from revocations in
memory to an atomically written file (reading the input is not timed; peak RSS is
the child's VmHWM, which includes the interpreter); ssh-keygen -k reads a spec
file (peak RSS is getrusage RUSAGE_CHILDREN of a bare `python -S` launcher, so
never below that launcher's own few MiB: Linux carries maxrss across exec). Every output file is then
loaded by ssh-keygen -Q: OpenSSH refuses a serial bitmap over 2048 bytes, which
ssh-keygen -k itself writes for dense serials, and such a KRL locks everyone out.
"""

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

from ansible_collections.fleetca.ssh.plugins.module_utils import certs, files, keys, krl, signers

NOW = int(time.time())
SEED = 20260301


# --- the cases: revocations, as a spec for ssh-keygen and as input for us ---

def random_serials(rng, count, below):
    return rng.sample(range(1, below), count)


def spread_ranges(rng, count, length, below):
    """`count` disjoint ranges of `length` serials at random places below `below`."""
    slots = rng.sample(range(below // (length * 2)), count)
    return [(s * length * 2 + 1, s * length * 2 + length) for s in slots]


def case_inputs(rng):
    """name -> (description, input for us, spec lines for ssh-keygen)."""
    cases = {}
    serials = random_serials(rng, 100000, 10 ** 7)
    cases["serials-100k"] = ("100,000 random serials < 10^7", {"serials": serials},
                             ["serial: %d" % s for s in serials])
    ranges = spread_ranges(rng, 100000, 5, 10 ** 7)
    cases["ranges-100k"] = ("100,000 ranges of 5, spread < 10^7", {"ranges": ranges},
                            ["serial: %d-%d" % r for r in ranges])
    dense = [(i * 10 + 1, i * 10 + 5) for i in range(100000)]
    cases["ranges-100k-dense"] = ("100,000 ranges of 5, one every 10", {"ranges": dense},
                                  ["serial: %d-%d" % r for r in dense])
    ids = ["user%06d@example.com" % i for i in rng.sample(range(10 ** 6), 10000)]
    cases["key-ids-10k"] = ("10,000 key ids", {"key_ids": ids}, ["id: %s" % i for i in ids])
    million = random_serials(rng, 1000000, 10 ** 7)
    cases["serials-1M"] = ("1,000,000 random serials < 10^7", {"serials": million},
                           ["serial: %d" % s for s in million])
    return cases


# --- children -----------------------------------------------------------------

def child_build(input_path, ca_path, out_path):
    with open(input_path) as handle:
        data = json.load(handle)
    ca_blob = keys.load_public_key_option("ca", ca_path).blob
    started = time.perf_counter()
    model = krl.Krl(version=1, generated=NOW)
    section = model.cert_section(ca_blob, create=True)
    if "serials" in data:
        section.serials = krl.SerialSet.from_serials(data["serials"])
    elif "ranges" in data:
        section.serials = krl.SerialSet.from_lists([r[0] for r in data["ranges"]], [r[1] for r in data["ranges"]])
    else:
        section.key_ids = set(data["key_ids"])
    files.write_atomic(out_path, model.to_bytes(), 0o644)
    return time.perf_counter() - started


def child_query(krl_path, certs_path):
    with open(certs_path) as handle:
        lines = handle.read().splitlines()
    started = time.perf_counter()
    with open(krl_path, "rb") as handle:
        model = krl.parse_krl(handle.read())
    revoked = sum(model.check(certs.parse_certificate("certificate", line)) is not None for line in lines)
    elapsed = time.perf_counter() - started
    sys.stderr.write("REVOKED %d\n" % revoked)
    return elapsed


def run_child(*args):
    """(seconds, peak MiB, stderr) of this script run as a child with `args`."""
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--child"] + list(args),
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit("child %s failed:\n%s" % (args, done.stderr))
    result = json.loads(done.stdout)
    return result["seconds"], result["maxrss_kib"] / 1024.0, done.stderr


# A launcher as small as Python gets, so that its own RSS hides little of the tool's.
MEASURE = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=False)
print(json.dumps({"seconds": time.perf_counter() - started, "returncode": done.returncode,
                  "stdout": done.stdout, "stderr": done.stderr[-2000:],
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def run_tool(args):
    """(seconds, peak MiB, result) of a command, measured by a launcher of its own."""
    done = subprocess.run([sys.executable, "-S", "-c", MEASURE] + list(args),
                          capture_output=True, text=True, check=False)
    result = json.loads(done.stdout)
    return result["seconds"], result["maxrss_kib"] / 1024.0, result


def peak_rss_kib():
    """This process's own peak RSS (VmHWM: unlike ru_maxrss, not inherited across exec)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# --- the benchmark ------------------------------------------------------------

def loads(krl_path, probe_path):
    """Whether ssh-keygen -Q (so sshd) can load the KRL at all."""
    done = subprocess.run(["ssh-keygen", "-Q", "-f", krl_path, probe_path], capture_output=True, check=False)
    return done.returncode in (0, 1)


def write_certificates(workdir, rng, serials, count):
    """`count` Ed25519 certificates, half with revoked serials: one file each (for ssh-keygen -Q)
    and one file of all lines (for us)."""
    ca = signers.KeySigner(signers.generate_private_key("ed25519"))
    subject = keys.parse_public_key("public key", signers.public_key_line(signers.generate_private_key("ed25519")))
    revoked = rng.sample(serials, count // 2)
    picked = revoked + [rng.randint(1, 10 ** 7) for _index in range(count - len(revoked))]
    lines, paths = [], []
    for index, serial in enumerate(picked):
        request = certs.CertRequest(certs.USER_CERT, subject, ["u"], "q%d" % index, NOW - 60, NOW + 3600)
        line = certs.sign_certificate(request, serial, ca).to_line()
        lines.append(line)
        paths.append(os.path.join(workdir, "q%05d-cert.pub" % index))
        with open(paths[-1], "w") as handle:
            handle.write(line + "\n")
    all_path = os.path.join(workdir, "query-certs.txt")
    with open(all_path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return ca, all_path, paths


def bench_build(name, description, data, spec_lines, workdir, ca_pub):
    input_path = os.path.join(workdir, name + ".json")
    with open(input_path, "w") as handle:
        json.dump(data, handle)
    spec_path = os.path.join(workdir, name + ".spec")
    with open(spec_path, "w") as handle:
        handle.write("\n".join(spec_lines) + "\n")
    ours_path = os.path.join(workdir, name + ".ours.krl")
    theirs_path = os.path.join(workdir, name + ".ssh-keygen.krl")
    ours_time, ours_mem, _stderr = run_child("build", input_path, ca_pub, ours_path)
    keygen_time, keygen_mem, done = run_tool(["ssh-keygen", "-q", "-k", "-z", "1", "-f", theirs_path,
                                              "-s", ca_pub, spec_path])
    if done["returncode"] != 0:
        sys.exit("ssh-keygen -k failed for %s: %s" % (name, done["stderr"]))
    return [
        (description, "fleetca", ours_time, os.path.getsize(ours_path), ours_mem, loads(ours_path, ca_pub)),
        (description, "ssh-keygen", keygen_time, os.path.getsize(theirs_path), keygen_mem,
         loads(theirs_path, ca_pub)),
    ]


def bench_query(workdir, rng, serials, count):
    """Query `count` certificates against the serials-100k KRL, rebuilt with their CA."""
    ca, all_path, paths = write_certificates(workdir, rng, serials, count)
    ca_pub = os.path.join(workdir, "query_ca.pub")
    with open(ca_pub, "w") as handle:
        handle.write(ca.public_key.to_line() + "\n")
    model = krl.Krl(version=1, generated=NOW)
    model.cert_section(ca.public_key.blob, create=True).serials = krl.SerialSet.from_serials(serials)
    krl_path = os.path.join(workdir, "query.krl")
    files.write_atomic(krl_path, model.to_bytes(), 0o644)
    ours_time, ours_mem, stderr = run_child("query", krl_path, all_path)
    ours_revoked = int(stderr.rsplit("REVOKED ", 1)[1])
    keygen_time, keygen_mem, done = run_tool(["ssh-keygen", "-Q", "-f", krl_path] + paths)
    keygen_revoked = done["stdout"].count(": REVOKED")
    if keygen_revoked != ours_revoked:
        sys.exit("query disagreement: ssh-keygen revoked %d, we revoked %d" % (keygen_revoked, ours_revoked))
    description = "query %d certs vs 100k-serial KRL" % count
    size = os.path.getsize(krl_path)
    return [(description, "fleetca", ours_time, size, ours_mem, True),
            (description, "ssh-keygen", keygen_time, size, keygen_mem, True)]


# --- through ansible-playbook: what a user's task costs ---------------------------------------

# A module that takes the krl module's arguments and does nothing: what Ansible alone costs to
# hand a task its arguments (templating, transfer, argument checks), the floor no module goes under.
NOOP_MODULE = """
from ansible.module_utils.basic import AnsibleModule
ANY = dict(type="raw")
module = AnsibleModule(argument_spec=dict(
    path=dict(type="path", required=True), state=dict(type="str", default="present"),
    ca_public_key=dict(type="str"), serials=dict(type="list", elements="raw", default=[]),
    key_ids=dict(type="list", elements="str", default=[], no_log=False),
    public_keys=dict(type="list", elements="str", default=[]),
    sha256_fingerprints=dict(type="list", elements="str", default=[]), spec_file=dict(type="path"),
    issued=dict(type="list", elements="dict", default=[]), store=dict(type="path"),
    prune_expired=dict(type="bool", default=False), comment=dict(type="str"), krl_version=dict(type="int"),
    lock_timeout=dict(type="int", default=120)), supports_check_mode=True, add_file_common_args=True)
module.exit_json(changed=False)
"""

PROFILE_LINE = re.compile(r"^(.*?)\s+-{3,}\s+([0-9.]+)s$")


def profile_of(output):
    """Task name -> seconds, from ansible.posix.profile_tasks' summary."""
    times = {}
    for line in output.split("PLAY RECAP", 1)[-1].splitlines():
        match = PROFILE_LINE.match(line.strip())
        if match:
            times[match.group(1).strip()] = float(match.group(2))
    return times


def bench_playbook(workdir, serials, ca_pub):
    """100,000 serials through fleetca.ssh.krl in a playbook (as a list and as a spec file), the
    same list handed to a no-op module, and one serial added to the 100,000-serial KRL; beside
    ssh-keygen -k on the same spec."""
    library = os.path.join(workdir, "library")
    os.makedirs(library, exist_ok=True)
    with open(os.path.join(library, "fleetca_noop_krl.py"), "w") as handle:
        handle.write(NOOP_MODULE)
    spec_path = os.path.join(workdir, "playbook.spec")
    with open(spec_path, "w") as handle:
        handle.write("".join("serial: %d\n" % s for s in serials))
    with open(os.path.join(workdir, "serials.json"), "w") as handle:
        json.dump({"serials": serials}, handle)
    listed, from_spec = os.path.join(workdir, "listed.krl"), os.path.join(workdir, "spec.krl")
    tasks = [
        {"name": "warm up", "ansible.builtin.ping": {}},
        {"name": "noop: 100k serials", "fleetca_noop_krl": {"path": listed, "ca_public_key": ca_pub,
                                                            "serials": "{{ serials }}"}},
        {"name": "krl: 100k serials", "fleetca.ssh.krl": {"path": listed, "ca_public_key": ca_pub,
                                                          "serials": "{{ serials }}"}},
        {"name": "krl: 100k serials, spec_file", "fleetca.ssh.krl": {"path": from_spec, "ca_public_key": ca_pub,
                                                                      "spec_file": spec_path}},
        {"name": "krl: +1 serial to the 100k KRL", "fleetca.ssh.krl": {"path": listed, "ca_public_key": ca_pub,
                                                                         "serials": [10 ** 7 + 1]}},
    ]
    playbook = os.path.join(workdir, "krl-playbook.yml")
    with open(playbook, "w") as handle:
        json.dump([{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks}], handle)
    env = dict(os.environ, ANSIBLE_LIBRARY=library, ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks",
               PROFILE_TASKS_TASK_OUTPUT_LIMIT="all", ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", os.environ.get("PYTHONPATH", ""))
    ansible_playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    done = subprocess.run([ansible_playbook, "-i", "localhost,", playbook, "-e", "@" + os.path.join(workdir, "serials.json")],
                          capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        sys.exit("ansible-playbook failed:\n%s%s" % (done.stdout[-4000:], done.stderr[-2000:]))
    times = profile_of(done.stdout)
    keygen_time, dummy, keygen = run_tool(["ssh-keygen", "-q", "-k", "-z", "1", "-f",
                                           os.path.join(workdir, "playbook.ssh-keygen.krl"), "-s", ca_pub, spec_path])
    if keygen["returncode"] != 0:
        sys.exit("ssh-keygen -k failed: %s" % keygen["stderr"])
    if krl.parse_krl(open(listed, "rb").read()).cert_section(
            keys.load_public_key_option("ca", ca_pub).blob).serials.count() != len(serials) + 1:
        sys.exit("the playbook's KRL does not hold every serial")
    own_share = times["krl: 100k serials"] - times["noop: 100k serials"]
    return [
        ("100k serials, task (list)", times["krl: 100k serials"]),
        ("100k serials, no-op module, same list", times["noop: 100k serials"]),
        ("100k serials, module's own share", own_share),
        ("100k serials, task (spec_file)", times["krl: 100k serials, spec_file"]),
        ("100k serials, ssh-keygen -k", keygen_time),
        ("+1 serial to the 100k KRL, task", times["krl: +1 serial to the 100k KRL"]),
    ]


def playbook_verdicts(rows):
    """Targets: own share and spec-file task <= 2x ssh-keygen -k; +1 serial < 1 s."""
    seconds = dict(rows)
    keygen = seconds["100k serials, ssh-keygen -k"]
    notes = []
    for name in ("100k serials, module's own share", "100k serials, task (spec_file)"):
        if seconds[name] > 2 * keygen:
            notes.append("FAIL time: %s: %.2f s > 2x ssh-keygen -k's %.2f s" % (name, seconds[name], keygen))
    if seconds["+1 serial to the 100k KRL, task"] >= 1:
        notes.append("FAIL time: +1 serial: %.2f s, target < 1 s" % seconds["+1 serial to the 100k KRL, task"])
    return notes


def print_table(rows):
    header = ("case", "tool", "time s", "size bytes", "peak MiB", "loads")
    print("%-38s %-10s %8s %11s %9s %6s" % header)
    for description, tool, seconds, size, mem, loaded in rows:
        loaded = "yes" if loaded else "NO"
        print("%-38s %-10s %8.2f %11d %9.1f %6s" % (description[:38], tool, seconds, size, mem, loaded))


def verdicts(rows):
    """The targets: size <= ssh-keygen's where its KRL loads, build time within 2x, 1M < 5 s."""
    notes = []
    for ours, theirs in zip(rows[::2], rows[1::2]):
        description = ours[0]
        if description.startswith("query"):
            continue
        if theirs[5] and ours[3] > theirs[3]:
            notes.append("FAIL size: %s: %d > ssh-keygen's %d" % (description, ours[3], theirs[3]))
        if not theirs[5]:
            notes.append("note: %s: ssh-keygen's KRL does not load (bitmap over 2048 bytes); ours, %+.1f%%, does"
                         % (description, 100.0 * (ours[3] - theirs[3]) / theirs[3]))
        if ours[2] > 2 * theirs[2]:
            notes.append("FAIL time: %s: %.2f s > 2x ssh-keygen's %.2f s" % (description, ours[2], theirs[2]))
        if description.startswith("1,000,000") and ours[2] >= 5:
            notes.append("FAIL time: %s: %.2f s, target < 5 s" % (description, ours[2]))
    return notes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="*", help="cases to run (default: all; `query`, `playbook` included)")
    parser.add_argument("--query-certs", type=int, default=10000)
    parser.add_argument("--keep", help="keep the files in this directory")
    options = parser.parse_args()
    if not shutil.which("ssh-keygen"):
        sys.exit("ssh-keygen not found (openssh-client)")
    rng = random.Random(SEED)
    workdir = options.keep or tempfile.mkdtemp(prefix="fleetca-krl-bench-")
    os.makedirs(workdir, exist_ok=True)
    ca = signers.KeySigner(signers.generate_private_key("ed25519"))
    ca_pub = os.path.join(workdir, "ca.pub")
    with open(ca_pub, "w") as handle:
        handle.write(ca.public_key.to_line() + "\n")
    cases = case_inputs(rng)
    rows = []
    try:
        for name, (description, data, spec_lines) in cases.items():
            if options.cases and name not in options.cases:
                continue
            print("running %s ..." % name, file=sys.stderr)
            rows += bench_build(name, description, data, spec_lines, workdir, ca_pub)
        if options.query_certs and (not options.cases or "query" in options.cases):
            print("running query ...", file=sys.stderr)
            rows += bench_query(workdir, rng, cases["serials-100k"][1]["serials"], options.query_certs)
        playbook_rows = []
        if not options.cases or "playbook" in options.cases:
            print("running playbook ...", file=sys.stderr)
            playbook_rows = bench_playbook(workdir, cases["serials-100k"][1]["serials"], ca_pub)
    finally:
        if not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print_table(rows)
    notes = verdicts(rows)
    if playbook_rows:
        print("\n%-42s %8s" % ("through ansible-playbook (profile_tasks)", "time s"))
        for name, seconds in playbook_rows:
            print("%-42s %8.2f" % (name, seconds))
        notes += playbook_verdicts(playbook_rows)
    for note in notes:
        print(note)
    return 1 if any(n.startswith("FAIL") for n in notes) else 0


def child_main(argv):
    kind, args = argv[0], argv[1:]
    seconds = child_build(*args) if kind == "build" else child_query(*args)
    print(json.dumps({"seconds": seconds, "maxrss_kib": peak_rss_kib()}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child_main(sys.argv[2:])
    else:
        sys.exit(main())
