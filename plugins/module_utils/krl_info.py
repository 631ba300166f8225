# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What fleetca.ssh.krl_info answers about a KRL file: its header, digest, entries and the
verdict on each queried key, from one read of the file.

Run on a host by the krl_info action (plugin_utils/remote_python.py) as a self-contained
`python -c` payload with the interpreter Ansible runs modules with: standard library only (the
KRL format, key and certificate parsing need no `cryptography`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

from ansible_collections.fleetca.ssh.plugins.module_utils.certs import format_time, parse_key_or_certificate
from ansible_collections.fleetca.ssh.plugins.module_utils.krl import describe_krl, load_krl_file
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

# The revoked entries, left out with entries=false.
ENTRY_FIELDS = ("certificates", "keys", "sha1_fingerprints", "sha256_fingerprints")


def read_krl_info(path, keys, entries=True, content=False):
    """The krl_info result for the KRL at `path` and the key or certificate lines `keys`.
    Raises FleetcaError naming the option at fault."""
    queried = [parse_key_or_certificate("keys[%d]" % index, line) for index, line in enumerate(keys)]
    loaded = load_krl_file("path", path)
    if loaded is None:
        raise FleetcaError("path: %s does not exist" % path)
    krl, digest, data = loaded
    result = describe_krl(krl)
    if not entries:
        for name in ENTRY_FIELDS:
            del result[name]
    if content:
        result["content"] = base64.b64encode(data).decode("ascii")
    result["generated"] = format_time(krl.generated)
    result["sha256"] = digest
    result["results"] = []
    for line, key in zip(keys, queried):
        reason = krl.check(key)
        result["results"].append(dict(key=line, revoked=reason is not None, reason=reason))
    return result


def payload_main(args):
    """read_krl_info on the host (`path` expanded there by the payload's bootstrap)."""
    try:
        return read_krl_info(args["path"], args["keys"], entries=args["entries"], content=args["content"])
    except FleetcaError as exc:
        return {"failed": True, "msg": str(exc)}
