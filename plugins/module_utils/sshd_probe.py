# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a server's installed OpenSSH knows and what the host has, read in one pass.

Read-only: runs `ssh -V`, `ssh -Q ...`, `sshd -T` and `systemctl is-active/is-enabled`, and
reads files. The server role compares what it wants with this one answer and calls a module
only where something differs. Standard library only (servers need not have `cryptography`);
Python 3.6+.

The module fleetca.ssh.sshd_info runs it: its action plugin sends this file and
sshd_config.py as one `python -c` payload to the module Python (see `payload_main`), one
connection round trip instead of the five or six of a module call without pipelining, on every
server at every run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import hashlib
import os
import platform
import shutil
import socket
import subprocess
import sys
import time

from ansible_collections.fleetca.ssh.plugins.module_utils.sshd_config import include_layout

SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin", "/sbin", "/bin"])

# Algorithms: `ssh -Q` lists what this OpenSSH build implements (ssh and sshd come from the
# same source package). HostKeyAlgorithms has its own query since 8.x; older ones: key-sig, key.
QUERIES = {
    "kex": ["kex"],
    "cipher": ["cipher"],
    "mac": ["mac"],
    "host_key": ["HostKeyAlgorithms", "key-sig", "key"],
    "sig": ["sig", "key"],
}
# A host key rotation generates the new key as FILE.fleetca-new (and .pub) beside host key FILE;
# fleetca.ssh.sshd_trust moves it over FILE together with its new certificate.
STAGED_SUFFIX = ".fleetca-new"
# /etc/os-release ID or ID_LIKE -> Ansible's os_family.
OS_FAMILIES = {"debian": "Debian", "ubuntu": "Debian", "rhel": "RedHat", "fedora": "RedHat",
               "centos": "RedHat", "suse": "Suse", "arch": "Archlinux", "alpine": "Alpine"}


def run(argv):
    """(exit status, stdout, stderr) of a command run in the C locale."""
    env = dict(os.environ, LC_ALL="C")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err = proc.communicate()
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def read_text(path):
    """A file's text (UTF-8 whatever the locale, bad bytes as U+FFFD), None when unreadable."""
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")
    except (IOError, OSError):
        return None


def file_state(path):
    """Content (text), mode and ownership of a small file, or None when it does not exist."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return {"content": read_text(path) if os.path.isfile(path) else None, "mode": "%04o" % (info.st_mode & 0o7777),
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


def os_family(os_release_text):
    """Ansible's os_family from /etc/os-release (ID, then ID_LIKE), else the ID as it is."""
    values = {}
    for line in (os_release_text or "").splitlines():
        if "=" in line:
            name, value = line.split("=", 1)
            values[name.strip()] = value.strip().strip('"').strip("'")
    candidates = [values.get("ID", "")] + values.get("ID_LIKE", "").split()
    for candidate in candidates:
        if candidate.lower() in OS_FAMILIES:
            return OS_FAMILIES[candidate.lower()]
    return values.get("ID", "unknown").capitalize()


def host_names():
    """The short host name and the FQDN, as Ansible's setup reports them."""
    return {"hostname": platform.node().split(".")[0], "fqdn": socket.getfqdn()}


def algorithms(ssh, errors):
    found = {}
    for name, candidates in QUERIES.items():
        for query in candidates:
            status, out, err = run([ssh, "-Q", query])
            if status == 0 and out.strip():
                found[name] = out.split()
                break
        else:
            errors.append("ssh -Q %s failed: %s" % (candidates[0], err.strip()))
    return found


def sshd_options(sshd, errors):
    """(option names sshd knows, the live effective configuration lines or None).

    Names: the keys of `sshd -T` with an empty config (its defaults). Both need the host
    keys and the privilege separation directory."""
    names = []
    status, out, err = run([sshd, "-T", "-f", "/dev/null"])
    if status == 0:
        names = sorted(set(line.split(" ", 1)[0].lower() for line in out.splitlines() if line.strip()))
    else:
        errors.append("sshd -T -f /dev/null failed: %s" % err.strip())
    status, out, err = run([sshd, "-T"])
    return names, (out.splitlines() if status == 0 else None)


def host_keys(types, key_dir):
    """Each type's host key, its certificate, and the new key a rotation staged beside it."""
    found = {}
    for key_type in types:
        base = os.path.join(key_dir, "ssh_host_%s_key" % key_type)
        public = read_text(base + ".pub")
        cert = read_text(base + "-cert.pub")
        staged = base + STAGED_SUFFIX
        staged_public = read_text(staged + ".pub")
        found[key_type] = {
            "path": base,
            "private_exists": os.path.exists(base),
            "public_key": public.strip() if public else None,
            "certificate": cert.strip() if cert else None,
            "certificate_file": file_state(base + "-cert.pub"),
            "staged_path": staged,
            "staged_public_key": staged_public.strip() if staged_public else None,
            "staged_files": [path for path in (staged, staged + ".pub") if os.path.lexists(path)],
        }
    return found


def effective_value(effective, name, default):
    """The value of one `sshd -T` option (lower-case name), `default` when absent."""
    prefix = name + " "
    for line in effective or ():
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    return default


def running_sshd_loaded_at(effective):
    """When the running sshd last read its configuration and host keys, None when none runs
    from its PidFile: sshd rewrites that file when it starts and at every reload (SIGHUP makes
    it execute itself again), so its mtime is the moment of the last (re)load."""
    pid_file = effective_value(effective, "pidfile", "/run/sshd.pid")
    try:
        with open(pid_file) as handle:
            pid = int(handle.read().strip() or 0)
        loaded_at = os.stat(pid_file).st_mtime
    except (IOError, OSError, ValueError):
        return None
    if pid <= 0 or not os.path.exists("/proc/%d" % pid):
        return None
    return loaded_at


def changed_since(loaded_at, paths):
    """The files among `paths` written after `loaded_at` (sorted; none when no sshd runs): what
    the running sshd has not loaded yet, such as the writes of a run that stopped before its
    reload handler."""
    if loaded_at is None:
        return []
    changed = []
    for path in paths:
        try:
            if os.stat(path).st_mtime > loaded_at:
                changed.append(path)
        except OSError:
            continue
    return sorted(set(changed))


def service_state(name):
    """{active, enabled} of a systemd unit (a service, a timer); None without systemd."""
    systemctl = which("systemctl")
    if not (systemctl and os.path.isdir("/run/systemd/system")):
        return None
    active = run([systemctl, "is-active", name])[1].strip()
    enabled = run([systemctl, "is-enabled", name])[1].strip()
    return {"active": active == "active", "enabled": enabled == "enabled"}


def probe(host_key_types, key_dir, main_config, dropin, sshd=None, files=(), digest_files=(), principals_dir=None,
          service=None, units=()):
    """Everything the server role compares against, as one dict (see the sshd_info module)."""
    result = {"errors": [], "probed_at": time.time(), "python": sys.executable}
    result.update(host_names())
    result["os_family"] = os_family(read_text("/etc/os-release"))
    result["service_name"] = service or ("ssh" if result["os_family"] == "Debian" else "sshd")
    ssh = which("ssh")
    result["ssh"] = ssh
    result["sshd"] = which("sshd", sshd)
    result["query"] = {}
    result["ssh_version"] = None
    if ssh:
        status, out, err = run([ssh, "-V"])
        result["ssh_version"] = (err or out).strip()
        result["query"] = algorithms(ssh, result["errors"])
    else:
        result["errors"].append("no ssh client binary found (it lists the supported algorithms)")
    result["run_sshd"] = os.path.isdir("/run/sshd")
    result["options"], result["effective"] = [], None
    if result["sshd"]:
        result["options"], result["effective"] = sshd_options(result["sshd"], result["errors"])
    else:
        result["errors"].append("sshd: %s is not an executable" % sshd if sshd else "no sshd binary found")
    main_text = read_text(main_config)
    result["main_exists"] = main_text is not None
    result["includes_dropin_dir"], result["lines_before_include"] = include_layout(main_text, dropin)
    result["dropins"] = sorted(glob.glob(os.path.join(os.path.dirname(dropin), "*.conf")))
    result["host_keys"] = host_keys(host_key_types, key_dir)
    loaded_from = [main_config, dropin] + [path for key in result["host_keys"].values()
                                           for path in (key["path"], key["path"] + "-cert.pub")]
    result["not_loaded"] = changed_since(running_sshd_loaded_at(result["effective"]), loaded_from)
    # Text files with their content; binary ones (the KRL, which can be large) by SHA-256 only.
    result["files"] = dict((path, file_state(path)) for path in files)
    result["digests"] = dict((path, digest(path)) for path in digest_files)
    result["principals_dir"] = file_state(principals_dir) if principals_dir else None
    result["principals_files"] = {}
    if result["principals_dir"] and result["principals_dir"]["isdir"]:
        for name in sorted(os.listdir(principals_dir)):
            result["principals_files"][name] = file_state(os.path.join(principals_dir, name))
    result["service"] = service_state(result["service_name"])
    result["units"] = dict((name, service_state(name)) for name in units)
    return result


def missing_binaries(result):
    """The probe's error when ssh or sshd is missing (nothing else can be asked), else None."""
    if result["sshd"] is None or result["ssh"] is None:
        return "; ".join(result["errors"]) + " (is OpenSSH installed?)"
    return None


def payload_main(args):
    """The probe as the sshd_info action runs it on a server (plugin_utils/remote_python.py):
    the result, failed without OpenSSH. `args` are the module's options."""
    result = probe(**args)
    problem = missing_binaries(result)
    if problem:
        result.update(failed=True, msg=problem)
    return result
