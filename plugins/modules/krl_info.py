#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: krl_info
short_description: Read an OpenSSH key revocation list (KRL) and check keys against it
version_added: 0.1.0
description:
  - Parses the binary KRL at O(path) and returns its version, generation date, comment and
    every revoked entry by section.
  - For each of O(keys) (key or certificate lines), says whether the KRL revokes it and by which
    entry, with the judgement of C(ssh-keygen -Q) and sshd. A certificate is revoked by its
    serial or key id under its CA or any CA, by its own key being revoked, or by its CA key
    being revoked.
  - Needs only Python's standard library, so it runs on any managed host, for example to check
    the KRL that sshd reads there.
  - Runs in one connection round trip (a module call without pipelining takes five or six); its
    action plugin sends the code as one C(python -c) command to the Python Ansible runs modules
    with on that host, as M(fleetca.ssh.sshd_info) does.
  - A KRL that sshd could not load (truncated, corrupt, or with a serial bitmap larger than
    OpenSSH reads) fails the task with the problem and its byte offset.
author:
  - fleetca.ssh contributors (@fleetca)
extends_documentation_fragment:
  - fleetca.ssh.info_module
options:
  path:
    description:
      - The KRL file.
    type: path
    required: true
  keys:
    description:
      - Key or certificate lines (C(TYPE BASE64 [COMMENT])) to check against the KRL.
    type: list
    elements: str
    default: []
  entries:
    description:
      - Return the revoked entries (RV(certificates), RV(keys), RV(sha1_fingerprints),
        RV(sha256_fingerprints)). V(false) returns the header, the digest and the verdicts on
        O(keys) only, which keeps the result small for a KRL of many serials (a rollout reads
        the KRL of every server).
    type: bool
    default: true
  content:
    description:
      - Also return the file's bytes, base64-encoded, as RV(content) (as M(ansible.builtin.slurp)
        does), read in the same read as the digest and the verdicts, so that the three describe
        the same file even while another run replaces it.
    type: bool
    default: false
seealso:
  - module: fleetca.ssh.krl
"""

EXAMPLES = r"""
- name: Check that a certificate is revoked on every server
  fleetca.ssh.krl_info:
    path: /etc/ssh/fleetca_revoked.krl
    keys:
      - "{{ lookup('ansible.builtin.file', 'alice-cert.pub') }}"
  register: krl

- name: Fail unless it is
  ansible.builtin.assert:
    that: krl.results[0].revoked
    fail_msg: "{{ krl.results[0].key }} is not revoked"

- name: Compare the installed KRL's version with the master's
  ansible.builtin.debug:
    msg: "version {{ krl.krl_version }}, generated {{ krl.generated }}"
"""

RETURN = r"""
krl_version:
  description: The KRL's version number.
  returned: always
  type: int
  sample: 7
content:
  description: The file's bytes, base64-encoded.
  returned: when O(content=true)
  type: str
  sample: U1NIS1JMCgAAAAEAAAAAAAAAAQ==
sha256:
  description:
    - SHA-256 of the file's bytes, in hex, as C(sha256sum) prints it.
    - Two KRLs with the same digest are the same file; the server role and C(fleetca.ssh.revoke)
      compare it with the master KRL's to prove an installed copy is the master.
  returned: always
  type: str
  sample: 3c1c8e0d2f6c3a8c5c0c9d7f8b0e1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b
generated:
  description: When the KRL was generated, ISO 8601 UTC.
  returned: always
  type: str
  sample: "2026-03-01T12:00:00Z"
generated_epoch:
  description: When the KRL was generated, in seconds since the epoch.
  returned: always
  type: int
  sample: 1772366400
comment:
  description: The comment in the KRL header.
  returned: always
  type: str
  sample: fleetca.ssh
certificates:
  description: Certificate sections, one per CA (or for any CA), in file order.
  returned: unless O(entries=false)
  type: list
  elements: dict
  contains:
    ca:
      description: The CA public key line, or V(any) for the section that applies to every CA.
      type: str
    ca_fingerprint:
      description: SHA256 fingerprint of the CA key, null for any CA.
      type: str
    serials:
      description: Revoked serials as V(N) and V(A-B) strings, in order.
      type: list
      elements: str
    serial_count:
      description: How many serials are revoked.
      type: int
    range_count:
      description: How many separate ranges they form.
      type: int
    key_ids:
      description: Revoked key ids.
      type: list
      elements: str
    extensions:
      description: Names of the extension subsections kept in this section.
      type: list
      elements: str
  sample:
    - ca: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE8eYh3FDIyq0d7qrdkzmqvLDTbo4HMtAQz7Vn5ar0hR
      ca_fingerprint: SHA256:3V0jHuBkGzKK9hQ0fPLqnuW7DgS+Xo/d3ID5nZ9grRE
      serials: ["42", "1000-1999"]
      serial_count: 1001
      range_count: 2
      key_ids: [alice@example.com]
      extensions: []
keys:
  description: Explicitly revoked plain keys, as key lines.
  returned: unless O(entries=false)
  type: list
  elements: str
sha1_fingerprints:
  description: Revoked SHA1 fingerprints (C(SHA1:...)).
  returned: unless O(entries=false)
  type: list
  elements: str
sha256_fingerprints:
  description: Revoked SHA256 fingerprints (C(SHA256:...)).
  returned: unless O(entries=false)
  type: list
  elements: str
extensions:
  description: Names of the extension sections the KRL carries.
  returned: always
  type: list
  elements: str
results:
  description: One entry per O(keys) item, in order.
  returned: always
  type: list
  elements: dict
  contains:
    key:
      description: The key or certificate line as given.
      type: str
    revoked:
      description: Whether the KRL revokes it.
      type: bool
    reason:
      description: The entry that revokes it, null when it is not revoked.
      type: str
  sample:
    - key: ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29t... alice
      revoked: true
      reason: serial 1500 (range 1000-1999) of CA SHA256:3V0jHuBkGzKK9hQ0fPLqnuW7DgS+Xo/d3ID5nZ9grRE
"""
