# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sshd_config rules, once: the Include layout, the whole candidate configuration, and the
check of the effective values.

Used by the probe (sshd_probe.py, which runs on servers as a self-contained payload: so
standard library only, Python 3.6+), by the module fleetca.ssh.sshd_config before it installs
a configuration, and on the controller by the server role (server_plan.probe_problems) and the filter
fleetca.ssh.sshd_effective_mismatches.
`include_layout` serves ssh_config too (`base_dir` ~/.ssh or /etc/ssh, `blocks` Host and Match).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import glob
import os
import re
import shlex
import shutil
import subprocess
import tempfile

# sshd resolves a relative Include path against its configuration directory (SSHDIR).
SSHD_DIR = "/etc/ssh"
# sshd -t and sshd -T refuse to run without the privilege separation directory, which only
# exists while the service runs (systemd RuntimeDirectory).
PRIVSEP_DIR = "/run/sshd"
INCLUDE = re.compile(r"^\s*include(?:\s*=\s*|\s+)(.*)$", re.IGNORECASE)
# sshd -t names a problem as "FILE: line N: ..." or "FILE line N: ...".
PROBLEM_LINE = re.compile(r"^(.+?):? line (\d+)\b")


class SshdConfigError(ValueError):
    """A configuration sshd would refuse, or bad input; the message names the file and line."""


def include_patterns(line, base_dir=SSHD_DIR):
    """The absolute glob patterns of an `Include` line (`Include a b`, `include = "a"`), or None
    when the line is no Include."""
    match = INCLUDE.match(line)
    if not match:
        return None
    try:
        words = shlex.split(match.group(1), comments=True)
    except ValueError as exc:
        raise SshdConfigError("bad Include line %r: %s" % (line.strip(), exc))
    return [os.path.join(base_dir, word) for word in words]


def path_matches(pattern, path):
    """Whether glob(3) would find `path` with `pattern`: component by component, `*` never
    crossing a slash nor matching a leading dot."""
    pattern_parts, path_parts = pattern.split("/"), path.split("/")
    if len(pattern_parts) != len(path_parts):
        return False
    for wanted, name in zip(pattern_parts, path_parts):
        if name.startswith(".") and not wanted.startswith("."):
            return False
        if not fnmatch.fnmatchcase(name, wanted):
            return False
    return True


def active_lines(text):
    """(number, stripped line) of every line that is not blank or a comment."""
    for number, line in enumerate((text or "").splitlines(), 1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield number, stripped


def include_layout(text, target, base_dir=SSHD_DIR, blocks=("match",)):
    """(whether a global Include of `text` names `target`, the active lines before that Include
    as "N: LINE"). Those lines win over the included file for first-value-wins options.

    An Include after the first block keyword (`blocks`: Match for sshd_config; Host and Match
    for ssh_config) applies to that block only, so it does not count."""
    before = []
    for number, line in active_lines(text):
        patterns = include_patterns(line, base_dir)
        if patterns and any(path_matches(pattern, target) for pattern in patterns):
            return True, before
        if line.split(None, 1)[0].lower() in blocks:
            break
        before.append("%d: %s" % (number, line))
    return False, []


def expand_include(pattern, target, candidate):
    """The files sshd reads for `pattern` once `candidate` is installed as `target`, in glob
    order, with `candidate` in the place of `target`."""
    paths = set(glob.glob(pattern))
    if path_matches(pattern, target):
        paths.add(target)
    return [candidate if path == target else path for path in sorted(paths)]


def _quote(path):
    return '"%s"' % path if re.search(r"\s", path) else path


def candidate_main(text, target, candidate, base_dir=SSHD_DIR):
    """The main file's text with every Include line replaced by the explicit list of files it
    will read once `candidate` is installed as `target` (line numbers kept)."""
    lines = []
    for line in (text or "").splitlines():
        patterns = None if line.strip().startswith("#") else include_patterns(line, base_dir)
        if patterns is not None:
            files = [path for pattern in patterns for path in expand_include(pattern, target, candidate)]
            line = "Include " + " ".join(_quote(path) for path in files) if files else "# Include: no file"
        lines.append(line)
    return "\n".join(lines) + "\n"


def run(argv):
    """(exit status, stdout + stderr) of a command in the C locale."""
    env = dict(os.environ, LC_ALL="C")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    out = proc.communicate()[0]
    return proc.returncode, out.decode("utf-8", "replace")


def ensure_privsep_dir(path=PRIVSEP_DIR):
    """Create the privilege separation directory (0755) when missing; True when created."""
    if os.path.isdir(path):
        return False
    os.makedirs(path, 0o755)
    os.chmod(path, 0o755)
    return True


def parse_expected(expected):
    """[(lower-case keyword, [accepted values])] of "keyword value" / "keyword v1|v2" entries."""
    parsed = []
    for entry in expected:
        keyword, dummy, values = entry.strip().partition(" ")
        if not values.strip():
            raise SshdConfigError("expect: %r must be 'keyword value' (or 'keyword value1|value2')" % entry)
        parsed.append((keyword.lower(), [value.strip() for value in values.split("|")]))
    return parsed


def effective_mismatches(effective, expected):
    """The `expected` "keyword value" entries ("keyword v1|v2": either spelling) that the `sshd
    -T` lines `effective` do not show, each followed by what sshd -T shows instead."""
    lines = set(line.strip().lower() for line in effective)
    mismatches = []
    for entry, (keyword, values) in zip(expected, parse_expected(expected)):
        if not any(("%s %s" % (keyword, value)).lower() in lines for value in values):
            actual = [line.strip() for line in effective if line.lower().startswith(keyword + " ")]
            mismatches.append("%s (sshd -T: %s)" % (entry.strip(), ", ".join(actual) or "unset"))
    return mismatches


class _Explainer:
    """Names the real files in sshd's messages, not the temporary ones, and quotes the
    offending lines."""

    def __init__(self, names):
        self.names = names  # temporary path -> what to call it

    def rename(self, text):
        for temp, name in sorted(self.names.items(), key=lambda item: -len(item[0])):
            text = text.replace(temp, name)
        return text

    def __call__(self, headline, output):
        quoted = []
        for line in output.splitlines():
            match = PROBLEM_LINE.match(line)
            if match and os.path.isfile(match.group(1)):
                with open(match.group(1), "rb") as handle:
                    lines = handle.read().decode("utf-8", "replace").splitlines()
                number = int(match.group(2))
                if 0 < number <= len(lines):
                    quoted.append("  %s line %d: %s" % (match.group(1), number, lines[number - 1].strip()))
        return self.rename("\n".join([headline, output.strip()] + sorted(set(quoted))))


def check_candidate(sshd, main, target, content, expected=(), base_dir=SSHD_DIR):
    """The `sshd -T` lines of the whole configuration as it will be once `content` is installed
    as `target` (the main file itself, or a file its Include lines name), checked with `sshd -t`
    and against `expected` (see effective_mismatches). Nothing outside a temporary directory is
    written. Raises SshdConfigError naming the file and line."""
    temp = tempfile.mkdtemp(prefix="fleetca-sshd.")
    try:
        os.mkdir(os.path.join(temp, "candidate"))
        candidate = os.path.join(temp, "candidate", os.path.basename(target))
        with open(candidate, "wb") as handle:
            handle.write(content.encode("utf-8"))
        names = {candidate: target + " (candidate)"}
        if os.path.abspath(target) == os.path.abspath(main):
            config = candidate
        else:
            config = os.path.join(temp, os.path.basename(main))
            try:
                with open(main, "rb") as handle:
                    main_text = handle.read().decode("utf-8", "replace")
            except (IOError, OSError) as exc:
                raise SshdConfigError("main_config: cannot read %s: %s" % (main, exc.strerror))
            if not include_layout(main_text, target, base_dir)[0]:
                raise SshdConfigError("path: %s is neither %s nor named by an Include line before its first "
                                      "Match block, so sshd would not read it" % (target, main))
            with open(config, "w") as handle:
                handle.write(candidate_main(main_text, target, candidate, base_dir))
            names[config] = main
        explain = _Explainer(names)
        status, output = run([sshd, "-t", "-f", config])
        if status != 0:
            raise SshdConfigError(explain("fleetca: sshd -t rejects the configuration with the new %s:" % target,
                                          output))
        status, output = run([sshd, "-T", "-f", config])
        if status != 0:
            raise SshdConfigError(explain("fleetca: sshd -T fails on the configuration with the new %s:" % target,
                                          output))
        effective = output.splitlines()
        mismatches = effective_mismatches(effective, expected)
        if mismatches:
            raise SshdConfigError(
                "fleetca: with the new %s, sshd -T does not show %s: an earlier drop-in or a line before "
                "the Include in %s sets it first" % (target, "; ".join(mismatches), main))
        return effective
    finally:
        shutil.rmtree(temp, ignore_errors=True)
