# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The master KRL's signature and its published copies: what must be written, decided in one place.

The signature (`KRL.sig`, sshsig namespace fleetca-krl) is made by a key of its own, never a CA
key: a server that pulls the KRL trusts exactly that key for exactly that file. The published
directory holds `revoked.krl` and `revoked.krl.sig`, for any static web server to serve.
The krl_publish module writes under the KRL's lock; its action answers a publication that is
current in one round trip (`payload_main`), with the same plan.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os

from ansible_collections.fleetca.ssh.plugins.module_utils import signers, sshsig
from ansible_collections.fleetca.ssh.plugins.module_utils.files import read_if_exists
from ansible_collections.fleetca.ssh.plugins.module_utils.krl import parse_krl
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError, WireError

PUBLISHED_KRL = "revoked.krl"
PUBLISHED_SIGNATURE = PUBLISHED_KRL + ".sig"

# The module's own options; with the lock's (locks.ARGUMENT_SPEC), its whole argument spec.
OPTIONS = dict(
    path=dict(type="path", required=True),
    signing_key=dict(type="path", required=True),
    signing_key_passphrase=dict(type="str", no_log=True),
    publish_dir=dict(type="path"),
)


def signature_path(krl_path):
    return krl_path + ".sig"


def read_master(path):
    """The master KRL's bytes and version; a missing or unparsable KRL is an error naming `path`."""
    data = read_if_exists(path)
    if data is None:
        raise FleetcaError("path: %s does not exist (create it with fleetca.ssh.krl first)" % path)
    try:
        return data, parse_krl(data).version
    except WireError as exc:
        raise FleetcaError("path: %s is not a KRL: %s" % (path, exc))


def check_publish_dir(publish_dir):
    if publish_dir is not None and not os.path.isdir(publish_dir):
        raise FleetcaError("publish_dir: %s is not an existing directory" % publish_dir)


def good_signature(path, data, signer_key):
    """KRL.sig's text when it already signs these bytes with this key (kept: RSA and ECDSA
    signatures differ at each signing), else None."""
    raw = read_if_exists(signature_path(path))
    if raw is None:
        return None
    try:
        text = raw.decode("ascii")
        sshsig.verify(text, data, sshsig.KRL_NAMESPACE, [signer_key])
    except (FleetcaError, UnicodeDecodeError):
        return None
    return text


def plan(path, data, signature_text, publish_dir):
    """The files to write, as (path, bytes), where their content differs: KRL.sig, and the
    published KRL and signature when `publish_dir` is given."""
    wanted = [(signature_path(path), signature_text.encode("ascii"))]
    if publish_dir is not None:
        wanted += [(os.path.join(publish_dir, PUBLISHED_KRL), data),
                   (os.path.join(publish_dir, PUBLISHED_SIGNATURE), signature_text.encode("ascii"))]
    return [(target, content) for target, content in wanted if read_if_exists(target) != content]


def describe(data, version):
    return "KRL version %d, sha256 %s" % (version, hashlib.sha256(data).hexdigest())


def load_signer(signing_key, passphrase):
    return signers.KeySigner(signers.load_private_key("signing_key", signing_key, "signing_key_passphrase", passphrase))


def plan_publication(path, signer, publish_dir):
    """(the master KRL's bytes, its version, the files to write as plan() lists them); the
    signature is made anew only where KRL.sig does not already sign these bytes."""
    data, version = read_master(path)
    text = good_signature(path, data, signer.public_key) or sshsig.sign(signer, data, sshsig.KRL_NAMESPACE)
    return data, version, plan(path, data, text, publish_dir)


def result_of(path, data, version, writes, signer):
    return dict(changed=bool(writes), written=[target for target, dummy in writes],
                signature_path=signature_path(path), krl_version=version, sha256=hashlib.sha256(data).hexdigest(),
                signer=signer.public_key.to_line(), signer_fingerprint=signer.public_key.fingerprint)


def payload_main(params):
    """The module's result where the signature and the published copies are current, else {}
    (the module runs: it signs, writes, or names the error). No passphrase comes here: the
    action sends an encrypted signing key's call to the module."""
    path = params["path"]
    try:
        check_publish_dir(params["publish_dir"])
        signer = load_signer(params["signing_key"], None)
        data, version = read_master(path)
    except FleetcaError:
        return {}
    text = good_signature(path, data, signer.public_key)
    if text is None or plan(path, data, text, params["publish_dir"]):
        return {}
    return result_of(path, data, version, [], signer)
