# SPDX-License-Identifier: GPL-3.0-or-later
"""plugin_utils/remote_python.py: the payload is self-contained (it runs in a Python that cannot
import the collection) and answers exactly what the module_utils code answers in-process."""

import json
import subprocess
import sys

from ansible_collections.fleetca.ssh.plugins.action import ca_key as ca_key_action
from ansible_collections.fleetca.ssh.plugins.action import ca_rotation as ca_rotation_action
from ansible_collections.fleetca.ssh.plugins.action import cert as cert_action
from ansible_collections.fleetca.ssh.plugins.action import krl as krl_action
from ansible_collections.fleetca.ssh.plugins.action import krl_info as krl_info_action
from ansible_collections.fleetca.ssh.plugins.action import krl_publish as krl_publish_action
from ansible_collections.fleetca.ssh.plugins.module_utils import ca_key_pair, certs, krl, krl_info, krl_publication, krl_request
from ansible_collections.fleetca.ssh.plugins.module_utils import python_info, rotation, signers, sshd_config, sshd_probe
from ansible_collections.fleetca.ssh.plugins.plugin_utils import remote_python


def run_isolated(modules, args, tmp_path, paths=(), env=None):
    """`python -I -c PAYLOAD ARGS` from an empty directory: no PYTHONPATH, no collection."""
    result = subprocess.run([sys.executable, "-I", "-c", remote_python.payload_source(modules, paths), json.dumps(args)],
                            capture_output=True, text=True, check=False, cwd=str(tmp_path),
                            env=dict({"PATH": "/usr/bin:/bin"}, **(env or {})))
    assert result.returncode == 0, result.stderr
    return remote_python.parse_payload_output("sudo: a banner line\n" + result.stdout)


def run_isolated_on_stdin(modules, args, tmp_path, paths=()):
    """The same, the payload and its arguments on stdin, as an ON_STDIN action sends them."""
    sent = "%s\n%s\n" % (json.dumps(remote_python.payload_source(modules, paths)), json.dumps(args))
    result = subprocess.run([sys.executable, "-I", "-c", remote_python.STDIN_LOADER], input=sent, capture_output=True,
                            text=True, check=False, cwd=str(tmp_path), env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    return remote_python.parse_payload_output(result.stdout)


def test_the_cert_payload_signs_a_batch_sent_on_stdin(tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "ca")], check=True)
    lines = [signers.public_key_line(signers.generate_private_key("ed25519")) for dummy in range(1200)]
    params = dict((name, spec.get("default")) for name, spec in cert_action.ActionModule.ARGUMENT_SPEC.items())
    params.update(ca_key=str(tmp_path / "ca"), type="host", valid_for="+52w", check_mode=False, diff=False,
                  requests=[{"public_key": line, "principals": ["h%d" % i]} for i, line in enumerate(lines)])
    assert len(json.dumps(params)) > 128 * 1024  # more than one command line argument holds
    remote = run_isolated_on_stdin(cert_action.ActionModule.MODULES, params, tmp_path, paths=["ca_key"])
    assert remote["changed"] is True and len(remote["certificates"]) == 1200
    last = certs.parse_certificate("certificate", remote["certificates"][-1]["certificate"])
    assert (last.principals, last.serial, last.cert_type) == (["h1199"], 1200, certs.HOST_CERT)
    assert remote["invocation"]["module_args"]["requests"][-1] == "... and 1100 more"
    assert (tmp_path / "issued.db").exists()
    # check mode signs nothing; an error is the module's failure, named
    checked = dict(params, check_mode=True, diff=True, store=str(tmp_path / "none.db"))
    again = run_isolated_on_stdin(cert_action.ActionModule.MODULES, checked, tmp_path)
    assert again["changed"] is True and "certificate" not in again["certificates"][0]
    assert "(to be signed: no certificate yet)" in again["diff"]["after"] and not (tmp_path / "none.db").exists()
    bad = dict(params, requests=[{"public_key": lines[0]}], type="user", store=str(tmp_path / "bad.db"))
    assert run_isolated_on_stdin(cert_action.ActionModule.MODULES, bad, tmp_path) == dict(
        failed=True, changed=False, msg="requests[0].principals is empty: set principals, or allow_any_principal: "
        "true to sign a certificate valid for any principal (OpenSSH 10.3+ matches none)")
    assert not (tmp_path / "bad.db").exists()


def test_the_probe_payload_runs_without_the_collection(tmp_path):

    (tmp_path / "d").mkdir()
    (tmp_path / "sshd_config").write_text("Include %s/d/*.conf\n" % tmp_path)
    args = {"host_key_types": ["ed25519"], "key_dir": str(tmp_path), "main_config": str(tmp_path / "sshd_config"),
            "dropin": str(tmp_path / "d" / "00-fleetca.conf"), "sshd": None, "files": [], "digest_files": [],
            "principals_dir": None, "service": None, "units": []}
    remote = run_isolated((sshd_config, sshd_probe), args, tmp_path)
    local = sshd_probe.payload_main(args)
    for volatile in ("probed_at", "python"):
        remote.pop(volatile), local.pop(volatile)
    assert remote == local and remote["includes_dropin_dir"] is True


def test_the_libraries_payload(tmp_path):
    remote = run_isolated((python_info,), {"libraries": ["json", "fleetca_none"]}, tmp_path)
    assert remote["libraries"] == {"json": python_info.library_version("json"), "fleetca_none": None}


def test_the_krl_payload_carries_its_module_utils(tmp_path):
    path = tmp_path / "revoked.krl"
    path.write_bytes(krl.Krl(version=3, generated=1800000000).to_bytes())
    args = {"path": str(path), "keys": [], "entries": True, "content": True}
    remote = run_isolated(krl_info_action.ActionModule.MODULES, args, tmp_path)
    assert remote == krl_info.payload_main(args) and remote["krl_version"] == 3


def test_the_rotation_status_payload_carries_its_module_utils(tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "user_ca")], check=True)
    args = {"path": str(tmp_path / "user_ca"), "extra_keys": []}
    remote = run_isolated(ca_rotation_action.ActionModule.MODULES, args, tmp_path)
    assert remote == rotation.payload_main(args) and remote["phase"] == rotation.IDLE


def test_paths_are_expanded_on_the_host_as_a_modules_path_options_are(tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "user_ca")], check=True)
    args = {"path": "$CA_DIR/user_ca", "extra_keys": []}
    remote = run_isolated(ca_rotation_action.ActionModule.MODULES, args, tmp_path, paths=["path"],
                          env={"CA_DIR": str(tmp_path)})
    assert remote == rotation.payload_main(dict(args, path=str(tmp_path / "user_ca")))
    home = run_isolated(ca_rotation_action.ActionModule.MODULES, dict(args, path="~/user_ca"), tmp_path,
                        paths=["path"], env={"HOME": str(tmp_path)})
    assert home["phase"] == rotation.IDLE
    (tmp_path / "d").mkdir()
    (tmp_path / "sshd_config").write_text("")
    probe_args = {"host_key_types": [], "key_dir": "~", "main_config": "~/sshd_config", "dropin": "~/d/x.conf",
                  "sshd": None, "files": ["~/sshd_config", "$CA_DIR/none"], "digest_files": [], "principals_dir": None,
                  "service": None, "units": []}
    probe = run_isolated((sshd_config, sshd_probe), probe_args, tmp_path, paths=["key_dir", "main_config", "files"],
                         env={"HOME": str(tmp_path), "CA_DIR": str(tmp_path)})
    assert sorted(probe["files"]) == sorted([str(tmp_path / "sshd_config"), str(tmp_path / "none")])


def test_the_fast_path_payloads_carry_their_module_utils(tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "ca")], check=True)
    (tmp_path / "revoked.krl").write_bytes(krl.Krl(version=2, generated=1800000000).to_bytes())
    key_args = {"path": str(tmp_path / "ca"), "type": "ed25519", "comment": "ca", "force": False}
    krl_args = {"path": str(tmp_path / "revoked.krl"), "state": "present", "comment": None, "krl_version": None}
    publish_args = {"path": str(tmp_path / "revoked.krl"), "signing_key": str(tmp_path / "ca"), "publish_dir": None}
    with open(krl_publication.signature_path(publish_args["path"]), "wb") as handle:
        signer = krl_publication.load_signer(publish_args["signing_key"], None)
        handle.write(krl_publication.plan_publication(publish_args["path"], signer, None)[2][0][1])
    for action, payload_main, args in [(ca_key_action, ca_key_pair.payload_main, key_args),
                                       (krl_action, krl_request.payload_main, krl_args),
                                       (krl_publish_action, krl_publication.payload_main, publish_args)]:
        remote = run_isolated(action.ActionModule.MODULES, args, tmp_path)
        assert remote == payload_main(args) and remote["changed"] is False, action


def test_no_marked_line_is_no_result():
    assert remote_python.parse_payload_output("Traceback ...\n") is None
