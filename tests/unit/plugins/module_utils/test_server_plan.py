# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/server_plan.py: the server role's decisions, from a probe answer built by
sshd_probe's own functions over real files, and certificates signed by the collection's engine."""

import os
import subprocess

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import certs, keys, server_plan, signers, sshd_probe, sshd_trust
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

USER_CA = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE8eYh3FDIyq0d7qrdkzmqvLDTbo4HMtAQz7Vn5ar0hR user-ca"
RSA_USER_CA = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 rsa-ca"
QUERY = {
    "kex": ["sntrup761x25519-sha512@openssh.com", "curve25519-sha256", "diffie-hellman-group14-sha1"],
    "cipher": ["aes128-ctr", "chacha20-poly1305@openssh.com", "aes128-cbc"],
    "mac": ["hmac-sha1", "hmac-sha2-256-etm@openssh.com"],
    "host_key": ["ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com", "ecdsa-sha2-nistp256", "rsa-sha2-512"],
    "sig": ["ssh-ed25519", "rsa-sha2-512", "ecdsa-sha2-nistp256", "ssh-rsa"],
}
# What `sshd -T -f /dev/null` names on OpenSSH 9.2 (in part): no hostkey/hostcertificate while unset.
KNOWN = ("authorizedkeysfile", "authorizedprincipalsfile", "casignaturealgorithms", "ciphers",
         "hostkeyalgorithms", "kbdinteractiveauthentication", "kexalgorithms", "loglevel", "macs",
         "maxauthtries", "passwordauthentication", "permitrootlogin", "pubkeyauthentication",
         "revokedkeys", "trustedusercakeys", "x11forwarding")


def ssh_keygen(path, key_type="ed25519"):
    subprocess.run(["ssh-keygen", "-q", "-t", key_type, "-N", "", "-C", "", "-f", str(path)], check=True)
    with open(str(path) + ".pub") as handle:
        return handle.read().strip()


@pytest.fixture(scope="module")
def key_dir(tmp_path_factory):
    """A host key directory with real ed25519 and rsa host keys (no ecdsa), and a CA key."""
    directory = tmp_path_factory.mktemp("etc_ssh")
    for key_type in ("ed25519", "rsa"):
        ssh_keygen(directory / ("ssh_host_%s_key" % key_type), key_type)
    ssh_keygen(directory / "host_ca")
    return directory


def sign_host_cert(key_dir, key_type, key_id):
    with open(str(key_dir / ("ssh_host_%s_key.pub" % key_type))) as handle:
        public_key = keys.parse_public_key("public_key", handle.read().strip())
    request = certs.CertRequest(certs.HOST_CERT, public_key, ["web1"], key_id, 0, 2 ** 40)
    return certs.sign_certificate(request, 7, signers.KeyFileSigner(str(key_dir / "host_ca"))).to_line()


def make_probe(key_dir, files=(), principals_dir=None, options=KNOWN, service=None, types=("ed25519", "rsa")):
    """A probe answer as sshd_probe gives it: host keys and file states read from real files."""
    probe = {"hostname": "web1", "fqdn": "web1.example.org", "query": QUERY, "options": list(options),
             "host_keys": sshd_probe.host_keys(list(types), str(key_dir)),
             "files": dict((path, sshd_probe.file_state(path)) for path in files),
             "digests": {}, "principals_dir": None, "principals_files": {}, "not_loaded": [],
             "service": {"active": True, "enabled": True} if service is None else service}
    if principals_dir:
        probe["principals_dir"] = sshd_probe.file_state(principals_dir)
        if os.path.isdir(principals_dir):
            probe["principals_files"] = dict((name, sshd_probe.file_state(os.path.join(principals_dir, name)))
                                             for name in os.listdir(principals_dir))
    return probe


# --- input checks --------------------------------------------------------------------------

GOOD_INPUT = dict(host="web1", host_key_types=["ed25519", "rsa"], host_key_replace=[], rsa_bits=3072,
                  sshd_options={}, authorized_principals={}, cert_only=False, user_ca_keys=[USER_CA],
                  ca_host="ca", host_ca_public_key=USER_CA, check_mode=False)


def problems_with(**changes):
    given = dict(GOOD_INPUT)
    given.update(changes)
    return server_plan.input_problems(**given)


def test_good_input_has_no_problem():
    assert problems_with() == []


@pytest.mark.parametrize("changes, named", [
    ({"host_key_types": []}, "fleetca_ssh_host_key_types must be a non-empty list of ed25519, rsa and ecdsa (got [])"),
    ({"host_key_types": ["ed25519", "dsa"]}, "(got ['ed25519', 'dsa'])"),
    ({"host_key_replace": ["ecdsa"]}, "fleetca_ssh_host_key_replace a subset of it (got ['ecdsa'])"),
    ({"rsa_bits": 2048}, "fleetca_ssh_host_key_rsa_bits at least 3072 (got 2048)"),
    ({"rsa_bits": "1024"}, "at least 3072 (got 1024)"),
    ({"rsa_bits": "many"}, "at least 3072 (got many)"),
    ({"sshd_options": {"Match": "User x"}}, 'fleetca_ssh_sshd_options: "Match" must be an sshd keyword'),
    ({"sshd_options": {"include": "/tmp/x"}}, 'fleetca_ssh_sshd_options: "include" must be an sshd keyword'),
    ({"sshd_options": {"Port 22": 1}}, 'fleetca_ssh_sshd_options: "Port 22" must be an sshd keyword'),
    ({"sshd_options": {"Banner": "x\nPermitRootLogin yes"}}, '"Banner" must be an sshd keyword'),
    ({"sshd_options": {"AcceptEnv": ["LANG", "LC_*\rX"]}}, '"AcceptEnv" must be an sshd keyword'),
    ({"authorized_principals": {"../root": ["x"]}}, 'fleetca_ssh_authorized_principals: "../root" must be a user name'),
    ({"authorized_principals": {"..": ["x"]}}, 'fleetca_ssh_authorized_principals: ".." must be a user name'),
    ({"authorized_principals": {"alice": "ci"}}, '"alice" must be a user name (no slash) mapped to a list'),
    ({"authorized_principals": {"alice": ["a,b"]}}, '"alice" must be a user name (no slash) mapped to a list of '
                                                    'principals without commas or line breaks.'),
    ({"authorized_principals": {"alice": ["a\nb"]}}, '"alice" must be a user name'),
    ({"cert_only": True, "user_ca_keys": []}, "Refusing to configure sshd on web1 with no way in: password and "
                                              "keyboard-interactive authentication are off, authorized keys are off "
                                              "(fleetca_ssh_cert_only: True) and no user CA is trusted (the CA host ca"),
    ({"host_ca_public_key": ""}, "No host CA: the server role signs host certificates on the first host of group "
                                 "ssh_ca (fleetca_ssh_ca_host: ca)"),
    ({"ca_host": ""}, "(fleetca_ssh_ca_host: -)"),
])
def test_each_problem_is_named(changes, named):
    problems = problems_with(**changes)
    assert len(problems) == 1 and named in problems[0], problems


def test_every_problem_is_named_once():
    problems = problems_with(rsa_bits=1024, authorized_principals={"a/b": ["x"], "ok": ["y"]},
                             sshd_options={"Match": "x", "Include": "y"})
    assert len(problems) == 4
    assert problems[0].startswith("fleetca_ssh_host_key_types") and '"a/b"' in problems[3]


def test_messages_are_single_spaced_sentences():
    for problem in problems_with(rsa_bits=1024, cert_only=True, user_ca_keys=[], host_ca_public_key=""):
        assert "  " not in problem and "\n" not in problem and problem.endswith(".")


@pytest.mark.parametrize("sshd_options, way_in", [
    ({}, False),
    ({"PasswordAuthentication": True}, True),
    ({"passwordauthentication": "yes"}, True),
    ({"KbdInteractiveAuthentication": "true"}, True),
    ({"AuthorizedKeysCommand": "/usr/bin/keys %u"}, True),
    ({"AuthorizedKeysCommand": "/usr/bin/keys %u", "PubkeyAuthentication": False}, False),
])
def test_no_way_in_takes_the_sshd_options_into_account(sshd_options, way_in):
    problems = problems_with(cert_only=True, user_ca_keys=[], sshd_options=sshd_options)
    assert (problems == []) == way_in, problems


def test_a_user_ca_is_no_way_in_without_public_key_authentication():
    assert server_plan.has_way_in({}, True, [USER_CA])
    assert not server_plan.has_way_in({"PubkeyAuthentication": "no"}, True, [USER_CA])
    assert not server_plan.has_way_in({"AuthorizedKeysFile": "none"}, False, [])


def test_check_mode_on_a_new_fleet_needs_no_ca_yet():
    assert problems_with(check_mode=True, cert_only=True, user_ca_keys=[], host_ca_public_key="") == []


# --- what the CA host published ------------------------------------------------------------

def test_ca_published_defaults_before_the_ca_role_ran():
    assert server_plan.ca_published({}) == {
        "paths": {"host_ca_key": "/etc/ssh/fleetca/host_ca", "store": "/etc/ssh/fleetca/issued.db"},
        "krl_master": {}, "host_ca_public_key": "", "user_ca_keys": [], "krl_signing_public_key": ""}


def test_ca_published_reads_the_ca_host_and_own_keys_win():
    ca_vars = {"fleetca_ssh_ca_paths": {"host_ca_key": "/ca/host", "store": "/ca/db"},
               "fleetca_ssh_krl_master": {"sha256": "ab"}, "fleetca_ssh_host_ca_public_key": " host-ca \n",
               "fleetca_ssh_user_ca_public_key": RSA_USER_CA}
    published = server_plan.ca_published(ca_vars, extra_user_ca_keys=[USER_CA, " ", RSA_USER_CA + "\n"])
    assert published == {"paths": {"host_ca_key": "/ca/host", "store": "/ca/db"}, "krl_master": {"sha256": "ab"},
                         "host_ca_public_key": "host-ca", "user_ca_keys": [RSA_USER_CA, USER_CA],
                         "krl_signing_public_key": ""}
    own = server_plan.ca_published(ca_vars, host_ca_public_key="mine", user_ca_public_key=USER_CA)
    assert own["host_ca_public_key"] == "mine" and own["user_ca_keys"] == [USER_CA]


def test_ca_published_trusts_the_ca_hosts_trust_set_mid_rotation_then_the_extra_keys():
    ca_vars = {"fleetca_ssh_user_ca_public_key": USER_CA,
               "fleetca_ssh_user_ca_trusted_keys": [USER_CA, RSA_USER_CA]}
    published = server_plan.ca_published(ca_vars, extra_user_ca_keys=[RSA_USER_CA, "ssh-ed25519 CCCC spare"])
    assert published["user_ca_keys"] == [USER_CA, RSA_USER_CA, "ssh-ed25519 CCCC spare"]
    # an empty trust set (a CA host set up before rotation existed) falls back to its current key
    assert server_plan.ca_published(dict(ca_vars, fleetca_ssh_user_ca_trusted_keys=[]))["user_ca_keys"] == [USER_CA]


def test_on_the_ca_host_its_own_user_ca_fact_is_no_override_of_the_trust_set():
    # The CA host is a server too: the server role sees the ca role's fact as its own variable.
    ca_vars = {"fleetca_ssh_user_ca_public_key": USER_CA,
               "fleetca_ssh_user_ca_trusted_keys": [USER_CA, RSA_USER_CA]}
    on_ca_host = server_plan.ca_published(ca_vars, user_ca_public_key=USER_CA + "\n")
    assert on_ca_host["user_ca_keys"] == [USER_CA, RSA_USER_CA]


def test_ca_published_paths_from_the_ca_variables_without_published_paths():
    paths = server_plan.ca_published({"fleetca_ssh_host_ca_key": "/k", "fleetca_ssh_store": "/s"})["paths"]
    assert paths == {"host_ca_key": "/k", "store": "/s"}


class ReadRecorder(dict):
    """The CA host's variables, recording every name read."""

    def __init__(self, *args):
        super(ReadRecorder, self).__init__(*args)
        self.read = set()

    def get(self, name, default=None):
        self.read.add(name)
        return super(ReadRecorder, self).get(name, default)


def test_ca_facts_holds_every_variable_ca_published_reads_and_nothing_else():
    ca_vars = ReadRecorder({"fleetca_ssh_user_ca_public_key": USER_CA, "fleetca_ssh_store": "/s",
                            "fleetca_ssh_host_ca_key": "/k", "ansible_host": "ca.example.org"})
    server_plan.ca_published(ca_vars)
    assert ca_vars.read <= set(server_plan.CA_PUBLISHED_VARS)
    facts = server_plan.ca_facts(ca_vars)
    assert facts == {"fleetca_ssh_user_ca_public_key": USER_CA, "fleetca_ssh_store": "/s", "fleetca_ssh_host_ca_key": "/k"}
    assert server_plan.ca_published(facts) == server_plan.ca_published(ca_vars)


# --- host certificates ---------------------------------------------------------------------

@pytest.mark.parametrize("hostname, fqdn, extra, principals", [
    ("web1", "web1.example.org", [], ["web1", "web1.example.org"]),
    ("localhost", "localhost.localdomain", [], ["web1"]),
    ("box", None, ["web1", " 192.0.2.1 ", ""], ["web1", "box", "192.0.2.1"]),
])
def test_host_principals(hostname, fqdn, extra, principals):
    probe = {"hostname": hostname, "fqdn": fqdn}
    assert server_plan.host_principals("web1", probe, extra) == principals


def test_one_request_per_key_type_with_a_public_key(key_dir):
    probe = make_probe(key_dir, types=("ecdsa", "rsa", "ed25519"))
    probe["host_keys"]["ed25519"]["certificate"] = "ssh-ed25519-cert-v01@openssh.com AAAA"
    requests = server_plan.host_cert_requests(probe, "web1", ["ecdsa", "rsa", "ed25519"], ["alias"], "+52w", "+4w")
    assert [request["key_id"] for request in requests] == ["host:web1:rsa", "host:web1:ed25519"]
    rsa, ed25519 = requests
    assert rsa == {"type": "host", "public_key": probe["host_keys"]["rsa"]["public_key"],
                   "principals": ["web1", "web1.example.org", "alias"], "key_id": "host:web1:rsa",
                   "valid_for": "+52w", "renew_before": "+4w", "requester": "web1"}
    assert ed25519["current_certificate"] == "ssh-ed25519-cert-v01@openssh.com AAAA"


def test_certificates_are_matched_by_requester_and_key_id_not_position(key_dir):
    probe = make_probe(key_dir)
    rsa = sign_host_cert(key_dir, "rsa", "host:web1:rsa")
    ed25519 = sign_host_cert(key_dir, "ed25519", "host:web1:ed25519")
    other = sign_host_cert(key_dir, "ed25519", "host:web2:ed25519")
    signed = [{"requester": "web2", "certificate": other}, {"requester": "web1", "certificate": rsa},
              {"requester": "web1", "changed": True},  # check mode: would be signed
              {"requester": "web1", "certificate": ed25519}]
    assert server_plan.host_certificates(signed, probe, "web1") == [
        {"path": str(key_dir / "ssh_host_rsa_key-cert.pub"), "certificate": rsa},
        {"path": str(key_dir / "ssh_host_ed25519_key-cert.pub"), "certificate": ed25519}]
    assert server_plan.host_certificates(signed, probe, "web3") == []


def test_a_certificate_for_an_unknown_key_id_is_not_installed(key_dir):
    stray = sign_host_cert(key_dir, "rsa", "host:web1:ecdsa")
    assert server_plan.host_certificates([{"requester": "web1", "certificate": stray}], make_probe(key_dir), "web1") == []


def test_a_broken_certificate_line_is_an_error(key_dir):
    with pytest.raises(FleetcaError):
        server_plan.host_certificates([{"requester": "web1", "certificate": "garbage"}], make_probe(key_dir), "web1")


# --- host keys: which to create, which to replace (host key rotation) -----------------------

@pytest.fixture
def rekey_dir(tmp_path):
    """A host key directory of its own (the tests stage keys in it): ed25519 and rsa, a host CA."""
    for key_type in ("ed25519", "rsa"):
        ssh_keygen(tmp_path / ("ssh_host_%s_key" % key_type), key_type)
    ssh_keygen(tmp_path / "host_ca")
    return tmp_path


def key_plan(key_dir, types=("ed25519", "rsa"), replace=(), rotate=False, run_sshd=True):
    probe = make_probe(key_dir, types=types)
    probe["run_sshd"] = run_sshd
    return server_plan.host_key_plan(probe, list(types), list(replace), rotate)


def staged(key_dir, key_type):
    return str(key_dir / ("ssh_host_%s_key.fleetca-new" % key_type))


def test_an_enrolled_host_without_rotation_has_nothing_to_do(rekey_dir):
    assert key_plan(rekey_dir) == {"generate": [], "remove": [], "run_sshd": False, "differs": False}
    assert key_plan(rekey_dir, rotate="false")["differs"] is False


@pytest.mark.parametrize("rotate", [True, "true", "True", "yes"])
def test_rotation_stages_a_new_key_beside_every_existing_one(rekey_dir, rotate):
    plan = key_plan(rekey_dir, rotate=rotate)
    assert plan["generate"] == [{"type": "ed25519", "path": staged(rekey_dir, "ed25519")},
                                {"type": "rsa", "path": staged(rekey_dir, "rsa")}]
    assert plan["remove"] == [] and plan["differs"] is True


def test_a_missing_key_is_created_in_place_and_only_existing_ones_are_staged(rekey_dir):
    plan = key_plan(rekey_dir, types=("ecdsa", "ed25519"), rotate=True, run_sshd=False)
    assert plan["generate"] == [{"type": "ecdsa", "path": str(rekey_dir / "ssh_host_ecdsa_key")},
                                {"type": "ed25519", "path": staged(rekey_dir, "ed25519")}]
    assert plan["run_sshd"] is True


def test_host_key_replace_stages_only_the_listed_types(rekey_dir):
    assert key_plan(rekey_dir, replace=["rsa"])["generate"] == [{"type": "rsa", "path": staged(rekey_dir, "rsa")}]


def test_staged_files_of_an_unfinished_run_are_removed_first(rekey_dir):
    ssh_keygen(staged(rekey_dir, "rsa"), "ed25519")
    os.unlink(staged(rekey_dir, "rsa"))  # a run that failed half way: only the .pub is left
    for rotate in (False, True):
        plan = key_plan(rekey_dir, rotate=rotate)
        assert plan["remove"] == [staged(rekey_dir, "rsa") + ".pub"] and plan["differs"] is True
    assert key_plan(rekey_dir, rotate=True)["generate"][1] == {"type": "rsa", "path": staged(rekey_dir, "rsa")}


def test_a_staged_key_is_certified_and_installed_with_its_certificate(rekey_dir):
    """After staging, the second probe: the request is for the NEW key (no current certificate to
    keep), and its certificate goes beside the old key with the staged key to move in first."""
    new_public = ssh_keygen(staged(rekey_dir, "ed25519"))
    probe = make_probe(rekey_dir)
    probe["host_keys"]["ed25519"]["certificate"] = "ssh-ed25519-cert-v01@openssh.com AAAA"
    probe["host_keys"]["rsa"]["certificate"] = "ssh-rsa-cert-v01@openssh.com AAAA"
    ed25519, rsa = server_plan.host_cert_requests(probe, "web1", ["ed25519", "rsa"], [], "+52w", "+4w")
    assert ed25519["public_key"] == new_public != probe["host_keys"]["ed25519"]["public_key"]
    assert "current_certificate" not in ed25519
    assert rsa["public_key"] == probe["host_keys"]["rsa"]["public_key"] and "current_certificate" in rsa
    request = certs.CertRequest(certs.HOST_CERT, keys.parse_public_key("k", new_public), ["web1"],
                                "host:web1:ed25519", 0, 2 ** 40)
    cert = certs.sign_certificate(request, 8, signers.KeyFileSigner(str(rekey_dir / "host_ca"))).to_line()
    assert server_plan.host_certificates([{"requester": "web1", "certificate": cert}], probe, "web1") == [
        {"path": str(rekey_dir / "ssh_host_ed25519_key-cert.pub"), "certificate": cert,
         "replace_key_from": staged(rekey_dir, "ed25519")}]


@pytest.mark.parametrize("changes, named", [
    ({"host_keys_rotate": "maybe"}, 'fleetca_ssh_host_keys_rotate must be true or false (got "maybe").'),
    ({"host_keys_rotate": None}, "fleetca_ssh_host_keys_rotate must be true or false (got null)."),
    ({"host_key_variables": ["fleetca_ssh_host_key_types", "fleetca_ssh_host_key_rotate"]},
     "Unknown variable fleetca_ssh_host_key_rotate: the server role reads only fleetca_ssh_host_key_algorithms, "
     "fleetca_ssh_host_key_replace, fleetca_ssh_host_key_rsa_bits, fleetca_ssh_host_key_types, "
     "fleetca_ssh_host_keys_rotate."),
])
def test_a_bad_rotation_request_is_named(changes, named):
    assert problems_with(**changes) == [named]


def test_known_host_key_variables_and_yes_no_spellings_pass():
    assert problems_with(host_keys_rotate="false", host_key_variables=list(server_plan.HOST_KEY_VARIABLES)) == []


# --- sshd options --------------------------------------------------------------------------

SETTINGS = {
    "host_key_types": ["ed25519", "rsa"], "trusted_user_ca_keys_file": "/etc/ssh/fleetca_user_ca.pub",
    "revoked_keys": "/etc/ssh/fleetca_revoked.krl", "authorized_principals_dir": "/etc/ssh/auth_principals",
    "authorized_principals": {}, "cert_only": False, "permit_root_login": "prohibit-password",
    "max_auth_tries": 3, "kex_algorithms": ["mlkem768x25519-sha256", "curve25519-sha256",
                                            "sntrup761x25519-sha512@openssh.com"],
    "ciphers": ["chacha20-poly1305@openssh.com", "aes128-ctr"], "macs": ["hmac-sha2-256-etm@openssh.com"],
    "host_key_algorithms": ["ssh-ed25519-cert-v01@openssh.com", "ssh-ed25519", "rsa-sha2-512"],
    "ca_signature_algorithms": ["ssh-ed25519", "rsa-sha2-512"], "sshd_options": {},
}


def config_of(key_dir, certificates=(), user_ca_keys=(USER_CA,), options=KNOWN, **settings):
    given = dict(SETTINGS)
    given.update(settings)
    return server_plan.sshd_config(make_probe(key_dir, options=options), given, list(certificates), list(user_ca_keys))


def as_lines(config):
    return ["%s %s" % (option["name"], arg) for option in config["options"] for arg in option["args"]]


def test_default_options_and_their_expected_effective_values(key_dir):
    cert = {"path": str(key_dir / "ssh_host_ed25519_key-cert.pub"), "certificate": "x"}
    config = config_of(key_dir, certificates=[cert])
    assert as_lines(config) == [
        "HostKey %s" % (key_dir / "ssh_host_ed25519_key"), "HostKey %s" % (key_dir / "ssh_host_rsa_key"),
        "HostCertificate %s" % cert["path"],
        "TrustedUserCAKeys /etc/ssh/fleetca_user_ca.pub", "RevokedKeys /etc/ssh/fleetca_revoked.krl",
        "PubkeyAuthentication yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password", "MaxAuthTries 3", "LogLevel VERBOSE",
        # preference order, cut to what `ssh -Q` listed
        "KexAlgorithms curve25519-sha256,sntrup761x25519-sha512@openssh.com",
        "Ciphers chacha20-poly1305@openssh.com,aes128-ctr", "MACs hmac-sha2-256-etm@openssh.com",
        "HostKeyAlgorithms ssh-ed25519-cert-v01@openssh.com,ssh-ed25519,rsa-sha2-512",
        "CASignatureAlgorithms ssh-ed25519,rsa-sha2-512"]
    assert "permitrootlogin without-password|prohibit-password" in config["expected"]
    assert "maxauthtries 3" in config["expected"] and "hostkey %s" % (key_dir / "ssh_host_rsa_key") in config["expected"]
    assert len(config["expected"]) == len(as_lines(config))


def test_conditional_options(key_dir):
    lines = as_lines(config_of(key_dir, user_ca_keys=[], cert_only=True, authorized_principals={"deploy": ["ci"]},
                               options=KNOWN + ("challengeresponseauthentication",)))
    assert "AuthorizedKeysFile none" in lines and "AuthorizedPrincipalsFile /etc/ssh/auth_principals/%u" in lines
    assert "ChallengeResponseAuthentication no" in lines
    assert not [line for line in lines if line.startswith(("TrustedUserCAKeys", "HostCertificate"))]
    defaults = as_lines(config_of(key_dir))
    assert not [line for line in defaults if line.startswith(("AuthorizedKeysFile", "AuthorizedPrincipalsFile",
                                                              "ChallengeResponseAuthentication"))]


def test_options_the_installed_sshd_does_not_know_are_left_out_but_host_keys_are_always_known(key_dir):
    names = [option["name"] for option in config_of(key_dir, options=["loglevel"])["options"]]
    assert names == ["HostKey", "LogLevel"]
    # No list at all (the probe could not ask sshd): nothing is filtered.
    assert len(config_of(key_dir, options=[])["options"]) == len(config_of(key_dir)["options"])


def test_user_options_replace_the_roles_by_name_in_any_case_and_come_last(key_dir):
    config = config_of(key_dir, sshd_options={"passwordauthentication": True, "X11Forwarding": False,
                                              "AcceptEnv": ["LANG", "LC_*"], "MAXAUTHTRIES": 6, "Banner": "True"})
    lines = as_lines(config)
    assert lines[-6:] == ["passwordauthentication yes", "X11Forwarding no", "AcceptEnv LANG", "AcceptEnv LC_*",
                          "MAXAUTHTRIES 6", "Banner yes"]
    assert "PasswordAuthentication no" not in lines and "MaxAuthTries 3" not in lines
    assert not [line for line in config["expected"] if line.startswith(("maxauthtries", "passwordauthentication"))]


def test_ecdsa_host_keys_bring_the_nist_host_key_algorithms(key_dir):
    def host_key_algorithms(types):
        config = server_plan.sshd_config(make_probe(key_dir, types=types), dict(SETTINGS, host_key_types=types), [], [])
        return [option["args"] for option in config["options"] if option["name"] == "HostKeyAlgorithms"][0]
    with_ecdsa = "ssh-ed25519-cert-v01@openssh.com,ssh-ed25519,rsa-sha2-512,ecdsa-sha2-nistp256"
    assert host_key_algorithms(["ed25519", "ecdsa"]) == [with_ecdsa]
    assert "ecdsa" not in host_key_algorithms(["ed25519"])[0]


def test_the_user_cas_own_algorithm_is_accepted_but_never_ssh_rsa(key_dir):
    ecdsa_ca = "ecdsa-sha2-nistp256 AAAAE2VjZHNh ca"
    config = config_of(key_dir, user_ca_keys=[ecdsa_ca, RSA_USER_CA])
    assert "CASignatureAlgorithms ssh-ed25519,rsa-sha2-512,ecdsa-sha2-nistp256" in as_lines(config)


# --- what differs --------------------------------------------------------------------------

def write_trust_files(tmp_path, key_dir, principals):
    """The files as fleetca.ssh.sshd_trust writes them (its plan, applied as root)."""
    cert = {"path": str(key_dir / "ssh_host_ed25519_key-cert.pub"),
            "certificate": sign_host_cert(key_dir, "ed25519", "host:web1:ed25519")}
    user_ca_file = str(tmp_path / "user_ca.pub")
    principals_dir = str(tmp_path / "auth_principals")
    owner = sshd_trust.wanted_owner()
    changes = (sshd_trust.plan_host_certificates([cert], owner) + sshd_trust.plan_user_ca_keys(user_ca_file, [USER_CA], owner)
               + sshd_trust.plan_principals(principals_dir, principals, True, owner))
    sshd_trust.apply(changes, owner)
    config = str(tmp_path / "00-fleetca.conf")
    with open(config, "w") as handle:
        handle.write("LogLevel VERBOSE\n")
    os.chmod(config, 0o644)
    return cert, user_ca_file, principals_dir, config


@pytest.fixture
def installed(tmp_path, key_dir):
    """(probe, wanted) of a server where sshd_trust installed everything the role wants."""
    principals = {"deploy": ["ci", "release"], "nobody": []}
    cert, user_ca_file, principals_dir, config = write_trust_files(tmp_path, key_dir, principals)
    probe = make_probe(key_dir, files=[user_ca_file, config], principals_dir=principals_dir)
    probe["digests"] = {"/krl": "ab" * 32}
    wanted = dict(certificates=[cert], user_ca_keys=[USER_CA], user_ca_keys_file=user_ca_file,
                  authorized_principals=principals, krl_master={"sha256": "ab" * 32}, revoked_keys="/krl",
                  config_dest=config, config_text="LogLevel VERBOSE\n")
    yield probe, wanted
    os.unlink(cert["path"])


@pytest.mark.skipif(os.geteuid() != 0, reason="the role wants root:root files")
def test_nothing_differs_where_sshd_trust_installed_everything(installed):
    probe, wanted = installed
    assert server_plan.server_differs(probe, **wanted) == []


@pytest.mark.parametrize("change, differs", [
    (lambda probe, wanted: wanted["krl_master"].update(sha256="cd" * 32), ["krl"]),
    (lambda probe, wanted: wanted.update(krl_master={}), []),
    (lambda probe, wanted: (wanted.update(krl_master={}), probe["digests"].update({"/krl": None})), ["krl_missing"]),
    (lambda probe, wanted: wanted.update(config_text="LogLevel INFO\n"), ["sshd_config"]),
    (lambda probe, wanted: probe["files"][wanted["config_dest"]].update(mode="0600"), ["sshd_config"]),
    (lambda probe, wanted: probe["files"].update({wanted["config_dest"]: None}), ["sshd_config"]),
    (lambda probe, wanted: probe.update(service={"active": True, "enabled": False}), ["service"]),
    (lambda probe, wanted: probe.update(service=None), ["service"]),
    (lambda probe, wanted: probe.update(not_loaded=["/etc/ssh/sshd_config.d/00-fleetca.conf"]), ["reload"]),
    (lambda probe, wanted: wanted["certificates"][0].update(certificate="ssh-ed25519-cert-v01@openssh.com BBBB"),
     ["trust_files"]),
    (lambda probe, wanted: probe["host_keys"]["ed25519"]["certificate_file"].update(uid=1000), ["trust_files"]),
    (lambda probe, wanted: probe["host_keys"]["ed25519"].update(certificate_file=None), ["trust_files"]),
    (lambda probe, wanted: wanted.update(user_ca_keys=[USER_CA, RSA_USER_CA]), ["trust_files"]),
    (lambda probe, wanted: probe["files"][wanted["user_ca_keys_file"]].update(gid=4), ["trust_files"]),
    (lambda probe, wanted: wanted["authorized_principals"].update(deploy=["ci"]), ["trust_files"]),
    (lambda probe, wanted: wanted["authorized_principals"].update(deploy=[" ci ", "release"]), []),
    (lambda probe, wanted: wanted["authorized_principals"].pop("nobody"), ["trust_files"]),  # a stale file
    (lambda probe, wanted: probe["principals_dir"].update(mode="0700"), ["trust_files"]),
    (lambda probe, wanted: (probe.update(principals_dir=None, principals_files={})), ["trust_files"]),
])
@pytest.mark.skipif(os.geteuid() != 0, reason="the role wants root:root files")
def test_what_differs(installed, change, differs):
    probe, wanted = installed
    change(probe, wanted)
    assert server_plan.server_differs(probe, **wanted) == differs


@pytest.mark.skipif(os.geteuid() != 0, reason="the role wants root:root files")
def test_without_principals_the_directory_is_not_needed(installed):
    probe, wanted = installed
    probe.update(principals_dir=None, principals_files={})
    wanted.update(authorized_principals={})
    assert server_plan.server_differs(probe, **wanted) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="the role wants root:root files")
def test_several_differences_are_sorted(installed):
    probe, wanted = installed
    probe.update(service=None)
    wanted.update(config_text="", krl_master={"sha256": "0" * 64})
    assert server_plan.server_differs(probe, **wanted) == ["krl", "service", "sshd_config"]


def test_probed_file_differs_reads_what_sshd_probe_reports(tmp_path):
    path = str(tmp_path / "f")
    with open(path, "w") as handle:
        handle.write("a\n")
    os.chmod(path, 0o644)
    state = dict(sshd_probe.file_state(path), uid=0, gid=0)
    assert not server_plan.probed_file_differs(state, b"a\n")
    assert server_plan.probed_file_differs(state, b"a")
    assert server_plan.probed_file_differs(dict(state, mode="0664"), b"a\n")
    assert server_plan.probed_file_differs(None, b"a\n")
    assert server_plan.probed_file_differs(sshd_probe.file_state(str(tmp_path)), b"")  # a directory


# --- probe_problems ------------------------------------------------------------------------

ANSWERED = {"query": dict((name, ["x"]) for name in server_plan.QUERIES), "options": ["loglevel"], "errors": [],
            "ssh_version": "OpenSSH_9.2p1", "effective": ["loglevel VERBOSE", "permitrootlogin without-password"]}
CONFIG = {"options": [{"name": "LogLevel", "args": ["VERBOSE"]}],
          "expected": ["loglevel VERBOSE", "permitrootlogin without-password|prohibit-password"]}


def probe_problems(probe=None, config=None, config_differs=False, check_mode=False):
    return server_plan.probe_problems(ANSWERED if probe is None else probe, "web1", config or CONFIG,
                                      config_differs, check_mode, "/etc/ssh/sshd_config.d", "/etc/ssh/sshd_config")


def test_a_probe_that_answered_and_matches_has_no_problem():
    assert probe_problems() == []


def test_an_unanswered_query_or_a_failing_sshd_stops_the_role():
    unanswered = dict(ANSWERED, query={"kex": ["x"]}, errors=["ssh -Q cipher: exit 255"])
    assert probe_problems(unanswered) == [
        "Could not ask the installed OpenSSH on web1 what it supports: ssh -Q cipher: exit 255"]
    no_options = dict(ANSWERED, options=[], errors=["sshd -T: exit 1"])
    assert probe_problems(no_options)[0].startswith("Could not ask the installed OpenSSH on web1")
    assert probe_problems(no_options, check_mode=True) == []  # in check mode sshd may lack its privsep dir


def test_an_option_left_without_a_value_is_named():
    config = dict(CONFIG, options=[{"name": "Ciphers", "args": [""]}, {"name": "MACs", "args": [""]}])
    assert probe_problems(config=config) == [
        "Ciphers, MACs: none of the preferred values is supported by the installed OpenSSH on web1 (OpenSSH_9.2p1)."]


def test_a_live_override_is_caught_only_where_the_config_stays():
    overridden = dict(ANSWERED, effective=["loglevel INFO", "permitrootlogin yes"])
    assert probe_problems(overridden) == [
        "sshd -T on web1 does not show loglevel VERBOSE (sshd -T: loglevel INFO); "
        "permitrootlogin without-password|prohibit-password (sshd -T: permitrootlogin yes): an earlier drop-in "
        "in /etc/ssh/sshd_config.d or a line before the Include in /etc/ssh/sshd_config sets it first."]
    assert probe_problems(overridden, config_differs=True) == []


# --- pull sync of the signed KRL -----------------------------------------------------------

SIGNING_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBfJ1bcj0YA74w5sW1PVV/ji2xCVhaxXbTp+nUyAY4yW fleetca-krl"
URL = "https://ca.example.org/fleetca/revoked.krl"
PULL_INPUT = dict(krl_url=URL, krl_sync_interval="15min", krl_signing_public_key=SIGNING_KEY)


def test_ca_published_reads_the_krl_signing_key_and_the_own_one_wins():
    ca_vars = {"fleetca_ssh_krl_signing_public_key": SIGNING_KEY + "\n"}
    assert server_plan.ca_published(ca_vars)["krl_signing_public_key"] == SIGNING_KEY
    assert server_plan.ca_published(ca_vars, krl_signing_public_key=USER_CA)["krl_signing_public_key"] == USER_CA


def pull_problems(**changes):
    given = dict(PULL_INPUT)
    given.update(changes)
    return problems_with(**given)


def test_good_pull_input_has_no_problem():
    assert pull_problems() == []
    assert pull_problems(krl_url="http://10.0.0.1:8080/krl", krl_sync_interval=900) == []


@pytest.mark.parametrize("changes, named", [
    ({"krl_url": "ftp://ca/revoked.krl"}, 'fleetca_ssh_krl_url must be an http:// or https:// URL with a host, '
                                          'the published revoked.krl (for example https://ca.example.org/fleetca/'
                                          'revoked.krl); got "ftp://ca/revoked.krl".'),
    ({"krl_url": "/srv/revoked.krl"}, "fleetca_ssh_krl_url must be an http:// or https:// URL with a host"),
    ({"krl_url": "HTTPS://ca/revoked.krl"}, "fleetca_ssh_krl_url must be an http:// or https:// URL"),
    ({"krl_url": "https:///revoked.krl"}, "fleetca_ssh_krl_url must be an http:// or https:// URL with a host"),
    ({"krl_url": "https://ca/revoked.krl\nExecStart=/bin/sh"},
     "fleetca_ssh_krl_url must be a URL on one line, without spaces or quotes"),
    ({"krl_url": "https://ca/revoked krl"}, "fleetca_ssh_krl_url must be a URL on one line"),
    ({"krl_url": 'https://ca/"x'}, "fleetca_ssh_krl_url must be a URL on one line"),
    ({"krl_url": "https://ca/krl?v=1"}, "fleetca_ssh_krl_url must be a URL without query or fragment"),
    ({"krl_url": ["https://ca/krl"]}, "fleetca_ssh_krl_url must be a URL on one line"),
    ({"krl_sync_interval": ""}, 'fleetca_ssh_krl_sync_interval must be a systemd time span of at least 1s on one '
                                'line (for example 15min, 1h, 1h 30min; see systemd.time(7)); got "".'),
    ({"krl_sync_interval": "-5min"}, 'got "-5min"'),
    ({"krl_sync_interval": "15 mins"}, 'fleetca_ssh_krl_sync_interval must be a systemd time span'),
    ({"krl_sync_interval": "0"}, 'fleetca_ssh_krl_sync_interval must be a systemd time span of at least 1s'),
    ({"krl_sync_interval": "500ms"}, 'fleetca_ssh_krl_sync_interval must be a systemd time span of at least 1s'),
    ({"krl_sync_interval": "infinity"}, 'fleetca_ssh_krl_sync_interval must be a systemd time span'),
    ({"krl_sync_interval": "5min\nExecStart=/bin/sh"}, 'fleetca_ssh_krl_sync_interval must be a systemd time span'),
    ({"krl_signing_public_key": ""}, "fleetca_ssh_krl_url is set but the CA host ca published no KRL signing key "
                                     "(fleetca_ssh_krl_signing_public_key)"),
    ({"krl_signing_public_key": "ssh-ed25519 AAAA"}, "fleetca_ssh_krl_signing_public_key"),
    ({"krl_signing_public_key": SIGNING_KEY + "\nssh-ed25519 AAAA"},
     "fleetca_ssh_krl_signing_public_key must be a single line"),
])
def test_each_pull_problem_is_named(changes, named):
    problems = pull_problems(**changes)
    assert len(problems) == 1 and named in problems[0], problems
    assert "  " not in problems[0] and problems[0].endswith(".")


def test_without_a_url_the_pull_variables_are_not_checked():
    for url in ("", None):
        assert problems_with(krl_url=url, krl_sync_interval="garbage", krl_signing_public_key="") == []


def test_check_mode_on_a_new_fleet_needs_no_signing_key_yet():
    assert pull_problems(krl_signing_public_key="", check_mode=True) == []


# systemd-analyze timespan is the reference: the role must accept exactly what systemd does
# (minus "infinity" and line breaks, which systemd takes but a timer interval in a unit file must not).
TIMESPANS = ["15min", "1h 30min", "1h30m", "90", "+5", ".5", "1.5h", "1.2 .3", "5 .5", "2 min 3", "5\t10", "5M",
             "5m", "3 weeks", "2y", "1 day", "10us", "10\u00b5s", "10\u03bcs", "250ms", "0",
             "", " ", "-5", "+.5", ".", "5.", "1.5.", "5x", "5 mins", "5mins", "1.2.3", "1e3", "abc", "1h -1s",
             "1 d a y", "5 ."]


@pytest.mark.parametrize("text", TIMESPANS)
def test_timespans_are_read_as_systemd_reads_them(text):
    analyzed = subprocess.run(["systemd-analyze", "timespan", text], capture_output=True, text=True, check=False)
    seconds = server_plan.timespan_seconds(text)
    if analyzed.returncode != 0:
        assert seconds is None, analyzed.stderr
    else:
        micro = [line for line in analyzed.stdout.splitlines() if line.strip().startswith("\u03bcs:")]
        assert seconds is not None and round(seconds * 1e6) == int(micro[0].split(":")[1]), analyzed.stdout


@pytest.mark.parametrize("text", ["infinity", "5\n10"])
def test_what_systemd_takes_but_no_interval_may_be(text):
    assert subprocess.run(["systemd-analyze", "timespan", text], capture_output=True, check=False).returncode == 0
    assert server_plan.timespan_seconds(text) is None


PATHS = {"program": "/usr/local/libexec/fleetca-krl-sync", "allowed_signers": "/etc/ssh/fleetca_krl_allowed_signers",
         "service": "/etc/systemd/system/fleetca-krl-sync.service",
         "timer": "/etc/systemd/system/fleetca-krl-sync.timer"}
PROGRAM = "print('the program')\n"


@pytest.fixture
def sync_paths(tmp_path):
    return dict((name, str(tmp_path / name.replace("_", "-"))) for name in PATHS)


def sync_probe(paths, timer=None):
    return {"python": "/usr/bin/python3", "units": {server_plan.KRL_SYNC_TIMER: timer},
            "files": dict((path, sshd_probe.file_state(path)) for path in paths.values())}


def sync_plan(paths, timer=None, url=URL, check_mode=False, **changes):
    given = dict(url=url, interval="15min", signing_public_key=SIGNING_KEY, revoked_keys="/etc/ssh/fleetca_revoked.krl",
                 program=PROGRAM, paths=paths, check_mode=check_mode)
    given.update(changes)
    return server_plan.krl_sync_plan(sync_probe(paths, timer), **given)


def install(plan):
    """What the role's copy tasks do with the plan: each file written with its mode, root:root."""
    for item in plan["write"]:
        with open(item["path"], "w") as handle:
            handle.write(item["content"])
        os.chmod(item["path"], int(item["mode"], 8))
        os.chown(item["path"], 0, 0)


RUNNING = {"active": True, "enabled": True}


def test_a_new_pull_sync_writes_everything_and_starts_the_timer(sync_paths):
    plan = sync_plan(sync_paths)
    assert [item["path"] for item in plan["write"]] == [sync_paths[name] for name in PATHS]
    assert [item["mode"] for item in plan["write"]] == ["0755", "0644", "0644", "0644"]
    assert plan["write"][0]["content"] == PROGRAM
    assert plan["directories"] == [os.path.dirname(sync_paths["program"])]
    assert plan["remove"] == [] and not plan["stop"]
    assert plan["daemon_reload"] and plan["state"] == "started" and plan["differs"]


@pytest.mark.skipif(os.geteuid() != 0, reason="the role wants root:root files")
def test_an_installed_pull_sync_is_left_alone(sync_paths):
    install(sync_plan(sync_paths))
    plan = sync_plan(sync_paths, timer=RUNNING)
    assert plan == {"directories": [], "write": [], "remove": [], "stop": False, "daemon_reload": False,
                    "state": None, "differs": False}
    # A timer stopped or disabled since (by hand) is started again, with no reload.
    plan = sync_plan(sync_paths, timer={"active": False, "enabled": True})
    assert plan["write"] == [] and plan["state"] == "started" and not plan["daemon_reload"]


@pytest.mark.skipif(os.geteuid() != 0, reason="the role wants root:root files")
@pytest.mark.parametrize("changes, rewritten, state", [
    ({"url": "https://other.example.org/revoked.krl"}, ["service"], "restarted"),
    ({"interval": "5min"}, ["timer"], "restarted"),
    ({"revoked_keys": "/etc/ssh/other.krl"}, ["service"], "restarted"),
    ({"signing_public_key": USER_CA}, ["allowed_signers"], None),
    ({"program": PROGRAM + "# new\n"}, ["program"], None),
])
def test_a_change_rewrites_its_file_and_restarts_the_timer_only_for_a_unit(sync_paths, changes, rewritten, state):
    install(sync_plan(sync_paths))
    plan = sync_plan(sync_paths, timer=RUNNING, **changes)
    assert [item["path"] for item in plan["write"]] == [sync_paths[name] for name in rewritten]
    assert plan["directories"] == ([os.path.dirname(sync_paths["program"])] if rewritten == ["program"] else [])
    assert plan["state"] == state and plan["daemon_reload"] == (state is not None) and plan["differs"]


@pytest.mark.skipif(os.geteuid() != 0, reason="the role wants root:root files")
def test_a_file_with_another_mode_is_rewritten(sync_paths):
    install(sync_plan(sync_paths))
    os.chmod(sync_paths["program"], 0o644)
    assert [item["path"] for item in sync_plan(sync_paths, timer=RUNNING)["write"]] == [sync_paths["program"]]


@pytest.mark.skipif(os.geteuid() != 0, reason="the role wants root:root files")
@pytest.mark.parametrize("url", ["", None])
def test_without_a_url_what_was_installed_is_removed_after_the_timer_stops(sync_paths, url):
    install(sync_plan(sync_paths))
    plan = sync_plan(sync_paths, timer=RUNNING, url=url)
    assert plan["remove"] == [sync_paths[name] for name in PATHS] and plan["write"] == []
    assert plan["stop"] and plan["daemon_reload"] and plan["state"] is None and plan["differs"]
    os.unlink(sync_paths["timer"])
    plan = sync_plan(sync_paths, url=url)  # the timer's unit is gone: nothing to stop
    assert not plan["stop"] and plan["remove"] == [sync_paths[name] for name in ("program", "allowed_signers",
                                                                                 "service")]


def test_without_a_url_and_nothing_installed_nothing_differs(sync_paths):
    assert not sync_plan(sync_paths, url="")["differs"]


def test_check_mode_on_a_new_server_writes_but_does_not_ask_a_timer_that_is_not_there(sync_paths):
    plan = sync_plan(sync_paths, check_mode=True, signing_public_key="")
    assert [item["path"] for item in plan["write"]] == [sync_paths[name] for name in ("program", "service", "timer")]
    assert plan["state"] is None and plan["daemon_reload"] and plan["differs"]


def test_the_units_run_the_program_on_the_installed_krl(sync_paths):
    plan = sync_plan(sync_paths, interval=" 1h 30min ")
    written = dict((item["path"], item["content"]) for item in plan["write"])
    service, timer = written[sync_paths["service"]], written[sync_paths["timer"]]
    assert ('\nExecStart="/usr/bin/python3" "%s" "--url" "%s" "--dest" "/etc/ssh/fleetca_revoked.krl" '
            '"--allowed-signers" "%s"\n' % (sync_paths["program"], URL, sync_paths["allowed_signers"])) in service
    assert "\nType=oneshot\n" in service and '\nReadWritePaths="/etc/ssh"\n' in service
    assert "\nOnUnitActiveSec=1h 30min\n" in timer and "\nWantedBy=timers.target\n" in timer
    assert written[sync_paths["allowed_signers"]].endswith(
        '\nfleetca-krl namespaces="fleetca-krl" %s\n' % " ".join(SIGNING_KEY.split()[:2]))


@pytest.mark.parametrize("python, named", [("/usr/bin/python3.11", "/usr/bin/python3"),
                                           ("/usr/bin/python3", "/usr/bin/python3"),
                                           ("/opt/venv/bin/python", "/opt/venv/bin/python")])
def test_the_service_names_the_python_that_outlives_an_upgrade(python, named):
    service = server_plan.krl_sync_service(URL, "/krl", python, PATHS)
    assert '\nExecStart="%s" "%s"' % (named, PATHS["program"]) in service


def test_systemd_specifiers_and_variables_in_a_url_stay_literal():
    assert server_plan.systemd_word("https://ca/a%41$HOME/krl") == '"https://ca/a%%41$$HOME/krl"'
    assert server_plan.systemd_word('a"b\\c') == '"a\\"b\\\\c"'


def test_the_allowed_signers_line_verifies_what_the_krl_signing_key_signed(tmp_path):
    """ssh-keygen -Y verify accepts the KRL signing key's sshsig signature through our line, and
    only in the KRL's namespace."""
    key = tmp_path / "krl_signing"
    public_key = ssh_keygen(key)
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(server_plan.allowed_signers_content(public_key + " a comment"))
    data = tmp_path / "revoked.krl"
    data.write_bytes(b"SSHKRL\n\0 any bytes")
    for namespace, verifies in (("fleetca-krl", True), ("file", False)):
        subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", str(key), "-n", namespace, str(data)], check=True)
        with open(str(data), "rb") as stdin:
            status = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(allowed), "-I", "fleetca-krl",
                                     "-n", namespace, "-s", str(data) + ".sig"], stdin=stdin,
                                    capture_output=True, check=False).returncode
        assert (status == 0) == verifies
        os.unlink(str(data) + ".sig")
