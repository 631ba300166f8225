#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: sshd_info
short_description: Ask a server's installed OpenSSH what it supports, and read its sshd files
version_added: 0.1.0
description:
  - Read-only. In one call, returns what the C(fleetca.ssh.server) role compares against,
    the algorithms the installed OpenSSH implements (C(ssh -Q)), the option names its sshd knows
    and the live effective configuration (C(sshd -T)), whether the main C(sshd_config) includes
    the drop-in directory, the host keys and their certificates, the state of the files the role
    manages, and the sshd service's state.
  - Also returns the host name, FQDN and OS family, so that the role needs no fact gathering.
  - Needs only Python's standard library on the server.
  - Fails when the ssh client or the sshd binary is not found (both are needed to answer).
  - Runs in one connection round trip (a module call without pipelining takes five or six); its
    action plugin sends the probe's code as one C(python -c) command to the Python Ansible runs
    modules with on that host (C(ansible_python_interpreter), C(ANSIBLE_PYTHON_INTERPRETER),
    C(interpreter_python) in C(ansible.cfg), or interpreter discovery, as for any module), and
    returns the discovered interpreter as a fact like a module call does.
author:
  - fleetca.ssh contributors (@fleetca)
extends_documentation_fragment:
  - fleetca.ssh.info_module
  - fleetca.ssh.payload_action
options:
  host_key_types:
    description: Host key types to report (C(ed25519), C(rsa), C(ecdsa)).
    type: list
    elements: str
    default: [ed25519, rsa]
  key_dir:
    description: Where the host keys are (C(ssh_host_TYPE_key), C(.pub), C(-cert.pub)).
    type: path
    default: /etc/ssh
  main_config:
    description: The main sshd configuration file.
    type: path
    default: /etc/ssh/sshd_config
  dropin:
    description: The drop-in the role would write; its directory is looked for in the main file's C(Include) lines.
    type: path
    default: /etc/ssh/sshd_config.d/00-fleetca.conf
  sshd:
    description: The sshd binary; searched on C(PATH) and in the sbin directories when omitted.
    type: path
  files:
    description: Text files to return with content, mode and owner (V(null) when absent).
    type: list
    elements: path
    default: []
  digest_files:
    description: Files to return by SHA-256 only (the KRL, which may be large).
    type: list
    elements: path
    default: []
  principals_dir:
    description: A directory whose files to return with content, mode and owner.
    type: path
  service:
    description: The sshd service name; V(ssh) on the Debian family, else V(sshd), when omitted.
    type: str
  units:
    description: More systemd units (services, timers) to return the state of, in RV(units).
    type: list
    elements: str
    default: []
seealso:
  - module: fleetca.ssh.sshd_trust
"""

EXAMPLES = r"""
- name: Ask the installed OpenSSH what it supports
  fleetca.ssh.sshd_info:
  register: sshd

- name: Show the key exchange algorithms it implements
  ansible.builtin.debug:
    msg: "{{ sshd.query.kex }}"
"""

RETURN = r"""
hostname:
  description: Short host name (as Ansible's C(ansible_facts.hostname)).
  returned: always
  type: str
  sample: web1
fqdn:
  description: Fully qualified name (as C(ansible_facts.fqdn)).
  returned: always
  type: str
  sample: web1.example.com
os_family:
  description: OS family from C(/etc/os-release) (as C(ansible_facts.os_family)).
  returned: always
  type: str
  sample: Debian
service_name:
  description: The sshd service name used for RV(service).
  returned: always
  type: str
  sample: ssh
ssh_version:
  description: What C(ssh -V) prints, null without an ssh client.
  returned: always
  type: str
  sample: OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.15 3 Sep 2024
ssh:
  description: The ssh client binary, null when not found.
  returned: always
  type: str
sshd:
  description: The sshd binary, null when not found.
  returned: always
  type: str
query:
  description: Algorithm lists by kind (C(kex), C(cipher), C(mac), C(host_key), C(sig)), from C(ssh -Q).
  returned: always
  type: dict
options:
  description: Lower-case option names the installed sshd knows (C(sshd -T -f /dev/null)).
  returned: always
  type: list
  elements: str
effective:
  description: The lines of C(sshd -T) for the live configuration, null when it fails.
  returned: always
  type: list
  elements: str
run_sshd:
  description: Whether the privilege separation directory C(/run/sshd) exists.
  returned: always
  type: bool
not_loaded:
  description:
    - The main configuration, the drop-in, the host keys and host certificates written after the
      running sshd last loaded them (sshd rewrites its C(PidFile) when it starts and at every
      reload), sorted; empty when none is, or when no sshd runs from its C(PidFile).
    - A run that wrote them and stopped before reloading sshd leaves them here; the server role
      then reloads sshd.
  returned: always
  type: list
  elements: str
main_exists:
  description: Whether the main configuration file exists.
  returned: always
  type: bool
includes_dropin_dir:
  description: Whether the main file's C(Include) lines name the drop-in's directory.
  returned: always
  type: bool
lines_before_include:
  description: Active lines of the main file before that C(Include), each as its number, a colon and the line.
  returned: always
  type: list
  elements: str
dropins:
  description: The C(*.conf) files in the drop-in directory.
  returned: always
  type: list
  elements: str
host_keys:
  description:
    - Per host key type, C(path), C(private_exists), C(public_key), C(certificate) and
      C(certificate_file) (content, mode, uid, gid, isdir; null when absent).
    - Also the new key a host key rotation stages beside it, C(PATH.fleetca-new)
      (C(staged_path)), its public key (C(staged_public_key), null when absent) and which of
      its two files exist (C(staged_files)).
  returned: always
  type: dict
files:
  description: Per O(files) path, content, mode, uid, gid and isdir (null when absent).
  returned: always
  type: dict
digests:
  description: Per O(digest_files) path, the SHA-256 in hex (null when unreadable).
  returned: always
  type: dict
principals_dir:
  description: The O(principals_dir) itself (mode, uid, gid, isdir), null when absent.
  returned: always
  type: dict
principals_files:
  description: Per file name in O(principals_dir), content, mode, uid, gid.
  returned: always
  type: dict
service:
  description: C(active) and C(enabled) of the sshd service; null without systemd.
  returned: always
  type: dict
units:
  description: Per O(units) name, C(active) and C(enabled) (null without systemd).
  returned: always
  type: dict
python:
  description: The Python that ran the probe (the module interpreter).
  returned: always
  type: str
  sample: /usr/bin/python3
probed_at:
  description: When the probe ran, in seconds since the epoch.
  returned: always
  type: float
errors:
  description: What could not be asked (a failed query, C(sshd -T) without host keys).
  returned: always
  type: list
  elements: str
"""
