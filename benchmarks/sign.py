# SPDX-License-Identifier: GPL-3.0-or-later
"""Sign 10,000 Ed25519 host keys in one fleetca.ssh.cert batch call, against ssh-keygen -s.

Run as a script (make bench-sign, or with PYTHONPATH pointing at an installed collection):
the module runs as Ansible runs it, a separate Python process fed a JSON argument file,
so its wall time and peak RSS are what a playbook task costs on the CA host.
ssh-keygen runs one process per certificate on a sample, as community.crypto does.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

import ansible_collections.fleetca.ssh.plugins.modules.cert as cert_module


def public_key_line(key):
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode()


def run_module(args, workdir):
    """Run the cert module in a child process; return (seconds, result, peak RSS MiB)."""
    args_path = os.path.join(workdir, "args.json")
    with open(args_path, "w") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
    script = ("import resource, runpy, sys; sys.argv = [sys.argv[0], %r]\n"
              "try:\n    runpy.run_path(%r, run_name='__main__')\n"
              "finally:\n    sys.stderr.write('MAXRSS %%d\\n' %% resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
              % (args_path, cert_module.__file__))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    result = json.loads(done.stdout)
    if result.get("failed"):
        sys.exit("module failed: %s" % result.get("msg"))
    rss_kib = int(done.stderr.rsplit("MAXRSS ", 1)[1])
    return elapsed, result, rss_kib / 1024.0


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certs", type=int, default=10000)
    parser.add_argument("--ssh-keygen-sample", type=int, default=200)
    options = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="fleetca-bench-")
    ca_path = os.path.join(workdir, "host_ca")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", ca_path], check=True)
    lines = [public_key_line(ed25519.Ed25519PrivateKey.generate()) for count in range(options.certs)]
    requests = [dict(type="host", public_key=line, principals=["host%d" % i, "host%d.example.com" % i],
                     valid_for="+52w", renew_before="+4w", requester="host%d" % i)
                for i, line in enumerate(lines)]
    base = dict(ca_key=ca_path, store=os.path.join(workdir, "issued.db"))

    # ssh-keygen first: RUSAGE_CHILDREN's peak then covers only its processes
    keygen_s, keygen_rss = run_ssh_keygen(ca_path, lines[:options.ssh_keygen_sample], workdir)
    first_s, first, first_rss = run_module(dict(base, requests=requests), workdir)
    current = [dict(request, current_certificate=signed["certificate"])
               for request, signed in zip(requests, first["certificates"])]
    again_s, again, again_rss = run_module(dict(base, requests=current), workdir)
    assert not again["changed"], "idempotent batch re-signed"

    ours_rate = options.certs / first_s
    keygen_rate = options.ssh_keygen_sample / keygen_s
    rows = [
        ("fleetca.ssh.cert batch (sign)", options.certs, first_s, ours_rate, first_rss),
        ("fleetca.ssh.cert batch (idempotent)", options.certs, again_s, options.certs / again_s, again_rss),
        ("ssh-keygen -s, one process per cert", options.ssh_keygen_sample, keygen_s, keygen_rate, keygen_rss),
    ]
    print("%-38s %8s %9s %10s %10s" % ("case", "certs", "seconds", "certs/s", "peak MiB"))
    for name, count, seconds, rate, rss in rows:
        print("%-38s %8d %9.2f %10.0f %10.1f" % (name, count, seconds, rate, rss))
    print("batch signing is %.1fx ssh-keygen (target: >= 5,000 certs/s, > 20x, < 200 MiB peak)"
          % (ours_rate / keygen_rate))
    subprocess.run(["rm", "-rf", workdir], check=True)


if __name__ == "__main__":
    main()
