# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/client_trust.py: the client role's checks, its probe (run for real with sh) and its plan."""

import base64
import os
import shutil
import subprocess

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import client_trust
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError, encode_string


def keygen(directory, name, key_type="ed25519"):
    path = os.path.join(str(directory), name)
    subprocess.run(["ssh-keygen", "-q", "-t", key_type, "-N", "", "-C", name, "-f", path], check=True)
    with open(path + ".pub") as handle:
        return handle.read()


@pytest.fixture(scope="module")
def lines(tmp_path_factory):
    directory = tmp_path_factory.mktemp("client-keys")
    return dict((kind, keygen(directory, kind, kind)) for kind in ("ed25519", "ecdsa", "rsa"))


def variables(lines, **overrides):
    values = dict(
        fleetca_ssh_host_ca_public_key=lines["ed25519"],
        fleetca_ssh_known_hosts_path="/etc/ssh/ssh_known_hosts",
        fleetca_ssh_known_hosts_user=None,
        fleetca_ssh_known_hosts_mode=None,
        fleetca_ssh_known_hosts_patterns=["*"],
        fleetca_ssh_revoked_host_keys=[],
        fleetca_ssh_client_config=False,
        fleetca_ssh_client_certificate_file="",
        fleetca_ssh_client_packages=["openssh-client"],
    )
    values.update(overrides)
    return values


def refused(values):
    with pytest.raises(FleetcaError) as error:
        client_trust.check_settings(values)
    return str(error.value)


# --- the role's variables ---------------------------------------------------------------------


def test_settings_trim_the_key_lines_and_keep_each_revoked_key_once(lines):
    settings = client_trust.check_settings(variables(
        lines, fleetca_ssh_revoked_host_keys=[lines["rsa"], " " + lines["rsa"].strip(), lines["ecdsa"]]))
    assert settings["ca_keys"] == [lines["ed25519"].strip()]  # the .pub file's newline is dropped
    assert settings["revoked"] == [lines["rsa"].strip(), lines["ecdsa"].strip()]
    assert (settings["user"], settings["mode"], settings["client_config"]) == ("", None, False)


def test_one_cert_authority_line_per_distinct_host_ca_key_of_the_trust_set_and_the_extra_keys(lines):
    current, upcoming, spare = lines["ed25519"].strip(), lines["ecdsa"].strip(), lines["rsa"].strip()
    settings = client_trust.check_settings(variables(
        lines, fleetca_ssh_host_ca_trusted_keys=[current.rsplit(" ", 1)[0] + " other-comment", upcoming],
        fleetca_ssh_host_ca_extra_keys=[spare, upcoming]))
    assert client_trust.known_hosts_block(settings).split("\n") == [
        "@cert-authority * " + current, "@cert-authority * " + upcoming, "@cert-authority * " + spare]


def test_retired_host_ca_keys_become_revoked_lines_after_the_revoked_host_keys(lines):
    settings = client_trust.check_settings(variables(
        lines, fleetca_ssh_revoked_host_keys=[lines["rsa"]],
        fleetca_ssh_host_ca_retired_keys=[lines["ecdsa"], lines["rsa"]]))
    assert client_trust.known_hosts_block(settings).split("\n")[1:] == [
        "@revoked * " + lines["rsa"].strip(), "@revoked * " + lines["ecdsa"].strip()]
    assert refused(variables(lines, fleetca_ssh_host_ca_retired_keys=["not a key"])).startswith(
        "fleetca_ssh_host_ca_retired_keys[0] ")


@pytest.mark.parametrize("name, value, expect", [
    ("trusted", {"fleetca_ssh_host_ca_trusted_keys": ["{key}", "{key}\n@cert-authority * {key}"]},
     "fleetca_ssh_host_ca_trusted_keys[1] must be one line"),
    ("extra", {"fleetca_ssh_host_ca_extra_keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAbogus"]},
     "fleetca_ssh_host_ca_extra_keys[0] is not a valid public key"),
    ("not a list", {"fleetca_ssh_host_ca_extra_keys": "{key}"}, "fleetca_ssh_host_ca_extra_keys must be a list"),
])
def test_a_bad_trusted_or_extra_host_ca_key_is_refused_naming_it(lines, name, value, expect):
    key = lines["ed25519"].strip()
    overrides = dict((field, [item.format(key=key) for item in items] if isinstance(items, list) else items.format(key=key))
                     for field, items in value.items())
    assert expect in refused(variables(lines, **overrides))


@pytest.mark.parametrize("name, bad, expect", [
    ("injected second line", "{key}\n@cert-authority * {key}", "fleetca_ssh_host_ca_public_key must be one line"),
    ("NUL", "{key}\x00x", "fleetca_ssh_host_ca_public_key must be one line"),
    ("# in the comment", "{key} #x", "fleetca_ssh_host_ca_public_key must be one line"),
    ("tab between fields", "{type}\t{blob}", "fleetca_ssh_host_ca_public_key must be one line"),
    ("two spaces between fields", "{type}  {blob}", "fleetca_ssh_host_ca_public_key must be one line"),
    ("certificate", "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29t",
     "fleetca_ssh_host_ca_public_key is not a valid public key"),
    ("truncated blob", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAbogus", "fleetca_ssh_host_ca_public_key is not a valid"),
    ("type of another key", "ssh-rsa {blob}", "fleetca_ssh_host_ca_public_key is not a valid public key"),
    ("not a string", 42, "fleetca_ssh_host_ca_public_key must be one line"),
])
def test_bad_ca_key_lines_are_refused_naming_the_variable(lines, name, bad, expect):
    key_type, blob = lines["ed25519"].split()[:2]
    value = bad.format(key=lines["ed25519"].strip(), type=key_type, blob=blob) if isinstance(bad, str) else bad
    assert expect in refused(variables(lines, fleetca_ssh_host_ca_public_key=value)), name


def test_an_ecdsa_point_off_its_curve_is_refused(lines):
    point = b"\x04" + b"\x01" * 64  # the right length and form, not on nistp256
    blob = encode_string("ecdsa-sha2-nistp256") + encode_string("nistp256") + encode_string(point)
    line = "ecdsa-sha2-nistp256 " + base64.b64encode(blob).decode()
    message = refused(variables(lines, fleetca_ssh_revoked_host_keys=[lines["rsa"], line]))
    assert message.startswith("fleetca_ssh_revoked_host_keys[1] is not a valid public key (its point is not on curve")


@pytest.mark.parametrize("patterns", [["ok.example", "bad host"], ["a\nb"], ["#x"], ["a,b"], ["*", 7]])
def test_bad_patterns_are_refused_naming_the_variable(lines, patterns):
    assert refused(variables(lines, fleetca_ssh_known_hosts_patterns=patterns)).startswith(
        "fleetca_ssh_known_hosts_patterns")


@pytest.mark.parametrize("patterns", ["*", [], {"*": 1}])
def test_patterns_must_be_a_non_empty_list(lines, patterns):
    assert "fleetca_ssh_known_hosts_patterns must be a non-empty list" in refused(
        variables(lines, fleetca_ssh_known_hosts_patterns=patterns))


def test_good_patterns_pass(lines):
    patterns = ["*", "!bad.example.org", "*.example.org", "192.0.2.*", "[bastion]:2222", "2001:db8::1", "h?st_1"]
    assert client_trust.check_settings(variables(lines, fleetca_ssh_known_hosts_patterns=patterns))["patterns"] \
        == patterns


@pytest.mark.parametrize("name, value", [
    ("fleetca_ssh_revoked_host_keys", "not a list"),
    ("fleetca_ssh_known_hosts_user", "al ice"),
    ("fleetca_ssh_known_hosts_path", "relative/known_hosts"),
    ("fleetca_ssh_known_hosts_mode", 420),  # an unquoted 0644 in YAML
    ("fleetca_ssh_known_hosts_mode", "644x"),
    ("fleetca_ssh_client_config", "yes"),
    ("fleetca_ssh_client_certificate_file", "~/my cert.pub"),
    ("fleetca_ssh_client_packages", "openssh-client"),
])
def test_other_bad_variables_are_refused_naming_them(lines, name, value):
    assert refused(variables(lines, **{name: value})).startswith(name)


def test_a_missing_ca_key_is_refused_naming_it(lines):
    assert refused(variables(lines, fleetca_ssh_host_ca_public_key=None)).startswith(
        "fleetca_ssh_host_ca_public_key is required")


# --- the probe, run for real -------------------------------------------------------------------


def tools_dir(directory, tools):
    """A PATH directory holding the real binaries of `tools` and the base system's sh, sed, getent."""
    os.makedirs(str(directory))
    for tool in ("sh", "sed", "getent") + tuple(tools):
        os.symlink(shutil.which(tool), os.path.join(str(directory), tool))
    return str(directory)


def run_probe(settings, path):
    done = subprocess.run([shutil.which("sh"), "-c", client_trust.probe_command(settings)], env={"PATH": path},
                          capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture
def settings(lines):
    return client_trust.check_settings(variables(lines))


def test_the_probe_reports_what_this_machine_has(settings, tmp_path):
    output = run_probe(dict(settings, user="root"), tools_dir(tmp_path / "bin", ("ssh", "ssh-keygen")))
    report = client_trust.parse_probe(output)
    assert report["tools"] == ["ssh", "ssh-keygen"]
    assert "ssh-ed25519-cert-v01@openssh.com" in report["algorithms"]
    listed = subprocess.run(["ssh", "-Q", "HostKeyAlgorithms"], capture_output=True, text=True, check=True)
    assert report["algorithms"] == listed.stdout.split()
    with open("/etc/ssh/ssh_config") as handle:
        assert report["config"] == handle.read().splitlines()
    assert report["user"][0] == "root" and report["user"][5] == "/root"


def test_nothing_is_installed_where_ssh_and_ssh_keygen_are_there(settings, tmp_path):
    output = run_probe(settings, tools_dir(tmp_path / "bin", ("ssh", "ssh-keygen")))
    assert client_trust.plan(output, settings, "ws1")["install"] == []


@pytest.mark.parametrize("present", [(), ("ssh",), ("ssh-keygen",)])
def test_the_packages_are_installed_where_a_tool_is_missing(settings, tmp_path, present):
    output = run_probe(settings, tools_dir(tmp_path / "bin", present))
    assert client_trust.plan(output, settings, "ws1")["install"] == ["openssh-client"]


def test_a_tool_still_missing_after_installing_is_an_error(settings, tmp_path):
    output = run_probe(settings, tools_dir(tmp_path / "bin", ("ssh",)))
    with pytest.raises(FleetcaError) as error:
        client_trust.plan(output, settings, "ws1", installed=True)
    assert str(error.value).startswith("ssh-keygen not found on ws1 after installing openssh-client")


def test_a_probe_cut_short_is_an_error(settings, tmp_path):
    output = run_probe(settings, tools_dir(tmp_path / "bin", ("ssh", "ssh-keygen")))
    with pytest.raises(FleetcaError):
        client_trust.parse_probe(output.replace("fleetca-probe end", ""))


def test_banner_lines_and_crlf_of_a_tty_are_ignored():
    output = "Welcome!\r\nfleetca-probe tool ssh\r\nfleetca-probe algorithm ssh-ed25519\r\nfleetca-probe end\r\n"
    report = client_trust.parse_probe(output)
    assert (report["tools"], report["algorithms"], report["config"]) == (["ssh"], ["ssh-ed25519"], None)


# --- the plan ----------------------------------------------------------------------------------


def probe_output(tools=("ssh", "ssh-keygen"), algorithms=(), config=None, dropin=False, user=None):
    out = ["fleetca-probe tool %s" % tool for tool in tools]
    out += ["fleetca-probe algorithm %s" % name for name in algorithms]
    if config is not None:
        out += ["fleetca-probe config"] + ["fleetca-probe config-line %s" % line for line in config]
    if dropin:
        out.append("fleetca-probe dropin")
    if user:
        out.append("fleetca-probe user %s" % user)
    return "\n".join(out + ["fleetca-probe end"]) + "\n"


DEBIAN_CONFIG = ["", "# This is the ssh client system-wide configuration file.", "Include /etc/ssh/ssh_config.d/*.conf",
                 "", "Host *", "    SendEnv LANG LC_*"]


@pytest.mark.parametrize("config, expected", [
    (DEBIAN_CONFIG, True),
    (["include ssh_config.d/*.conf"], True),
    (["  INCLUDE   /etc/ssh/ssh_config.d/*.conf  "], True),
    (["Host *", "Include /etc/ssh/ssh_config.d/*.conf"], False),  # inside a block: for those hosts only
    (["Match all", "Include /etc/ssh/ssh_config.d/*.conf"], False),
    (["Include /etc/ssh/ssh_config.d/other.conf"], False),
    ([], False),
])
def test_ssh_config_includes_dropins(config, expected):
    assert client_trust.ssh_config_includes_dropins(config) is expected


def test_system_wide_known_hosts_block(lines):
    settings = client_trust.check_settings(variables(
        lines, fleetca_ssh_known_hosts_patterns=["client-deb11", "192.0.2.7"], fleetca_ssh_revoked_host_keys=[lines["rsa"]]))
    known_hosts = client_trust.plan(probe_output(), settings, "ws1")["known_hosts"]
    assert known_hosts["block"] == "@cert-authority client-deb11,192.0.2.7 %s\n@revoked * %s" % (
        lines["ed25519"].strip(), lines["rsa"].strip())
    assert dict((k, known_hosts[k]) for k in ("path", "owner", "group", "mode", "ssh_dir")) == dict(
        path="/etc/ssh/ssh_known_hosts", owner="root", group="root", mode="0644", ssh_dir="")


def test_a_users_known_hosts(lines):
    settings = client_trust.check_settings(variables(lines, fleetca_ssh_known_hosts_user="alice"))
    output = probe_output(user="alice:x:1000:1001:Alice,,,:/home/alice:/bin/bash")
    known_hosts = client_trust.plan(output, settings, "ws1")["known_hosts"]
    assert dict((k, known_hosts[k]) for k in ("path", "owner", "group", "mode", "ssh_dir")) == dict(
        path="/home/alice/.ssh/known_hosts", owner="alice", group="1001", mode="0600", ssh_dir="/home/alice/.ssh")
    with pytest.raises(FleetcaError) as error:
        client_trust.plan(probe_output(), settings, "ws1")
    assert str(error.value) == 'fleetca_ssh_known_hosts_user: no user "alice" on ws1'


ALGORITHMS = ["ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com", "ssh-rsa", "ssh-rsa-cert-v01@openssh.com",
              "rsa-sha2-512", "rsa-sha2-512-cert-v01@openssh.com", "ssh-dss"]


def test_the_snippet_goes_into_the_dropin_when_ssh_config_includes_it(lines):
    settings = client_trust.check_settings(variables(
        lines, fleetca_ssh_client_config=True, fleetca_ssh_client_certificate_file="~/.ssh/id_ed25519-cert.pub"))
    config = client_trust.plan(probe_output(algorithms=ALGORITHMS, config=DEBIAN_CONFIG), settings, "ws1")["client_config"]
    assert config["write_dropin"] == (
        "# Prefer host certificates signed by the fleet's host CA (fleetca.ssh.client):\n"
        "# certificate algorithms first, then plain keys; no SHA-1 ssh-rsa, no DSA.\n"
        "HostKeyAlgorithms ssh-ed25519-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,ssh-ed25519,rsa-sha2-512\n"
        "CertificateFile ~/.ssh/id_ed25519-cert.pub")
    assert (config["write_block"], config["remove_dropin"], config["remove_block"]) == (None, False, False)


def test_the_snippet_becomes_a_block_where_ssh_config_has_no_include(lines):
    settings = client_trust.check_settings(variables(lines, fleetca_ssh_client_config=True))
    output = probe_output(algorithms=ALGORITHMS, config=["Host *", "  ForwardAgent no"], dropin=True)
    config = client_trust.plan(output, settings, "ws1")["client_config"]
    assert config["write_block"].endswith("\nHostKeyAlgorithms ssh-ed25519-cert-v01@openssh.com,"
                                          "rsa-sha2-512-cert-v01@openssh.com,ssh-ed25519,rsa-sha2-512")
    assert config["write_dropin"] is None and config["remove_dropin"] is True  # a left-over drop-in goes


def test_snippet_off_removes_what_is_there(lines):
    settings = client_trust.check_settings(variables(lines))
    begin = "# BEGIN fleetca.ssh.client managed block: host key algorithms"
    output = probe_output(config=[begin, "HostKeyAlgorithms ssh-ed25519", begin.replace("BEGIN", "END")] + DEBIAN_CONFIG,
                          dropin=True)
    config = client_trust.plan(output, settings, "ws1")["client_config"]
    assert (config["write_dropin"], config["write_block"]) == (None, None)
    assert (config["remove_dropin"], config["remove_block"]) == (True, True)
    config = client_trust.plan(probe_output(config=DEBIAN_CONFIG), settings, "ws1")["client_config"]
    assert (config["remove_dropin"], config["remove_block"]) == (False, False)


def test_check_mode_without_ssh_leaves_the_snippet_out(lines):
    settings = client_trust.check_settings(variables(lines, fleetca_ssh_client_config=True))
    result = client_trust.plan(probe_output(tools=()), settings, "ws1", check_mode=True)
    assert result["install"] == ["openssh-client"] and result["client_config"] is None
    assert result["known_hosts"]["block"].startswith("@cert-authority * ssh-ed25519 ")
