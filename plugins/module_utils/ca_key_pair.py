# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A CA key pair on disk (fleetca.ssh.ca_key): what a call would do at `path` and the files it
writes. The module writes under the key's lock; the ca_key action answers an existing pair in
one round trip (`payload_main`), with the same plan.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.fleetca.ssh.plugins.module_utils import files, keys, signers
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

# The module's own options; with the lock's (locks.ARGUMENT_SPEC), its whole argument spec.
OPTIONS = dict(
    path=dict(type="path", required=True),
    type=dict(type="str", choices=["ed25519", "ecdsa", "rsa"], default="ed25519"),
    size=dict(type="int"),
    passphrase=dict(type="str", no_log=True),
    comment=dict(type="str", default="fleetca"),
    force=dict(type="bool", default=False),
)

TYPE_NAMES = {"ed25519": ("ssh-ed25519",), "rsa": ("ssh-rsa",),
              "ecdsa": ("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521")}


def existing_public_key(params):
    """The public key of the key at `path`: from `.pub`, else from the private key."""
    pub_path = params["path"] + ".pub"
    if os.path.exists(pub_path):
        return keys.load_public_key_option("path", pub_path), False
    private_key = signers.load_private_key("path", params["path"], "passphrase", params["passphrase"])
    return keys.parse_public_key("path", signers.public_key_line(private_key)), True


def plan_key(params):
    """What to do at `path`, and whether it writes: ('create', None), ('rebuild_pub', key) or ('keep', key)."""
    files.check_writable_path("path", params["path"])
    if not os.path.exists(params["path"]) or params["force"]:
        return ("create", None), True
    public_key, pub_missing = existing_public_key(params)
    if public_key.key_type not in TYPE_NAMES[params["type"]]:
        raise FleetcaError(
            "type: the key at %s is %s, not %s; set force: true to replace it (this "
            "invalidates every certificate it signed)"
            % (params["path"], public_key.key_type, params["type"]))
    return ("rebuild_pub" if pub_missing else "keep", public_key), pub_missing


def write_pair(params):
    private_key = signers.generate_private_key(params["type"], params["size"])
    public_key = keys.parse_public_key("path", signers.public_key_line(private_key))
    write_public(params, public_key)  # the .pub first: a private key never lacks its .pub
    files.write_atomic(params["path"], signers.private_key_bytes(private_key, params["passphrase"]), 0o600)
    return public_key


def write_public(params, public_key):
    line = public_key.to_line(params["comment"]) + "\n"
    files.write_atomic(params["path"] + ".pub", line.encode("utf-8"), 0o644)


def result_of(public_key, comment, changed):
    return dict(changed=changed, public_key=public_key.to_line(comment), fingerprint=public_key.fingerprint,
                key_type=public_key.key_type)


def payload_main(params):
    """The module's result where the pair is there and kept, else {} (the module runs: it
    creates, rebuilds the .pub or names what is wrong). No passphrase comes here: a kept pair
    is read from its .pub."""
    try:
        (action, public_key), dummy = plan_key(dict(params, passphrase=None))
    except FleetcaError:
        return {}
    return result_of(public_key, params["comment"], False) if action == "keep" else {}
