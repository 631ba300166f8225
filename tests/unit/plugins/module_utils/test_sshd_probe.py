"""module_utils/sshd_probe.py: the probe's Include layout is sshd_config.py's, and its payload
entry point fails without OpenSSH."""

from ansible_collections.fleetca.ssh.plugins.module_utils import sshd_probe


def test_the_probe_reads_the_include_layout_as_the_validation_does(tmp_path):
    (tmp_path / "d").mkdir()
    main = tmp_path / "sshd_config"
    main.write_text("Port 2222\nInclude %s/d/0*.conf\n" % tmp_path)
    found = sshd_probe.payload_main({"types": ["ed25519"], "key_dir": str(tmp_path), "main": str(main),
                                     "dropin": str(tmp_path / "d" / "00-fleetca.conf")})
    assert found["includes_dropin_dir"] is True
    assert found["lines_before_include"] == ["1: Port 2222"]


def test_payload_main_fails_without_sshd(tmp_path):
    found = sshd_probe.payload_main({"types": [], "key_dir": str(tmp_path), "main": str(tmp_path / "none"),
                                     "dropin": str(tmp_path / "d.conf"), "sshd": str(tmp_path / "no-sshd")})
    assert found["failed"] is True
    assert "sshd: %s is not an executable" % (tmp_path / "no-sshd") in found["msg"]
