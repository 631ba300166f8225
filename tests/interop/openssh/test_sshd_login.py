# SPDX-License-Identifier: GPL-3.0-or-later
"""A real sshd and a real ssh client against certificates signed by our engine.

User certificates: sshd (TrustedUserCAKeys, no authorized_keys at all) accepts what we
sign with Ed25519, ECDSA and RSA CAs and refuses expired, not-yet-valid, foreign-CA,
wrong-principal and wrong-source certificates. Host certificates: ssh with
StrictHostKeyChecking yes and nothing but one `@cert-authority` line accepts a host whose
certificate we signed and refuses one signed by another CA or for other names.

Every refusal is paired with an accepted login in the same setup (same server, key and
CA, only the field under test differs), so a refusal cannot come from a broken setup.
"""

import re
import time

import pytest


CA_LABELS = {"ssh-ed25519": "ED25519", "ssh-rsa": "RSA", "ecdsa-sha2-nistp256": "ECDSA"}
CERT_LABELS = {"ed25519": "ED25519-CERT", "ecdsa": "ECDSA-CERT", "rsa": "RSA-CERT"}
HOST_CERT_ALGORITHMS = {
    "ed25519": "ssh-ed25519-cert-v01@openssh.com",
    "ecdsa": "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "rsa": "rsa-sha2-512-cert-v01@openssh.com",
}
HOST_NAME = "fleetca-host.example"


def assert_accepted(result, cert, login_user, subject_type="ed25519"):
    """Logged in, and sshd's VERBOSE log ties the login to our key id and serial."""
    assert result.returncode == 0, result.describe()
    ca = cert.signature_key
    accepted = re.compile(
        r"Accepted publickey for %s from %s port \d+ ssh2: %s %s ID %s \(serial %d\) CA %s %s"
        % (re.escape(login_user), re.escape(result.source or "127.0.0.1"), CERT_LABELS[subject_type],
           re.escape(cert.public_key.fingerprint), re.escape(cert.key_id), cert.serial,
           CA_LABELS[ca.key_type], re.escape(ca.fingerprint)))
    assert accepted.search(result.server_log), result.describe()
    assert 'Accepted certificate ID "%s" (serial %d) signed by %s CA %s' % (
        cert.key_id, cert.serial, CA_LABELS[ca.key_type], ca.fingerprint) in result.server_log


def assert_refused(result, reason=None):
    assert result.returncode == 255, result.describe()
    assert "Permission denied (publickey)" in result.stderr, result.describe()
    assert "Accepted publickey" not in result.server_log, result.describe()
    if reason:
        assert reason in result.server_log, result.describe()


# --- user certificates -------------------------------------------------------


@pytest.fixture(scope="module")
def user_cas(make_key):
    return {
        "ed25519": make_key("user-ca-ed25519"),
        "ecdsa": make_key("user-ca-ecdsa", "ecdsa"),
        "rsa": make_key("user-ca-rsa", "rsa"),
    }


@pytest.fixture(scope="module")
def foreign_ca(make_key):
    """A CA that no server here trusts."""
    return make_key("user-ca-foreign")


@pytest.fixture(scope="module")
def user_key(make_key):
    return make_key("alice")


@pytest.fixture(scope="module")
def server(sshd, user_cas, login_user):
    return sshd(trusted_user_ca_keys=list(user_cas.values()))


@pytest.mark.parametrize("ca_type, rsa_algorithm", [
    ("ed25519", "rsa-sha2-512"),
    ("ecdsa", "rsa-sha2-512"),
    ("rsa", "rsa-sha2-512"),
    ("rsa", "rsa-sha2-256"),
])
def test_sshd_accepts_user_cert_we_signed(server, user_cas, user_key, login_user, sign_cert, ssh, keygen_list,
                                          workdir, ca_type, rsa_algorithm):
    path = workdir / "alice-cert.pub"
    cert = sign_cert(user_cas[ca_type], user_key, principals=[login_user], key_id="alice@%s" % ca_type,
                     rsa_algorithm=rsa_algorithm, path=path)
    if ca_type == "rsa":
        assert "(using %s)" % rsa_algorithm in keygen_list(path)
    assert_accepted(ssh(server, user_key, path), cert, login_user)


@pytest.mark.parametrize("subject_type", ["ecdsa", "rsa"])
def test_sshd_accepts_other_subject_key_types(server, user_cas, make_key, login_user, sign_cert, ssh, workdir,
                                              subject_type):
    subject = make_key("alice-" + subject_type, subject_type)
    path = workdir / "cert.pub"
    cert = sign_cert(user_cas["ed25519"], subject, principals=[login_user], key_id="alice-" + subject_type,
                     path=path)
    assert_accepted(ssh(server, subject, path), cert, login_user, subject_type)


def _now():
    return int(time.time())


# name -> (fields of the refused cert, fields of its accepted twin, reason sshd logs)
REFUSALS = {
    "expired": (
        lambda user: dict(valid_after=_now() - 7200, valid_before=_now() - 60),
        lambda user: dict(valid_after=_now() - 7200, valid_before=_now() + 3600),
        "Certificate invalid: expired"),
    "not-yet-valid": (
        lambda user: dict(valid_after=_now() + 3600, valid_before=_now() + 7200),
        lambda user: dict(valid_after=_now() - 60, valid_before=_now() + 7200),
        "Certificate invalid: not yet valid"),
    "principals-without-user": (
        lambda user: dict(principals=["bob", "root", user + "x"]),
        lambda user: dict(principals=["bob", "root", user]),
        "Certificate invalid: name is not a listed principal"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_sshd_refuses_invalid_user_cert(server, user_cas, user_key, login_user, sign_cert, ssh, workdir, case):
    bad_fields, good_fields, reason = REFUSALS[case]
    good = workdir / "good-cert.pub"
    bad = workdir / "bad-cert.pub"
    good_cert = sign_cert(user_cas["ed25519"], user_key, key_id="good-" + case,
                          **dict(dict(principals=[login_user]), **good_fields(login_user)))
    good.write_text(good_cert.to_line() + "\n")
    sign_cert(user_cas["ed25519"], user_key, key_id="bad-" + case,
              **dict(dict(principals=[login_user]), **bad_fields(login_user)), path=bad)
    assert_accepted(ssh(server, user_key, good), good_cert, login_user)
    assert_refused(ssh(server, user_key, bad), reason)


def test_sshd_refuses_cert_from_another_ca(server, user_cas, foreign_ca, user_key, login_user, sign_cert, ssh,
                                           workdir):
    good, bad = workdir / "good-cert.pub", workdir / "bad-cert.pub"
    good_cert = sign_cert(user_cas["ed25519"], user_key, key_id="trusted-ca", path=good)
    bad_cert = sign_cert(foreign_ca, user_key, key_id="foreign-ca", path=bad)
    assert_accepted(ssh(server, user_key, good), good_cert, login_user)
    refused = ssh(server, user_key, bad)
    assert_refused(refused)
    # sshd saw our certificate (its id, serial and the foreign CA) and did not take it
    assert "ID foreign-ca (serial %d) CA ED25519 %s" % (
        bad_cert.serial, bad_cert.signature_key.fingerprint) in refused.server_log, refused.describe()


def test_sshd_refuses_cert_from_another_source_address(server, user_cas, user_key, login_user, sign_cert, ssh,
                                                       workdir):
    source = ssh.next_source()  # this test's client address, known before signing
    allowed = source or "127.0.0.1"
    good, bad = workdir / "good-cert.pub", workdir / "bad-cert.pub"
    good_cert = sign_cert(user_cas["ed25519"], user_key, key_id="from-here",
                          critical_options={"source-address": "192.0.2.0/24,%s/32" % allowed}, path=good)
    sign_cert(user_cas["ed25519"], user_key, key_id="from-elsewhere",
              critical_options={"source-address": "192.0.2.0/24,198.51.100.7/32"}, path=bad)
    assert_accepted(ssh(server, user_key, good, source=source), good_cert, login_user)
    assert_refused(ssh(server, user_key, bad, source=source), "not from a permitted source address")


def test_cert_force_command_runs_instead_of_the_requested_command(server, user_cas, user_key, login_user,
                                                                  sign_cert, ssh, workdir):
    plain, forced = workdir / "plain-cert.pub", workdir / "forced-cert.pub"
    plain_cert = sign_cert(user_cas["ed25519"], user_key, key_id="plain", path=plain)
    forced_cert = sign_cert(user_cas["ed25519"], user_key, key_id="forced", path=forced,
                            critical_options={"force-command": "echo forced-by-certificate"})
    result = ssh(server, user_key, plain, command="echo requested-by-client")
    assert_accepted(result, plain_cert, login_user)
    assert result.stdout.strip() == "requested-by-client"
    result = ssh(server, user_key, forced, command="echo requested-by-client")
    assert_accepted(result, forced_cert, login_user)
    assert result.stdout.strip() == "forced-by-certificate", result.describe()
    assert "forced-command (key-option) 'echo forced-by-certificate'" in result.server_log


def test_authorized_principals_file_maps_roles_to_the_user(sshd, user_cas, user_key, login_user, sign_cert, ssh,
                                                           workdir):
    """With AuthorizedPrincipalsFile, a role principal logs in and the bare user name does not."""
    server = sshd(trusted_user_ca_keys=[user_cas["ed25519"]], authorized_principals={login_user: ["ops-team"]})
    role, name = workdir / "role-cert.pub", workdir / "name-cert.pub"
    role_cert = sign_cert(user_cas["ed25519"], user_key, principals=["ops-team"], key_id="role", path=role)
    sign_cert(user_cas["ed25519"], user_key, principals=[login_user], key_id="name", path=name)
    assert_accepted(ssh(server, user_key, role), role_cert, login_user)
    assert_refused(ssh(server, user_key, name))


# --- host certificates -------------------------------------------------------


@pytest.fixture(scope="module")
def host_cas(make_key):
    return {
        "ed25519": make_key("host-ca-ed25519"),
        "ecdsa": make_key("host-ca-ecdsa", "ecdsa"),
        "rsa": make_key("host-ca-rsa", "rsa"),
    }


@pytest.fixture(scope="module")
def foreign_host_ca(make_key):
    return make_key("host-ca-foreign")


def _host_server(sshd, user_cas, signers_by_type, principals, sign_cert):
    """A server whose host key of each type carries a certificate signed by signers_by_type[type]."""
    server = sshd.prepare(trusted_user_ca_keys=[user_cas["ed25519"]], host_key_types=tuple(signers_by_type))
    host_certs = {}
    for key_type, ca in signers_by_type.items():
        host_certs[key_type] = sign_cert(ca, server.host_keys[key_type], cert_type="host", principals=principals,
                                         key_id="host-%s" % key_type)
    server.start(host_certificates=host_certs)
    server.certs = host_certs
    return server


@pytest.fixture(scope="module")
def host_server(sshd, user_cas, host_cas, login_user, sign_cert):
    """Host keys of all three types, each certified by the host CA of the same type."""
    return _host_server(sshd, user_cas, host_cas, ["127.0.0.1", HOST_NAME], sign_cert)


@pytest.fixture(scope="module")
def foreign_host_server(sshd, user_cas, foreign_host_ca, login_user, sign_cert):
    return _host_server(sshd, user_cas, {"ed25519": foreign_host_ca}, ["127.0.0.1", HOST_NAME], sign_cert)


@pytest.fixture(scope="module")
def misnamed_host_server(sshd, user_cas, host_cas, login_user, sign_cert):
    return _host_server(sshd, user_cas, {"ed25519": host_cas["ed25519"]}, ["elsewhere.example"], sign_cert)


@pytest.fixture(scope="module")
def user_login_cert(user_cas, user_key, login_user, sign_cert, tmp_path_factory):
    path = tmp_path_factory.mktemp("host-login") / "alice-cert.pub"
    sign_cert(user_cas["ed25519"], user_key, principals=[login_user], key_id="alice-host-tests",
              valid_before=int(time.time()) + 6 * 3600, path=path)
    return path


def connect_trusting(ssh, server, host_ca, user_key, cert, workdir, key_type="ed25519", alias=None):
    """ssh with StrictHostKeyChecking yes and a known_hosts holding only `@cert-authority * CA`."""
    source = ssh.next_source()
    known_hosts = workdir / ("known_hosts-%d" % len(list(workdir.glob("known_hosts-*"))))
    content = server.known_hosts_cert_authority(host_ca.public_line, "*")
    known_hosts.write_text(content)
    result = ssh(
        server, user_key, cert, known_hosts=str(known_hosts), strict="yes", host_key_alias=alias,
        options=["HostKeyAlgorithms=%s" % HOST_CERT_ALGORITHMS[key_type]], verbose=True, source=source)
    assert known_hosts.read_text() == content, "the client must not have learnt a host key"
    return result


def assert_host_accepted(result, host_cert):
    assert result.returncode == 0, result.describe()
    # the client verified a host *certificate*: ours, by serial and key id
    assert re.search(r"Server host certificate: \S+-cert-v01@openssh\.com \S+, serial %d ID \"%s\" CA %s %s"
                     % (host_cert.serial, re.escape(host_cert.key_id),
                        re.escape(host_cert.signature_key.key_type), re.escape(host_cert.signature_key.fingerprint)),
                     result.stderr), result.describe()
    assert re.search(r"Host '\S+' is known and matches the \S+-CERT host certificate", result.stderr), \
        result.describe()
    assert re.search(r"Found CA key in \S+/known_hosts-\d+:1\b", result.stderr), result.describe()


def assert_host_refused(result, reason=None):
    assert result.returncode == 255, result.describe()
    assert "Host key verification failed." in result.stderr, result.describe()
    assert "Accepted publickey" not in result.server_log, result.describe()
    if reason:
        assert reason in result.stderr, result.describe()


@pytest.mark.parametrize("key_type", ["ed25519", "ecdsa", "rsa"])
def test_client_accepts_host_cert_we_signed(host_server, host_cas, user_key, user_login_cert, ssh, workdir,
                                            key_type):
    result = connect_trusting(ssh, host_server, host_cas[key_type], user_key, user_login_cert, workdir, key_type)
    assert_host_accepted(result, host_server.certs[key_type])


def test_client_accepts_host_cert_name_principal_via_host_key_alias(host_server, host_cas, user_key,
                                                                    user_login_cert, ssh, workdir):
    result = connect_trusting(ssh, host_server, host_cas["ed25519"], user_key, user_login_cert, workdir,
                              alias=HOST_NAME)
    assert_host_accepted(result, host_server.certs["ed25519"])
    refused = connect_trusting(ssh, host_server, host_cas["ed25519"], user_key, user_login_cert, workdir,
                               alias="not-" + HOST_NAME)
    assert_host_refused(refused, "name is not a listed principal")


def test_client_refuses_host_cert_from_another_ca(foreign_host_server, host_cas, foreign_host_ca, user_key,
                                                  user_login_cert, ssh, workdir):
    # twin: the same server is accepted by a client that trusts the CA that signed it
    accepted = connect_trusting(ssh, foreign_host_server, foreign_host_ca, user_key, user_login_cert, workdir)
    assert_host_accepted(accepted, foreign_host_server.certs["ed25519"])
    refused = connect_trusting(ssh, foreign_host_server, host_cas["ed25519"], user_key, user_login_cert, workdir)
    assert_host_refused(refused)
    assert "No matching CA found" in refused.stderr, refused.describe()


def test_client_refuses_host_cert_for_other_names(misnamed_host_server, host_cas, user_key, user_login_cert,
                                                  ssh, workdir):
    refused = connect_trusting(ssh, misnamed_host_server, host_cas["ed25519"], user_key, user_login_cert, workdir)
    assert_host_refused(refused, "name is not a listed principal")
    # twin: the same server, the same trust, under the name its certificate lists
    accepted = connect_trusting(ssh, misnamed_host_server, host_cas["ed25519"], user_key, user_login_cert, workdir,
                                alias="elsewhere.example")
    assert_host_accepted(accepted, misnamed_host_server.certs["ed25519"])
