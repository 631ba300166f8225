"""Unit tests of the probe's parsing (sshd_probe): os-release and the main config's Include lines."""

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import sshd_probe


@pytest.mark.parametrize("text, family", [
    ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n', "Debian"),
    ('ID=ubuntu\nID_LIKE=debian\n', "Debian"),
    ('ID="rocky"\nID_LIKE="rhel centos fedora"\n', "RedHat"),
    ('ID=opensuse-leap\nID_LIKE="suse opensuse"\n', "Suse"),
    ('ID=nixos\n', "Nixos"),
    ("", "Unknown"),
])
def test_os_family_from_os_release(text, family):
    assert sshd_probe.os_family(text) == family


@pytest.mark.parametrize("main, includes, before", [
    ("Include /etc/ssh/sshd_config.d/*.conf\nPort 22\n", True, []),
    ("# comment\nPort 2222\nInclude sshd_config.d/*.conf\n", True, ["2: Port 2222"]),
    ('include = "/etc/ssh/sshd_config.d/*.conf"\n', True, []),
    ("Include /etc/ssh/other.d/*.conf\nPort 22\n", False, []),
    ("Port 22\nMatch User x\nInclude /etc/ssh/sshd_config.d/*.conf\n", False, []),
    (None, False, []),
])
def test_include_layout(main, includes, before):
    assert sshd_probe.include_layout(main, "/etc/ssh/sshd_config.d/00-fleetca.conf") == (includes, before)
