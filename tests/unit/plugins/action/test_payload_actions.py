# SPDX-License-Identifier: GPL-3.0-or-later
"""The action plugins validate the options their module's DOCUMENTATION declares (an *_info
module file holds documentation only; a fast-path action checks with the module's own argument
spec): same names, defaults and element types; every payload fits in one command line argument."""

import re
import shlex

import pytest
import yaml

from ansible_collections.fleetca.ssh.plugins.action import ca_key as ca_key_action
from ansible_collections.fleetca.ssh.plugins.action import ca_rotation as ca_rotation_action
from ansible_collections.fleetca.ssh.plugins.action import cert as cert_action
from ansible_collections.fleetca.ssh.plugins.action import controller_file as controller_file_action
from ansible_collections.fleetca.ssh.plugins.action import krl as krl_action
from ansible_collections.fleetca.ssh.plugins.action import krl_info as krl_info_action
from ansible_collections.fleetca.ssh.plugins.action import krl_publish as krl_publish_action
from ansible_collections.fleetca.ssh.plugins.action import python_info as python_info_action
from ansible_collections.fleetca.ssh.plugins.action import sshd_info as sshd_info_action
from ansible_collections.fleetca.ssh.plugins.module_utils import cert_requests, locks
from ansible_collections.fleetca.ssh.plugins.modules import ca_key, ca_rotation, controller_file, krl, krl_info, krl_publish
from ansible_collections.fleetca.ssh.plugins.modules import python_info, sshd_info
from ansible_collections.fleetca.ssh.plugins.plugin_utils import remote_python


@pytest.mark.parametrize("module, action", [(sshd_info, sshd_info_action), (python_info, python_info_action),
                                            (krl_info, krl_info_action)])
def test_argument_spec_matches_the_documentation(module, action):
    documented = yaml.safe_load(module.DOCUMENTATION)["options"]
    spec = action.ActionModule.ARGUMENT_SPEC
    assert sorted(spec) == sorted(documented)
    for name, doc in documented.items():
        assert spec[name]["type"] == doc["type"], name
        assert spec[name].get("default") == doc.get("default"), name
        assert spec[name].get("elements") == doc.get("elements"), name


def test_path_options_are_checked_as_str_on_the_controller():
    # "path" would expand ~ and $VARS on the controller: the payload expands them on the host
    spec = remote_python.controller_spec(sshd_info_action.ActionModule.ARGUMENT_SPEC, ["key_dir", "files", "service"])
    assert spec == {"key_dir": dict(type="str", default="/etc/ssh"), "files": dict(type="list", elements="str", default=[]),
                    "service": dict(type="str")}
    assert remote_python.path_options(sshd_info_action.ActionModule.ARGUMENT_SPEC, ["files", "service", "sshd"]) == [
        "files", "sshd"]


def test_controller_file_takes_the_documented_options_with_their_types():
    documented = yaml.safe_load(controller_file.DOCUMENTATION)["options"]
    spec = controller_file_action.ActionModule.ARGUMENT_SPEC
    # dest is on the controller: "path" expands ~ where the file is written
    assert spec == {name: dict(type=doc["type"], required=doc["required"]) for name, doc in documented.items()}


@pytest.mark.parametrize("module, action", [(ca_key, ca_key_action), (krl, krl_action), (krl_publish, krl_publish_action),
                                            (ca_rotation, ca_rotation_action)])
def test_a_fast_path_action_checks_the_modules_own_options(module, action):
    # the module's options as documented (its own, and the lock fragment's), its spec shared
    documented = yaml.safe_load(module.DOCUMENTATION)["options"]
    spec = action.ActionModule.ARGUMENT_SPEC
    assert sorted(spec) == sorted(list(documented) + list(locks.ARGUMENT_SPEC))
    for name, doc in documented.items():
        assert spec[name]["type"] == doc["type"] and spec[name].get("default") == doc.get("default"), name
    assert set(action.ActionModule.FAST_PATH_OPTIONS) <= set(spec)
    # a passphrase is never sent: the payload's arguments are a command line
    sent = action.ActionModule.payload_args(None, dict((name, None) for name in action.ActionModule.FAST_PATH_OPTIONS))
    assert not [name for name in sent if spec[name].get("no_log")]


@pytest.mark.parametrize("action", [sshd_info_action, python_info_action, krl_info_action, ca_rotation_action,
                                    ca_key_action, krl_action, krl_publish_action])
def test_the_payload_fits_in_one_command_line_argument(action):
    # Linux refuses one execve argument over 128 KiB (MAX_ARG_STRLEN); the command reaches the
    # host's shell as one, quoted again by become: keep room for that and for the arguments.
    command = shlex.quote(remote_python.payload_source(action.ActionModule.MODULES))
    assert len(shlex.quote("sudo -H -S -n -u root /bin/sh -c " + command)) < 100 * 1024


def test_the_cert_payload_comes_on_stdin_with_the_modules_own_options():
    assert cert_action.ActionModule.ON_STDIN
    assert cert_action.ActionModule.ARGUMENT_SPEC == dict(cert_requests.SIGNER_SPEC, **cert_requests.CERT_SPEC)
    assert "import" in remote_python.STDIN_LOADER and len(remote_python.STDIN_LOADER) < 100


@pytest.mark.parametrize("action", [sshd_info_action, python_info_action, krl_info_action, ca_rotation_action,
                                    ca_key_action, krl_action, krl_publish_action, cert_action])
def test_a_payload_needs_nothing_of_ansible_on_the_host(action):
    # the host has the payload's module_utils sources and Python's library, not Ansible
    for module in action.ActionModule.MODULES:
        with open(module.__file__) as handle:
            assert not re.search(r"^\s*(from|import) ansible[. ]", handle.read(), re.M), module.__name__
