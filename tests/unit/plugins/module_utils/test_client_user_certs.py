# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/client_user_certs.py: people's certificates on workstations - the checks, the
probe (run for real with sh over real files), the requests, the batch and what gets written."""

import os
import pwd
import subprocess

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import client_trust, client_user_certs
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

ROOT = pwd.getpwuid(os.getuid())


def keygen(path, comment="alice@laptop"):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)], check=True)
    return (path.parent / (path.name + ".pub")).read_text()


def ssh_keygen_sign(ca, public_key_path, principals="alice", validity="+1h"):
    """A user certificate from ssh-keygen -s (the reference signer); its line."""
    subprocess.run(["ssh-keygen", "-q", "-s", str(ca), "-I", "alice@default", "-n", principals, "-V", validity,
                    str(public_key_path)], check=True)
    return (public_key_path.parent / public_key_path.name.replace(".pub", "-cert.pub")).read_text()


@pytest.fixture
def home(tmp_path):
    """A key pair of the user running the tests, and a CA key, under tmp_path."""
    keygen(tmp_path / "id_ed25519")
    keygen(tmp_path / "ca", "ca")
    return tmp_path


def entries(**entry):
    return client_user_certs.check_entries([dict(dict(user=ROOT.pw_name), **entry)])


def probe(entry_list):
    lines = ["LC_ALL=C; export LC_ALL"] + client_user_certs.probe_lines(client_trust.PROBE_MARK, entry_list) + \
        ["echo '%s end'" % client_trust.PROBE_MARK]
    done = subprocess.run(["sh", "-c", "\n".join(lines)], capture_output=True, text=True, check=True)
    return client_trust.parse_probe(done.stdout)["user_certs"]


def deliveries(entry_list, host="ws1"):
    return client_user_certs.deliveries(entry_list, probe(entry_list), host, "+4h")


# --- the variables ---------------------------------------------------------------------------


def test_entries_get_the_contracts_defaults():
    assert client_user_certs.check_entries([{"user": "alice"}]) == [
        {"user": "alice", "profile": "default", "public_key_path": "~/.ssh/id_ed25519.pub"}]
    assert client_user_certs.check_entries(None) == []
    assert client_user_certs.check_renew_before(None) == "+4h"
    assert client_user_certs.check_renew_before("+100d") == "+100d"


@pytest.mark.parametrize("value, message", [
    ({"user": "alice"}, "fleetca_ssh_client_user_certs must be a list"),
    (["alice"], "fleetca_ssh_client_user_certs[0] must be a mapping"),
    ([{"user": "alice", "profil": "ops"}], "fleetca_ssh_client_user_certs[0]: unknown key profil"),
    ([{"profile": "ops"}], "fleetca_ssh_client_user_certs[0].user must be a login name"),
    ([{"user": "../root"}], "fleetca_ssh_client_user_certs[0].user must be a login name"),
    ([{"user": "alice", "public_key_path": ".ssh/id_ed25519.pub"}],
     "fleetca_ssh_client_user_certs[0].public_key_path must be an absolute path or one under the user's home"),
    ([{"user": "alice", "public_key_path": "~/.ssh/id_ed25519"}],
     "fleetca_ssh_client_user_certs[0].public_key_path must be"),
    ([{"user": "alice", "profile": "a b"}], "fleetca_ssh_client_user_certs[0].profile must be"),
    ([{"user": "alice"}, {"user": "alice", "profile": "ops"}],
     "fleetca_ssh_client_user_certs[1]: user alice and public_key_path ~/.ssh/id_ed25519.pub are already in "
     "fleetca_ssh_client_user_certs[0]"),
])
def test_bad_entries_are_refused_naming_the_field(value, message):
    with pytest.raises(FleetcaError) as error:
        client_user_certs.check_entries(value)
    assert str(error.value).startswith(message), str(error.value)


@pytest.mark.parametrize("value", ["soon", True, [4]])
def test_a_bad_renew_window_is_refused_naming_it(value):
    with pytest.raises(FleetcaError) as error:
        client_user_certs.check_renew_before(value)
    assert "fleetca_ssh_client_user_cert_renew_before" in str(error.value)


def test_the_role_settings_check_the_entries_and_the_window(home):
    base = dict(fleetca_ssh_host_ca_public_key=(home / "ca.pub").read_text(), fleetca_ssh_known_hosts_patterns=["*"],
                fleetca_ssh_known_hosts_path="/etc/ssh/x", fleetca_ssh_revoked_host_keys=[],
                fleetca_ssh_client_config=False, fleetca_ssh_client_certificate_file="",
                fleetca_ssh_client_packages=[])
    settings = client_trust.check_settings(base)
    assert (settings["user_certs"], settings["user_cert_renew_before"]) == ([], "+4h")
    with pytest.raises(FleetcaError) as error:
        client_trust.check_settings(dict(base, fleetca_ssh_client_user_certs=[{"user": "alice", "key": "x"}]))
    assert str(error.value).startswith("fleetca_ssh_client_user_certs[0]: unknown key key")
    with pytest.raises(FleetcaError) as error:
        client_trust.check_settings(dict(base, fleetca_ssh_client_user_cert_renew_before="4 hours"))
    assert str(error.value).startswith("fleetca_ssh_client_user_cert_renew_before")


# --- the probe and one workstation's requests ----------------------------------------------------


def test_a_new_certificate_is_requested_for_the_user_as_person(home):
    entry_list = entries(public_key_path=str(home / "id_ed25519.pub"), profile="ops")
    [delivery] = deliveries(entry_list)
    key_line = (home / "id_ed25519.pub").read_text().strip()
    assert delivery["request"] == {"person": ROOT.pw_name, "profile": "ops", "public_key": key_line,
                                   "renew_before": "+4h"}
    assert (delivery["host"], delivery["path"], delivery["owner"], delivery["group"]) == (
        "ws1", str(home / "id_ed25519-cert.pub"), ROOT.pw_name, str(ROOT.pw_gid))
    assert (delivery["current"], delivery["attributes_ok"]) == ("", False)


def test_the_current_certificate_and_its_attributes_are_reported(home):
    cert_line = ssh_keygen_sign(home / "ca", home / "id_ed25519.pub")
    os.chmod(str(home / "id_ed25519-cert.pub"), 0o644)
    [delivery] = deliveries(entries(public_key_path=str(home / "id_ed25519.pub")))
    assert delivery["request"]["current_certificate"] == cert_line.strip() == delivery["current"]
    assert delivery["attributes_ok"] is True
    os.chmod(str(home / "id_ed25519-cert.pub"), 0o600)
    [delivery] = deliveries(entries(public_key_path=str(home / "id_ed25519.pub")))
    assert delivery["attributes_ok"] is False


def test_a_symbolic_link_is_never_read(home):
    os.symlink(str(home / "id_ed25519.pub"), str(home / "link.pub"))
    with pytest.raises(FleetcaError) as error:
        deliveries(entries(public_key_path=str(home / "link.pub")))
    assert "link.pub of user %s on ws1 is missing or holds no public key line" % ROOT.pw_name in str(error.value)


def test_a_file_that_is_not_a_key_never_reaches_the_output(home):
    (home / "secret.pub").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n")
    entry_list = entries(public_key_path=str(home / "secret.pub"))
    assert "BEGIN" not in str(probe(entry_list))
    with pytest.raises(FleetcaError) as error:
        client_user_certs.deliveries(entry_list, probe(entry_list), "ws1", "+4h")
    assert str(error.value).startswith("fleetca_ssh_client_user_certs[0].public_key_path: ")


def test_a_user_who_does_not_exist_is_an_error_naming_workstation_user_and_field():
    entry_list = client_user_certs.check_entries([{"user": "fleetca-no-such-user"}])
    with pytest.raises(FleetcaError) as error:
        deliveries(entry_list, host="ws-7")
    assert str(error.value) == ('fleetca_ssh_client_user_certs[0].user: no user "fleetca-no-such-user" on ws-7, '
                                "so nothing is signed for it")


def test_a_missing_key_under_the_home_is_an_error_with_the_expanded_path():
    entry_list = client_user_certs.check_entries([{"user": "nobody", "public_key_path": "~/.ssh/id_ed25519.pub"}])
    home = pwd.getpwnam("nobody").pw_dir
    with pytest.raises(FleetcaError) as error:
        deliveries(entry_list, host="ws-7")
    assert str(error.value).startswith("fleetca_ssh_client_user_certs[0].public_key_path: %s/.ssh/id_ed25519.pub "
                                       "of user nobody on ws-7 is missing" % home)


def test_a_home_path_is_read_under_the_users_home(home):
    """~/ is the passwd home (a fake passwd line stands for a user whose home is tmp_path)."""
    key_line = (home / "id_ed25519.pub").read_text().strip()
    found = {0: {"user": ["alice", "x", "1000", "1000", "", str(home), "/bin/sh"], "key": key_line}}
    entry_list = client_user_certs.check_entries([{"user": "alice", "public_key_path": "~/id_ed25519.pub"}])
    [delivery] = client_user_certs.deliveries(entry_list, found, "ws1", "+1d")
    assert (delivery["path"], delivery["group"], delivery["request"]["renew_before"]) == (
        str(home / "id_ed25519-cert.pub"), "1000", "+1d")


def test_the_probe_goes_into_the_roles_one_probe(home):
    settings = client_trust.check_settings(dict(
        fleetca_ssh_host_ca_public_key=(home / "ca.pub").read_text(), fleetca_ssh_known_hosts_path="/etc/ssh/x",
        fleetca_ssh_known_hosts_patterns=["*"], fleetca_ssh_revoked_host_keys=[], fleetca_ssh_client_config=False,
        fleetca_ssh_client_certificate_file="", fleetca_ssh_client_packages=[],
        fleetca_ssh_client_user_certs=[{"user": ROOT.pw_name, "public_key_path": str(home / "id_ed25519.pub")}],
        fleetca_ssh_client_user_cert_renew_before="+2h"))
    done = subprocess.run(["sh", "-c", client_trust.probe_command(settings)], capture_output=True, text=True,
                          check=True)
    [delivery] = client_trust.plan(done.stdout, settings, "ws1")["user_certs"]
    assert delivery["request"]["renew_before"] == "+2h"
    assert delivery["request"]["public_key"] == (home / "id_ed25519.pub").read_text().strip()


# --- the batch and what a workstation writes ----------------------------------------------------


CA_PATHS = {"user_ca_key": "/etc/ssh/fleetca/user_ca", "store": "/etc/ssh/fleetca/issued.db"}


def plan_of(host, items):
    return {"user_certs": [dict(item, host=host) for item in items]}


def test_the_batch_is_every_workstations_requests_in_play_order(home):
    [one] = deliveries(entries(public_key_path=str(home / "id_ed25519.pub")), host="ws1")
    [two] = deliveries(entries(public_key_path=str(home / "id_ed25519.pub"), profile="ops"), host="ws2")
    done = client_user_certs.batch([{"user_certs": [one]}, {"user_certs": []}, {"user_certs": [two]}],
                                   "ca", CA_PATHS, {"ops": {}}, None)
    assert done["requests"] == [one["request"], two["request"]]
    assert [item["host"] for item in done["deliveries"]] == ["ws1", "ws2"]
    assert "request" not in done["deliveries"][0]
    assert (done["ca_key"], done["store"], done["user_cert_profiles"], done["users"]) == (
        CA_PATHS["user_ca_key"], CA_PATHS["store"], {"ops": {}}, {})


def test_a_batch_without_a_ca_host_or_its_paths_is_an_error(home):
    [one] = deliveries(entries(public_key_path=str(home / "id_ed25519.pub")))
    with pytest.raises(FleetcaError) as error:
        client_user_certs.batch([{"user_certs": [one]}], "", None)
    assert str(error.value).startswith("fleetca_ssh_ca_host is empty")
    with pytest.raises(FleetcaError) as error:
        client_user_certs.batch([{"user_certs": [one]}], "ca1", {})
    assert str(error.value).startswith("fleetca_ssh_ca_host: ca1 published no CA paths")
    assert client_user_certs.batch([{"user_certs": []}], "", None)["requests"] == []


def test_a_new_certificate_is_written_owned_by_the_user(home):
    done = client_user_certs.batch([{"user_certs": deliveries(entries(public_key_path=str(home / "id_ed25519.pub")))}],
                                   "ca", CA_PATHS)
    signed_line = ssh_keygen_sign(home / "ca", home / "id_ed25519.pub").strip()
    os.unlink(str(home / "id_ed25519-cert.pub"))
    writes = client_user_certs.installs([{"certificate": signed_line, "changed": True}], done["deliveries"], "ws1")
    assert writes == [{"path": str(home / "id_ed25519-cert.pub"), "content": signed_line + "\n",
                       "owner": ROOT.pw_name, "group": str(ROOT.pw_gid), "mode": "0644"}]
    assert client_user_certs.installs([{"certificate": signed_line}], done["deliveries"], "ws2") == []


def test_a_kept_certificate_writes_nothing_unless_its_mode_is_wrong(home):
    signed_line = ssh_keygen_sign(home / "ca", home / "id_ed25519.pub").strip()
    os.chmod(str(home / "id_ed25519-cert.pub"), 0o644)
    entry_list = entries(public_key_path=str(home / "id_ed25519.pub"))
    done = client_user_certs.batch([{"user_certs": deliveries(entry_list)}], "ca", CA_PATHS)
    assert client_user_certs.installs([{"certificate": signed_line, "changed": False}], done["deliveries"], "ws1") == []
    os.chmod(str(home / "id_ed25519-cert.pub"), 0o664)
    done = client_user_certs.batch([{"user_certs": deliveries(entry_list)}], "ca", CA_PATHS)
    [write] = client_user_certs.installs([{"certificate": signed_line}], done["deliveries"], "ws1")
    assert write["mode"] == "0644"


def test_check_mode_results_without_a_certificate_write_nothing(home):
    done = client_user_certs.batch([{"user_certs": deliveries(entries(public_key_path=str(home / "id_ed25519.pub")))}],
                                   "ca", CA_PATHS)
    assert client_user_certs.installs([{"changed": True, "reason": "no certificate yet"}], done["deliveries"],
                                      "ws1") == []


def test_a_certificate_of_another_key_or_a_short_result_is_refused(home):
    keygen(home / "other")
    other_line = ssh_keygen_sign(home / "ca", home / "other.pub").strip()
    done = client_user_certs.batch([{"user_certs": deliveries(entries(public_key_path=str(home / "id_ed25519.pub")))}],
                                   "ca", CA_PATHS)
    with pytest.raises(FleetcaError) as error:
        client_user_certs.installs([{"certificate": other_line}], done["deliveries"], "ws1")
    assert "certifies another key" in str(error.value)
    with pytest.raises(FleetcaError) as error:
        client_user_certs.installs([], done["deliveries"], "ws1")
    assert str(error.value) == "the signing call returned 0 certificates for 1 requests"
