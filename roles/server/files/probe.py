# fleetca.ssh.server: what the installed OpenSSH knows and what this host has.
# Run by the server role as `python -c THIS_FILE JSON_ARGS`; prints one JSON document.
# Read-only: it runs `ssh -V`, `ssh -Q ...`, `sshd -T` and `systemctl is-active/is-enabled`
# and reads files. The role compares what it wants with this one answer and only calls a
# module where something differs, so an unchanged host costs a handful of round trips.
# Keep it compatible with Python 3.6+ (every supported distribution's system Python).
import fnmatch
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

ARGS = json.loads(sys.argv[1])
RESULT = {"errors": []}
ENV = dict(os.environ, LC_ALL="C")
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin", "/sbin", "/bin"])


def run(argv):
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    out, err = proc.communicate()
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def file_state(path):
    """Content (text) and ownership of a small file, or None when it does not exist."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return {"content": read(path) if os.path.isfile(path) else None, "mode": "%04o" % (info.st_mode & 0o7777),
            "uid": info.st_uid, "gid": info.st_gid, "isdir": os.path.isdir(path)}


def digest(path):
    """SHA-256 (hex) of a file's bytes, or None when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except (IOError, OSError):
        return None


def which(name, given=None):
    if given:
        return given if os.access(given, os.X_OK) else None
    return shutil.which(name, path=SEARCH_PATH)


def read(path):
    """A file's text (UTF-8, whatever the locale); undecodable bytes become U+FFFD."""
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")
    except (IOError, OSError):
        return None


ssh = which("ssh")
sshd = which("sshd", ARGS.get("sshd"))
RESULT["ssh"] = ssh
RESULT["sshd"] = sshd

# Algorithms: `ssh -Q` lists what this OpenSSH build implements (ssh and sshd come from the
# same source package). HostKeyAlgorithms has its own query since 8.x; older ones: key-sig, key.
QUERIES = {
    "kex": ["kex"],
    "cipher": ["cipher"],
    "mac": ["mac"],
    "host_key": ["HostKeyAlgorithms", "key-sig", "key"],
    "sig": ["sig", "key"],
}
RESULT["query"] = {}
if ssh:
    rc, out, err = run([ssh, "-V"])
    RESULT["ssh_version"] = (err or out).strip()
    for name, candidates in QUERIES.items():
        for query in candidates:
            rc, out, err = run([ssh, "-Q", query])
            if rc == 0 and out.strip():
                RESULT["query"][name] = out.split()
                break
        else:
            RESULT["errors"].append("ssh -Q %s failed: %s" % (candidates[0], err.strip()))
else:
    RESULT["errors"].append("no ssh client binary found (it lists the supported algorithms)")

# Option names the installed sshd knows: the keys of its effective configuration with an
# empty config file (its defaults); and the effective live configuration. Both need the host
# keys and the privilege separation directory.
RESULT["run_sshd"] = os.path.isdir("/run/sshd")
RESULT["options"] = []
RESULT["effective"] = None
if sshd:
    rc, out, err = run([sshd, "-T", "-f", "/dev/null"])
    if rc == 0:
        RESULT["options"] = sorted(set(line.split(" ", 1)[0].lower() for line in out.splitlines() if line.strip()))
    else:
        RESULT["errors"].append("sshd -T -f /dev/null failed: %s" % err.strip())
    rc, out, err = run([sshd, "-T"])
    if rc == 0:
        RESULT["effective"] = out.splitlines()
else:
    RESULT["errors"].append("no sshd binary found")

# Does the main config include the drop-in directory? Which active lines come before the
# Include (they would win over the drop-in for first-value-wins options)?
main = ARGS["main"]
dropin = ARGS["dropin"]
dropin_dir = os.path.dirname(dropin)
include_re = re.compile(r"^\s*include(\s+|\s*=\s*)(.*)$", re.IGNORECASE)
text = read(main)
RESULT["main_exists"] = text is not None
RESULT["includes_dropin_dir"] = False
RESULT["lines_before_include"] = []
if text is not None:
    before = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = include_re.match(stripped)
        if match:
            for pattern in match.group(2).split():
                pattern = pattern.strip('"')
                if not os.path.isabs(pattern):
                    pattern = os.path.join("/etc/ssh", pattern)
                same_dir = os.path.dirname(pattern) == dropin_dir
                if same_dir and fnmatch.fnmatch(os.path.basename(dropin), os.path.basename(pattern)):
                    RESULT["includes_dropin_dir"] = True
            if RESULT["includes_dropin_dir"]:
                break
        if stripped.lower().startswith("match "):
            before = []  # lines after the first Match belong to it: they cannot be before a global Include
            break
        before.append("%d: %s" % (number, stripped))
    if RESULT["includes_dropin_dir"]:
        RESULT["lines_before_include"] = before
RESULT["dropins"] = sorted(glob.glob(os.path.join(dropin_dir, "*.conf")))

# Host keys and their certificates, by type.
RESULT["host_keys"] = {}
for key_type in ARGS["types"]:
    base = os.path.join(ARGS["key_dir"], "ssh_host_%s_key" % key_type)
    public = read(base + ".pub")
    cert = read(base + "-cert.pub")
    RESULT["host_keys"][key_type] = {
        "path": base,
        "private_exists": os.path.exists(base),
        "public_key": public.strip() if public else None,
        "certificate": cert.strip() if cert else None,
        "certificate_file": file_state(base + "-cert.pub"),
    }

# The other files the role manages: text files with their content; binary ones (the KRL, which
# can be large) only with their SHA-256.
RESULT["files"] = dict((path, file_state(path)) for path in ARGS.get("files", []))
RESULT["digests"] = dict((path, digest(path)) for path in ARGS.get("digest_files", []))
principals_dir = ARGS.get("principals_dir")
RESULT["principals_dir"] = file_state(principals_dir) if principals_dir else None
RESULT["principals_files"] = {}
if RESULT["principals_dir"] and RESULT["principals_dir"]["isdir"]:
    for name in sorted(os.listdir(principals_dir)):
        RESULT["principals_files"][name] = file_state(os.path.join(principals_dir, name))

# The service (systemd only; elsewhere the role asks the service module).
RESULT["service"] = None
systemctl = which("systemctl")
if systemctl and ARGS.get("service") and os.path.isdir("/run/systemd/system"):
    active = run([systemctl, "is-active", ARGS["service"]])[1].strip()
    enabled = run([systemctl, "is-enabled", ARGS["service"]])[1].strip()
    RESULT["service"] = {"active": active == "active", "enabled": enabled == "enabled"}

print(json.dumps(RESULT))
