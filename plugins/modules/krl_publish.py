#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: krl_publish
short_description: Sign the master KRL and publish it for servers that pull it
version_added: 0.1.0
description:
  - Signs the KRL at O(path) as an OpenSSH C(sshsig) signature with namespace C(fleetca-krl),
    written to C(PATH.sig), in Python (no C(ssh-keygen) call). C(ssh-keygen -Y verify -n
    fleetca-krl -I fleetca-krl -f ALLOWED_SIGNERS -s PATH.sig < PATH) accepts it.
  - With O(publish_dir), keeps C(revoked.krl) and C(revoked.krl.sig) there, each replaced
    atomically, for any static web server to serve to the servers' pull sync
    (C(fleetca_ssh_krl_url) of role C(fleetca.ssh.server)).
  - Idempotent. A signature that already signs the KRL's bytes with O(signing_key) is kept
    (RSA and ECDSA signatures differ at each signing), and a published file is rewritten only
    where its bytes differ.
  - Holds the KRL's lock (C(PATH.lock), as M(fleetca.ssh.krl) does) while it reads the KRL and
    writes the signature and the published copies, so the signature always signs the KRL it is
    published with, even while other runs revoke.
  - New files get mode C(0644); an existing file keeps its owner, group, mode and SELinux context.
author:
  - fleetca.ssh contributors (@fleetca)
extends_documentation_fragment:
  - fleetca.ssh.fast_path_action
  - fleetca.ssh.lock
attributes:
  check_mode:
    support: full
    description: Reports the files that would be written and writes nothing.
  diff_mode:
    support: full
    description: The files that would be written, with the KRL's version and SHA-256.
options:
  path:
    description:
      - The master KRL. It must exist (M(fleetca.ssh.krl) creates it).
    type: path
    required: true
  signing_key:
    description:
      - The private key that signs, in OpenSSH format (M(fleetca.ssh.ca_key) makes one). Use a key
        of its own, never a CA key, since the servers trust it for the KRL only.
    type: path
    required: true
  signing_key_passphrase:
    description:
      - Passphrase of O(signing_key). Never logged.
    type: str
  publish_dir:
    description:
      - A directory, served by a web server, to keep C(revoked.krl) and C(revoked.krl.sig) in.
        It must exist. Omitted, nothing is published.
    type: path
notes:
  - A server that pulls downloads the KRL and then the signature; during the moment between the
    two replacements here it may get a pair that does not verify, keeps its installed KRL and
    succeeds at its next pull.
seealso:
  - module: fleetca.ssh.krl
  - name: PROTOCOL.sshsig
    description: The signature format.
    link: https://github.com/openssh/openssh-portable/blob/master/PROTOCOL.sshsig
"""

EXAMPLES = r"""
- name: Sign the master KRL and publish it under the web server's root
  fleetca.ssh.krl_publish:
    path: /etc/ssh/fleetca/revoked.krl
    signing_key: /etc/ssh/fleetca/krl_signing
    publish_dir: /var/www/fleetca
"""

RETURN = r"""
signature_path:
  description: Where the signature of the master KRL is.
  returned: always
  type: str
  sample: /etc/ssh/fleetca/revoked.krl.sig
written:
  description: The files written by this run (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/ssh/fleetca/revoked.krl.sig, /var/www/fleetca/revoked.krl, /var/www/fleetca/revoked.krl.sig]
krl_version:
  description: The version of the KRL that is signed.
  returned: always
  type: int
  sample: 7
sha256:
  description: SHA-256 of the signed KRL's bytes, in hex.
  returned: always
  type: str
  sample: 3c1c8e0d2f6c3a8c5c0c9d7f8b0e1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b
signer:
  description: The signing key's public key line, for the servers' allowed_signers file.
  returned: always
  type: str
  sample: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE8eYh3FDIyq0d7qrdkzmqvLDTbo4HMtAQz7Vn5ar0hR
signer_fingerprint:
  description: SHA256 fingerprint of the signing key, as C(ssh-keygen -l) prints it.
  returned: always
  type: str
  sample: SHA256:3V0jHuBkGzKK9hQ0fPLqnuW7DgS+Xo/d3ID5nZ9grRE
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.fleetca.ssh.plugins.module_utils import files, krl_publication, locks, signers
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

NEW_FILE_MODE = 0o644


def write_public_file(module, path, content):
    """Replace `path` atomically; an existing file keeps its owner, group, mode and context."""
    temp_path = files.write_temp(path, content, NEW_FILE_MODE)
    try:
        module.atomic_move(temp_path, path)
    finally:
        if os.path.exists(temp_path):
            os.unlink(temp_path)


def main():
    module = AnsibleModule(argument_spec=dict(krl_publication.OPTIONS, **locks.ARGUMENT_SPEC),
                           supports_check_mode=True)
    if not signers.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"))
    params = module.params
    path = params["path"]
    try:
        krl_publication.check_publish_dir(params["publish_dir"])
        signer = krl_publication.load_signer(params["signing_key"], params["signing_key_passphrase"])

        def plan():
            planned = krl_publication.plan_publication(path, signer, params["publish_dir"])
            return planned, bool(planned[2])

        def write(planned):
            for target, content in planned[2]:
                write_public_file(module, target, content)

        data, version, writes = locks.plan_and_write(module, path, plan, write)
    except FleetcaError as exc:
        module.fail_json(msg=str(exc))
    result = krl_publication.result_of(path, data, version, writes, signer)
    if module._diff:
        summary = krl_publication.describe(data, version)
        result["diff"] = [{"before_header": target, "after_header": target,
                           "before": "", "after": "%s\n" % summary} for target, dummy in writes]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
