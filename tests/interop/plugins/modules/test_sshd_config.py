# SPDX-License-Identifier: GPL-3.0-or-later
"""fleetca.ssh.sshd_config through ansible-playbook on localhost, with the real sshd: a drop-in
is installed only after the whole configuration passed sshd -t and sshd -T; check mode and a
refused configuration write nothing; a second run changes nothing."""

import stat

import pytest

SSHD = "/usr/sbin/sshd"


@pytest.fixture
def etc(workdir, make_key):
    """An /etc/ssh look-alike: a host key, a main file including d/*.conf after one line, with
    its own lines after the Include, and another drop-in sorting after ours."""
    etc = workdir / "etc"
    (etc / "d").mkdir(parents=True)
    key = make_key("sshd-config-host")
    (etc / "sshd_config").write_text("HostKey %s\nInclude %s/d/*.conf\nSubsystem sftp /usr/lib/openssh/sftp-server\n"
                                     % (key.path, etc))
    (etc / "d" / "50-other.conf").write_text("MaxAuthTries 6\nLogLevel ERROR\n")
    return etc


def config_task(etc, content, expect=(), filename="00-fleetca.conf"):
    return {"name": "config", "fleetca.ssh.sshd_config": {
        "path": str(etc / "d" / filename), "content": content, "main_config": str(etc / "sshd_config"),
        "sshd": SSHD, "expect": list(expect)}}


def effective(run_cmd, etc):
    return run_cmd([SSHD, "-T", "-f", str(etc / "sshd_config")]).stdout.splitlines()


def test_installs_after_the_whole_configuration_passed(ansible_playbook, etc, run_cmd):
    content = "LogLevel VERBOSE\nMaxAuthTries 3\n"
    expect = ["loglevel VERBOSE", "maxauthtries 3"]
    check = ansible_playbook.run([config_task(etc, content, expect)], check=True, diff=True)
    assert check.returncode == 0, check.output
    assert check.results["config"]["changed"] and not check.results["config"]["validated"]
    assert "+LogLevel VERBOSE" in check.output  # the diff
    assert not (etc / "d" / "00-fleetca.conf").exists()

    play = ansible_playbook.run([config_task(etc, content, expect)])
    assert play.returncode == 0, play.output
    result = play.results["config"]
    assert result["changed"] and result["validated"] and "loglevel VERBOSE" in result["effective"]
    dropin = etc / "d" / "00-fleetca.conf"
    assert dropin.read_text() == content
    info = dropin.stat()
    assert stat.S_IMODE(info.st_mode) == 0o644 and (info.st_uid, info.st_gid) == (0, 0)
    assert "loglevel VERBOSE" in effective(run_cmd, etc) and "maxauthtries 3" in effective(run_cmd, etc)

    again = ansible_playbook.run([config_task(etc, content, expect)])
    assert again.returncode == 0 and not again.results["config"]["changed"], again.output


def test_a_refused_configuration_leaves_the_installed_one(ansible_playbook, etc):
    dropin = etc / "d" / "00-fleetca.conf"
    dropin.write_text("LogLevel VERBOSE\n")
    dropin.chmod(0o644)
    # passes alone, breaks the whole configuration (linux-system-roles/sshd#185)
    play = ansible_playbook.run([config_task(etc, "LogLevel VERBOSE\nSubsystem sftp internal-sftp\n")])
    result = play.results["config"]
    assert play.returncode != 0 and result["failed"]
    assert "%s/sshd_config line 3: Subsystem 'sftp' already defined" % etc in result["msg"], result["msg"]
    assert dropin.read_text() == "LogLevel VERBOSE\n"


def test_an_earlier_dropin_that_overrides_is_named(ansible_playbook, etc):
    (etc / "d" / "00-local.conf").write_text("PasswordAuthentication yes\n")
    play = ansible_playbook.run([config_task(etc, "PasswordAuthentication no\n", ["passwordauthentication no"],
                                             filename="10-fleetca.conf")])
    result = play.results["config"]
    assert result["failed"]
    assert "passwordauthentication no (sshd -T: passwordauthentication yes)" in result["msg"], result["msg"]
    assert not (etc / "d" / "10-fleetca.conf").exists()


@pytest.mark.parametrize("args, named", [
    ({"expect": ["loglevel"]}, "expect: 'loglevel' must be 'keyword value'"),
    ({"path": "relative.conf"}, "path and main_config must be absolute paths"),
    ({"sshd": "/nonexistent/sshd"}, "sshd: /nonexistent/sshd is not an executable"),
])
def test_bad_input_names_the_field_and_writes_nothing(ansible_playbook, etc, args, named):
    task = config_task(etc, "LogLevel VERBOSE\n")
    task["fleetca.ssh.sshd_config"].update(args)
    play = ansible_playbook.run([task])
    result = play.results["config"]
    assert result["failed"] and named in result["msg"], result
    assert not (etc / "d" / "00-fleetca.conf").exists()
