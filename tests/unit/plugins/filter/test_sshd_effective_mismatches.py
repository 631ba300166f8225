# SPDX-License-Identifier: GPL-3.0-or-later
"""The filter fleetca.ssh.sshd_effective_mismatches (plugins/filter/sshd_effective_mismatches.py) on what the
real sshd prints."""

import os
import subprocess

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.fleetca.ssh.plugins.filter.sshd_effective_mismatches import FilterModule

SSHD = "/usr/sbin/sshd"
mismatches = FilterModule().filters()["sshd_effective_mismatches"]


@pytest.mark.skipif(not os.access(SSHD, os.X_OK), reason="needs openssh-server")
def test_on_real_sshd_output(tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "key")], check=True)
    config = tmp_path / "sshd_config"
    config.write_text("HostKey %s/key\nPermitRootLogin prohibit-password\nMaxAuthTries 4\n" % tmp_path)
    effective = subprocess.run([SSHD, "-T", "-f", str(config)], capture_output=True, text=True,
                               check=True).stdout.splitlines()
    # sshd -T prints prohibit-password as without-password on some versions: both spellings pass
    assert mismatches(effective, ["permitrootlogin without-password|prohibit-password", "maxauthtries 4"]) == []
    assert mismatches(effective, ["MaxAuthTries 3", "loglevel VERBOSE"]) == [
        "MaxAuthTries 3 (sshd -T: maxauthtries 4)", "loglevel VERBOSE (sshd -T: loglevel INFO)"]


def test_no_effective_configuration_shows_nothing():
    assert mismatches(None, ["loglevel VERBOSE"]) == ["loglevel VERBOSE (sshd -T: unset)"]


def test_a_bad_entry_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="sshd_effective_mismatches: expect: 'loglevel'"):
        mismatches([], ["loglevel"])
