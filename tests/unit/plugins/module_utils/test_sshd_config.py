# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/sshd_config.py: the Include layout, the whole candidate configuration, and the
effective-value check, against the real sshd (/usr/sbin/sshd) where sshd decides."""

import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import sshd_config
from ansible_collections.fleetca.ssh.plugins.module_utils.sshd_config import SshdConfigError

SSHD = "/usr/sbin/sshd"
DROPIN = "/etc/ssh/sshd_config.d/00-fleetca.conf"

needs_sshd = pytest.mark.skipif(not os.access(SSHD, os.X_OK), reason="needs openssh-server (%s)" % SSHD)


@pytest.mark.parametrize("main, includes, before", [
    ("Include /etc/ssh/sshd_config.d/*.conf\nPort 22\n", True, []),
    ("# comment\nPort 2222\nInclude sshd_config.d/*.conf\n", True, ["2: Port 2222"]),
    # the shell check's awk looked for a literal "/*.conf" and refused this one
    ("Include sshd_config.d/0*.conf\n", True, []),
    ("Include sshd_config.d/5*.conf\n", False, []),
    ('include = "/etc/ssh/sshd_config.d/*.conf"\n', True, []),
    ("include=/etc/ssh/sshd_config.d/00-*\n", True, []),
    ("INCLUDE /etc/ssh/other.d/*.conf sshd_config.d/*.conf\n", True, []),
    ("Include /etc/ssh/other.d/*.conf\nInclude /etc/ssh/sshd_config.d/*\n", True,
     ["1: Include /etc/ssh/other.d/*.conf"]),
    ("Include /etc/ssh/other.d/*.conf\nPort 22\n", False, []),
    ("Include /etc/ssh/*.conf\n", False, []),  # * never crosses a slash
    ("Include /etc/ssh/*/*.conf\n", True, []),
    ("Port 22\nMatch User x\nInclude /etc/ssh/sshd_config.d/*.conf\n", False, []),
    ("Includes /etc/ssh/sshd_config.d/*.conf\n", False, []),
    (None, False, []),
])
def test_include_layout(main, includes, before):
    assert sshd_config.include_layout(main, DROPIN) == (includes, before)


def test_a_glob_does_not_match_a_hidden_file():
    assert not sshd_config.include_layout("Include /etc/ssh/sshd_config.d/*\n", "/etc/ssh/sshd_config.d/.x.conf")[0]


def test_include_layout_reads_ssh_config_too():
    """ssh_config: relative paths against ~/.ssh (user file) and Host blocks."""
    user = "Host *.example\n  User x\nInclude config.d/*\n"
    assert sshd_config.include_layout(user, "/home/u/.ssh/config.d/fleetca", "/home/u/.ssh",
                                      blocks=("host", "match")) == (False, [])
    system = "Include /etc/ssh/ssh_config.d/*.conf\nHost *\n"
    assert sshd_config.include_layout(system, "/etc/ssh/ssh_config.d/fleetca.conf",
                                      blocks=("host", "match")) == (True, [])


def test_a_bad_include_line_is_an_error():
    with pytest.raises(SshdConfigError, match="bad Include line"):
        sshd_config.include_layout('Include "unterminated\n', DROPIN)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def test_candidate_main_lists_the_files_in_glob_order(tmp_path):
    for name in ("05-local.conf", "00-fleetca.conf", "50-cloud.conf", "notes.txt"):
        write(tmp_path / "d" / name, "")
    target = str(tmp_path / "d" / "00-fleetca.conf")
    text = "Port 22\nInclude d/*.conf %s/other/*.conf\n# Include d/*.conf\n" % tmp_path
    lines = sshd_config.candidate_main(text, target, "/tmp/c/00-fleetca.conf", str(tmp_path)).splitlines()
    assert lines == ["Port 22",
                     "Include /tmp/c/00-fleetca.conf %s/d/05-local.conf %s/d/50-cloud.conf" % (tmp_path, tmp_path),
                     "# Include d/*.conf"]


def test_candidate_main_places_a_new_file_and_keeps_line_numbers(tmp_path):
    write(tmp_path / "d" / "10-a.conf", "")
    target = str(tmp_path / "d" / "20-new.conf")
    text = "Include %s/d/*.conf\nInclude %s/empty/*.conf\nPort 22\n" % (tmp_path, tmp_path)
    lines = sshd_config.candidate_main(text, target, "/tmp/with space/20-new.conf").splitlines()
    assert lines == ['Include %s/d/10-a.conf "/tmp/with space/20-new.conf"' % tmp_path,
                     "# Include: no file", "Port 22"]


@pytest.mark.parametrize("expected, mismatches", [
    (["passwordauthentication no", "PermitRootLogin without-password|prohibit-password"], []),
    (["maxauthtries 3"], ["maxauthtries 3 (sshd -T: maxauthtries 6)"]),
    (["hostcertificate /etc/ssh/x-cert.pub"], ["hostcertificate /etc/ssh/x-cert.pub (sshd -T: unset)"]),
    (["hostkey /k1", "hostkey /k2", "hostkey /k3"], ["hostkey /k3 (sshd -T: hostkey /k1, hostkey /k2)"]),
])
def test_effective_mismatches(expected, mismatches):
    effective = ["passwordauthentication no", "permitrootlogin without-password", "maxauthtries 6",
                 "hostkey /k1", "hostkey /k2"]
    assert sshd_config.effective_mismatches(effective, expected) == mismatches


def test_a_bad_expected_entry_names_the_field():
    with pytest.raises(SshdConfigError, match="expect: 'loglevel' must be 'keyword value'"):
        sshd_config.effective_mismatches([], ["loglevel"])


def test_ensure_privsep_dir(tmp_path):
    path = str(tmp_path / "run" / "sshd")
    assert sshd_config.ensure_privsep_dir(path) is True
    assert oct(os.stat(path).st_mode & 0o7777) == "0o755"
    assert sshd_config.ensure_privsep_dir(path) is False


# --- against the real sshd ------------------------------------------------------------------

@pytest.fixture
def etc(tmp_path):
    """A configuration directory like /etc/ssh: a host key, a main file that includes d/*.conf
    (relative, resolved against this directory as sshd resolves against /etc/ssh) after one
    line, and lines after the Include."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "host_key")], check=True)
    (tmp_path / "d").mkdir()
    write(tmp_path / "sshd_config", "HostKey %s/host_key\nInclude d/*.conf\nUsePAM no\nX11Forwarding yes\n" % tmp_path)
    return tmp_path


def check(etc, name, content, expected=()):
    return sshd_config.check_candidate(SSHD, str(etc / "sshd_config"), str(etc / "d" / name), content,
                                       expected, base_dir=str(etc))


@needs_sshd
def test_the_whole_configuration_is_checked_with_the_candidate_in_place(etc):
    write(etc / "d" / "50-other.conf", "MaxAuthTries 5\nLogLevel ERROR\n")
    effective = check(etc, "00-fleetca.conf", "LogLevel VERBOSE\n", ["loglevel VERBOSE", "maxauthtries 5"])
    assert "loglevel VERBOSE" in effective and "maxauthtries 5" in effective and "x11forwarding yes" in effective
    assert not (etc / "d" / "00-fleetca.conf").exists()  # nothing written


@needs_sshd
def test_only_the_files_the_include_names_count(etc):
    """`Include d/0*.conf`: 05-local is read, 50-other is not."""
    write(etc / "sshd_config", "HostKey %s/host_key\nInclude d/0*.conf\n" % etc)
    write(etc / "d" / "05-local.conf", "MaxAuthTries 4\n")
    write(etc / "d" / "50-other.conf", "PermitRootLogin yes\n")
    effective = check(etc, "00-fleetca.conf", "LogLevel VERBOSE\n")
    assert "maxauthtries 4" in effective and "permitrootlogin yes" not in effective


@needs_sshd
def test_a_dropin_that_passes_alone_but_breaks_the_whole_configuration(etc):
    """linux-system-roles/sshd#185: the drop-in alone passes sshd -t; with the main file's own
    `Subsystem sftp` after the Include, sshd refuses the whole configuration."""
    write(etc / "sshd_config", "HostKey %s/host_key\nInclude d/*.conf\nSubsystem sftp /usr/lib/openssh/sftp-server\n"
          % etc)
    dropin = "Subsystem sftp internal-sftp\n"
    alone = write(etc / "alone.conf", dropin)
    assert subprocess.run([SSHD, "-t", "-f", alone, "-h", str(etc / "host_key")], check=False).returncode == 0
    with pytest.raises(SshdConfigError) as error:
        check(etc, "00-fleetca.conf", dropin)
    message = str(error.value)
    assert message.startswith("fleetca: sshd -t rejects the configuration with the new %s/d/00-fleetca.conf:" % etc)
    assert "%s/sshd_config line 3: Subsystem 'sftp' already defined" % etc in message
    assert "  %s/sshd_config line 3: Subsystem sftp /usr/lib/openssh/sftp-server" % etc in message
    assert "fleetca-sshd." not in message  # the real names, not the temporary ones
    assert not (etc / "d" / "00-fleetca.conf").exists()


@needs_sshd
def test_a_bad_line_in_the_candidate_is_named(etc):
    with pytest.raises(SshdConfigError) as error:
        check(etc, "00-fleetca.conf", "LogLevel VERBOSE\nFooBar yes\n")
    message = str(error.value)
    assert "%s/d/00-fleetca.conf (candidate): line 2: Bad configuration option: FooBar" % etc in message
    assert "  %s/d/00-fleetca.conf (candidate) line 2: FooBar yes" % etc in message


@needs_sshd
def test_an_earlier_dropin_overriding_a_value_is_refused(etc):
    write(etc / "d" / "00-local.conf", "PasswordAuthentication yes\n")
    with pytest.raises(SshdConfigError) as error:
        check(etc, "10-fleetca.conf", "PasswordAuthentication no\n", ["passwordauthentication no"])
    assert ("with the new %s/d/10-fleetca.conf, sshd -T does not show passwordauthentication no "
            "(sshd -T: passwordauthentication yes): an earlier drop-in or a line before the Include in "
            "%s/sshd_config sets it first" % (etc, etc)) in str(error.value)


@needs_sshd
def test_the_candidate_replaces_the_installed_file(etc):
    write(etc / "d" / "00-fleetca.conf", "MaxAuthTries 9\n")
    assert "maxauthtries 3" in check(etc, "00-fleetca.conf", "MaxAuthTries 3\n", ["maxauthtries 3"])


@needs_sshd
def test_the_main_file_itself(etc):
    main = str(etc / "sshd_config")
    content = "HostKey %s/host_key\nPasswordAuthentication no\n" % etc
    effective = sshd_config.check_candidate(SSHD, main, main, content, ["passwordauthentication no"])
    assert "passwordauthentication no" in effective


@needs_sshd
def test_a_file_the_main_file_does_not_include_is_refused(etc):
    with pytest.raises(SshdConfigError, match="is neither .* nor named by an Include line"):
        sshd_config.check_candidate(SSHD, str(etc / "sshd_config"), str(etc / "elsewhere.conf"), "", (),
                                    base_dir=str(etc))


UNSHARE = shutil.which("unshare")


@needs_sshd
@pytest.mark.skipif(os.geteuid() != 0 or UNSHARE is None, reason="needs root and unshare")
def test_without_run_sshd_sshd_refuses_until_it_is_created(etc):
    """dev-sec #752/#830: sshd -t fails without /run/sshd. In a private mount namespace with an
    empty /run (the host's /run is untouched), the check fails, then passes once
    ensure_privsep_dir created it."""
    code = (
        "import sys\n"
        "from ansible_collections.fleetca.ssh.plugins.module_utils import sshd_config as c\n"
        "def attempt():\n"
        "    try:\n"
        "        c.check_candidate(%r, %r, %r, 'LogLevel VERBOSE\\n', (), base_dir=%r)\n"
        "        return 'passed'\n"
        "    except c.SshdConfigError as exc:\n"
        "        return str(exc)\n"
        "print(attempt())\n"
        "print(c.ensure_privsep_dir())\n"
        "print(attempt())\n"
    ) % (SSHD, str(etc / "sshd_config"), str(etc / "d" / "00-fleetca.conf"), str(etc))
    probe = subprocess.run([UNSHARE, "-m", "true"], check=False)
    if probe.returncode != 0:
        pytest.skip("no mount namespaces here")
    result = subprocess.run(
        [UNSHARE, "-m", "--propagation", "private", "sh", "-c",
         'mount -t tmpfs tmpfs /run && exec "$0" -c "$1"', sys.executable, code],
        capture_output=True, text=True, check=False, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert result.returncode == 0, result.stderr
    first, created, second = result.stdout.strip().split("\n")[-3:]
    assert "Missing privilege separation directory: /run/sshd" in first
    assert created == "True" and second == "passed"


def test_a_missing_main_file_names_the_field(tmp_path):
    with pytest.raises(SshdConfigError, match="main_config: cannot read %s/none" % tmp_path):
        sshd_config.check_candidate(SSHD, str(tmp_path / "none"), str(tmp_path / "d.conf"), "", ())
