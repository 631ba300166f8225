# SPDX-License-Identifier: GPL-3.0-or-later
"""fleetca.ssh.cert_info through Ansible: every field it returns is what `ssh-keygen -L` and
`ssh-keygen -l` print for the same certificate, for certificates signed by `ssh-keygen -s` and
by the engine; validity now and at `valid_at`; the signature against the right and a wrong CA;
bad input fails naming the field."""

import calendar
import re
import os
import time

import pytest

from fleetca_testing.openssh_keys import parse_ssh_keygen_listing

UINT64_MAX = 2 ** 64 - 1
UTC_ENV = dict(os.environ, TZ="UTC")


@pytest.fixture(scope="module")
def cas(make_key):
    return {"ca": make_key("cert-info-ca"), "rsa-ca": make_key("cert-info-rsa-ca", "rsa"),
            "other": make_key("cert-info-other-ca")}


@pytest.fixture(scope="module")
def certificates(tmp_path_factory, make_key, cas, sign_cert, run_cmd):
    """Certificate files by name, each signed by cas[ca] of (name -> (ca, path))."""
    directory = tmp_path_factory.mktemp("cert-info")
    made = {}

    def keygen_sign(name, ca, subject, *args):
        pub = directory / (name + ".pub")
        pub.write_text(subject.public_line + "\n")
        run_cmd(["ssh-keygen", "-q", "-s", cas[ca].path] + list(args) + [str(pub)], env=UTC_ENV)
        made[name] = (ca, str(directory / (name + "-cert.pub")))

    keygen_sign("keygen-user", "ca", make_key("cert-info-user"), "-I", "alice@laptop", "-n", "zed,alice,ops",
                "-z", "4242", "-V", "20260101000000:20360101123456", "-O", "clear",
                "-O", "force-command=/usr/bin/id -u", "-O", "source-address=10.0.0.0/8,192.168.1.1",
                "-O", "permit-pty", "-O", "permit-agent-forwarding")
    keygen_sign("keygen-host-forever", "rsa-ca", make_key("cert-info-host", "ecdsa"), "-h", "-I", "host:web1",
                "-n", "web1.example.com,web1", "-z", "7", "-V", "20260301:forever")
    keygen_sign("keygen-always", "ca", make_key("cert-info-always"), "-I", "always", "-n", "root",
                "-z", "8", "-V", "always:forever")
    keygen_sign("keygen-until", "ca", make_key("cert-info-until"), "-I", "until", "-n", "root",
                "-z", "9", "-V", "always:20350101")
    for name, ca, subject, options in (
            ("engine-user-rsa", "ca", make_key("cert-info-rsa-user", "rsa"),
             dict(principals=["ops", "alice"], key_id="engine user", serial=99,
                  valid_after=1_780_000_000, valid_before=2_100_000_000,
                  critical_options={"force-command": "/bin/true", "verify-required": ""},
                  extensions={"permit-pty": "", "permit-X11-forwarding": ""})),
            ("engine-host", "rsa-ca", make_key("cert-info-engine-host"),
             dict(cert_type="host", principals=["db1.example.com"], key_id="host:db1", serial=100,
                  valid_after=1_780_000_000, valid_before=2_100_000_000)),
            ("engine-expired", "ca", make_key("cert-info-expired"),
             dict(principals=["bob"], key_id="expired", serial=101, valid_after=1_000_000_000,
                  valid_before=1_000_003_600))):
        path = directory / (name + "-cert.pub")
        sign_cert(cas[ca], subject, path=path, **options)
        made[name] = (ca, str(path))
    return made


def info_task(name, **args):
    return {"name": name, "fleetca.ssh.cert_info": args, "register": re.sub(r"\W", "_", name),
            "ignore_errors": True}


@pytest.fixture(scope="module")
def play(ansible_runner, tmp_path_factory, certificates, cas):
    """One playbook run: cert_info on every certificate (right CA, wrong CA, by content, at valid_at)."""
    tasks = []
    for name, (ca, path) in sorted(certificates.items()):
        tasks.append(info_task(name, path=path, ca_public_key=cas[ca].pub_path))
        with open(path) as handle:
            tasks.append(info_task(name + " wrong ca", content=handle.read(), ca_public_key=cas["other"].public_line))
    path = certificates["keygen-user"][1]
    tasks += [
        info_task("before", path=path, valid_at="2025-12-31T23:59:59Z"),
        info_task("first second", path=path, valid_at="20260101"),
        info_task("last second", path=path, valid_at="2036-01-01T12:34:55Z"),
        info_task("after", path=path, valid_at=str(calendar.timegm((2036, 1, 1, 12, 34, 56)))),
    ]
    runner = ansible_runner(tmp_path_factory.mktemp("cert-info-play"))
    started = int(time.time())
    run = runner.run(tasks)
    assert len(run.results) == len(tasks), run.output
    return run, started, int(time.time())


def listing_of(run_cmd, path):
    return parse_ssh_keygen_listing(run_cmd(["ssh-keygen", "-L", "-f", path], env=UTC_ENV).stdout)


def options_of(listed):
    """ssh-keygen -L's option lines (`name value` or `name`) -> name -> value."""
    if listed == "(none)":
        return {}
    return dict((line.split(" ", 1) + [""])[:2] for line in listed)


def iso_and_epoch(text):
    """An ssh-keygen -L time (UTC here) -> (our ISO 8601 form, epoch seconds)."""
    return text + "Z", calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%S"))


def expected_validity(listed):
    """(valid_after, valid_before, their epochs) from ssh-keygen -L's `Valid:` line, which
    reads `forever`, `after START` (no end), `before END` (no start) or `from START to END`."""
    start = end = None
    if listed.startswith("after "):
        start = listed[len("after "):]
    elif listed.startswith("before "):
        end = listed[len("before "):]
    elif listed != "forever":
        start, end = listed[len("from "):].split(" to ")
    after, after_epoch = iso_and_epoch(start) if start else ("1970-01-01T00:00:00Z", 0)
    before, before_epoch = iso_and_epoch(end) if end else ("forever", UINT64_MAX)
    return after, before, after_epoch, before_epoch


CERTIFICATES = ["keygen-user", "keygen-host-forever", "keygen-always", "keygen-until", "engine-user-rsa", "engine-host",
                "engine-expired"]


@pytest.mark.parametrize("name", CERTIFICATES)
def test_every_field_is_what_ssh_keygen_prints(play, certificates, cas, run_cmd, name):
    run, dummy, dummy = play
    ca, path = certificates[name]
    result = run.results[name]
    assert not result.get("failed") and result["changed"] is False, result
    listed = listing_of(run_cmd, path)
    key_type, cert_type = listed["Type"].split()[:2]
    assert (result["key_type"], result["cert_type"]) == (key_type, cert_type)
    assert result["key_id"] == listed["Key ID"].strip('"')
    assert result["serial"] == int(listed["Serial"])
    assert result["principals"] == listed["Principals"]
    assert (result["valid_after"], result["valid_before"], result["valid_after_epoch"],
            result["valid_before_epoch"]) == expected_validity(listed["Valid"])
    assert result["critical_options"] == options_of(listed["Critical Options"])
    assert result["extensions"] == options_of(listed["Extensions"])
    assert result["public_key_fingerprint"] == listed["Public key"].split()[-1]
    assert result["signing_ca_fingerprint"] == listed["Signing CA"].split()[1]
    printed_ca = run_cmd(["ssh-keygen", "-l", "-E", "sha256", "-f", cas[ca].pub_path]).stdout.split()[1]
    assert result["signing_ca_fingerprint"] == printed_ca
    printed_cert = run_cmd(["ssh-keygen", "-l", "-E", "sha256", "-f", path]).stdout.split()[1]
    assert result["public_key_fingerprint"] == printed_cert  # -l on a certificate: the certified key


def test_the_fields_users_look_for_in_a_certificate_ssh_keygen_signed(play):
    run, dummy, dummy = play
    user, host = run.results["keygen-user"], run.results["keygen-host-forever"]
    assert user["principals"] == ["zed", "alice", "ops"]  # the certificate's order, not sorted
    assert user["critical_options"] == {"force-command": "/usr/bin/id -u",
                                        "source-address": "10.0.0.0/8,192.168.1.1"}
    assert user["extensions"] == {"permit-agent-forwarding": "", "permit-pty": ""}
    assert (user["valid_after"], user["valid_before"]) == ("2026-01-01T00:00:00Z", "2036-01-01T12:34:56Z")
    assert (host["cert_type"], host["key_type"]) == ("host", "ecdsa-sha2-nistp256-cert-v01@openssh.com")
    assert host["valid_before"] == "forever" and host["valid_before_epoch"] == UINT64_MAX
    assert host["critical_options"] == {} and host["extensions"] == {}


@pytest.mark.parametrize("name", CERTIFICATES)
def test_the_signature_verifies_against_its_ca_only(play, name):
    run, dummy, dummy = play
    assert run.results[name]["signature_valid"] is True
    wrong = run.results[name + " wrong ca"]
    assert not wrong.get("failed"), wrong
    assert wrong["signature_valid"] is False
    assert wrong["serial"] == run.results[name]["serial"]  # read from content just as from path


@pytest.mark.parametrize("name", ["keygen-user", "keygen-always", "keygen-until", "engine-user-rsa", "engine-expired"])
def test_validity_now_and_seconds_left(play, name):
    run, started, finished = play
    result = run.results[name]
    valid_now = result["valid_after_epoch"] <= started and finished < result["valid_before_epoch"]
    assert result["valid"] is valid_now
    if valid_now and result["valid_before"] != "forever":
        # seconds_left counts from the moment the module ran
        assert started <= result["valid_before_epoch"] - result["seconds_left"] <= finished
    if name == "engine-expired":
        assert (result["valid"], result["seconds_left"]) == (False, 0)


@pytest.mark.parametrize("task, valid, seconds_left", [
    ("before", False, None),
    ("first second", True, calendar.timegm((2036, 1, 1, 12, 34, 56)) - calendar.timegm((2026, 1, 1, 0, 0, 0))),
    ("last second", True, 1),
    ("after", False, 0),
])
def test_validity_at_valid_at(play, task, valid, seconds_left):
    run, dummy, dummy = play
    result = run.results[task]
    assert not result.get("failed"), result
    assert result["valid"] is valid
    assert "signature_valid" not in result  # only when a ca_public_key is given
    if seconds_left is not None:
        assert result["seconds_left"] == seconds_left


@pytest.fixture(scope="module")
def bad_input_play(ansible_runner, tmp_path_factory, certificates):
    path = certificates["keygen-user"][1]
    directory = tmp_path_factory.mktemp("cert-info-bad")
    plain_key = directory / "plain.pub"
    with open(path[:-len("-cert.pub")] + ".pub") as handle:
        plain_key.write_text(handle.read())
    tasks = [
        info_task("missing", path=str(directory / "absent-cert.pub")),
        info_task("garbage", content="ssh-ed25519-cert-v01@openssh.com AAAA"),
        info_task("plain key", path=str(plain_key)),
        info_task("bad time", path=path, valid_at="soon"),
        info_task("bad ca", path=path, ca_public_key="ssh-ed25519 AAAA"),
        info_task("both", path=path, content="x"),
        info_task("neither"),
    ]
    run = ansible_runner(directory).run(tasks)
    assert len(run.results) == len(tasks), run.output
    return run, directory


@pytest.mark.parametrize("task, message", [
    ("missing", "path: {dir}/absent-cert.pub does not exist"),
    ("garbage", "content is malformed"),
    ("plain key", "path is a ssh-ed25519 key, not a certificate"),
    ("bad time", "valid_at: 'soon' is not a time"),
    ("bad ca", "ca_public_key is malformed"),
    ("both", "parameters are mutually exclusive: path|content"),
    ("neither", "one of the following is required: path, content"),
])
def test_bad_input_fails_naming_the_field(bad_input_play, task, message):
    run, directory = bad_input_play
    result = run.results[task]
    assert result.get("failed"), result
    assert message.format(dir=directory) in result["msg"], result["msg"]
