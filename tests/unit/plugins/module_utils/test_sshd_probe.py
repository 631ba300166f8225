# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/sshd_probe.py: os-release, the Include layout as sshd_config.py reads it, and the
payload entry point failing without OpenSSH."""

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


def probe_options(types, key_dir, main_config, dropin, **options):
    """The sshd_info module's options, as its action sends them to payload_main."""
    return dict(dict(host_key_types=types, key_dir=str(key_dir), main_config=str(main_config), dropin=str(dropin),
                     sshd=None, files=[], digest_files=[], principals_dir=None, service=None, units=[]), **options)


def test_the_probe_reads_the_include_layout_as_the_validation_does(tmp_path):
    (tmp_path / "d").mkdir()
    main = tmp_path / "sshd_config"
    main.write_text("Port 2222\nInclude %s/d/0*.conf\n" % tmp_path)
    found = sshd_probe.payload_main(probe_options(["ed25519"], tmp_path, main, tmp_path / "d" / "00-fleetca.conf"))
    assert found["includes_dropin_dir"] is True
    assert found["lines_before_include"] == ["1: Port 2222"]


def test_payload_main_fails_without_sshd(tmp_path):
    found = sshd_probe.payload_main(probe_options([], tmp_path, tmp_path / "none", tmp_path / "d.conf",
                                                  sshd=str(tmp_path / "no-sshd")))
    assert found["failed"] is True
    assert "sshd: %s is not an executable" % (tmp_path / "no-sshd") in found["msg"]
