# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter fleetca.ssh.cert_fields (plugins/filter/cert_fields.py): the fields of a certificate
that ssh-keygen signed, in the order and with the values ssh-keygen -L prints."""

import subprocess

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.fleetca.ssh.plugins.filter.cert_fields import FilterModule

cert_fields = FilterModule().filters()["cert_fields"]


def test_the_fields_of_a_certificate_ssh_keygen_signed(tmp_path):
    for name in ("ca", "alice"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / name)], check=True)
    subprocess.run(["ssh-keygen", "-q", "-s", str(tmp_path / "ca"), "-I", "alice@ops", "-n", "alice,deploy", "-z", "42",
                    "-V", "20300101000000:20300102000000", "-O", "force-command=/bin/true", str(tmp_path / "alice.pub")],
                   check=True, env={"TZ": "UTC", "PATH": "/usr/bin:/bin"})
    fields = cert_fields((tmp_path / "alice-cert.pub").read_text()).splitlines()
    assert fields[0] == "Type: ssh-ed25519-cert-v01@openssh.com user certificate"
    assert fields[3:] == ['Key ID: "alice@ops"', "Serial: 42", "Valid: from 2030-01-01T00:00:00Z to 2030-01-02T00:00:00Z",
                          "Principals: alice, deploy", "Critical Options: force-command /bin/true",
                          "Extensions: permit-X11-forwarding, permit-agent-forwarding, permit-port-forwarding, "
                          "permit-pty, permit-user-rc"]


def test_not_a_certificate_fails_the_filter():
    with pytest.raises(AnsibleFilterError, match="cert_fields: certificate"):
        cert_fields("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==")
