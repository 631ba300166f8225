#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: sshd_config
short_description: Install an sshd configuration file only after the whole configuration passes sshd -t and sshd -T
version_added: 0.1.0
description:
  - Writes O(content) to O(path), the main C(sshd_config) itself or a drop-in that one of its
    C(Include) lines names (for example C(/etc/ssh/sshd_config.d/00-fleetca.conf)), and only
    after the WHOLE configuration as it will be has passed C(sshd -t) and C(sshd -T) shows the
    O(expect) values.
  - A drop-in is never checked alone (a drop-in that passes C(sshd -t -f DROPIN) can still break
    the whole configuration, linux-system-roles/sshd#185). The module builds, in a temporary
    directory, a copy of O(main_config) whose C(Include) lines list explicitly, in glob order,
    every file they will read once the candidate is in place, the candidate under the name
    O(path). So sshd sees exactly what it will see after the write (the main file's lines, the
    other drop-ins, host keys and certificates) while nothing under C(/etc/ssh) has changed yet.
  - On failure nothing is written and the message names the offending file and line (C(PATH
    (candidate)) for the new file), or the expected value that an earlier drop-in or a line
    before the C(Include) overrides, with the value sshd would use.
  - Creates the privilege separation directory C(/run/sshd) (0755) when missing before it runs
    sshd (dev-sec/ansible-collection-hardening#752). Host keys must exist already.
  - The file is written atomically (a temporary file in the same directory, renamed), mode
    C(0644), owned by root when the module runs as root. It does not reload sshd.
author:
  - fleetca.ssh contributors (@fleetca)
attributes:
  check_mode:
    support: full
    description:
      - Reports whether the file would change and writes nothing. Does not run sshd, whose checks
        need host keys and C(/run/sshd) that the same run may create first.
  diff_mode:
    support: full
    description: Shows the file's lines before and after (or its mode and owner).
options:
  path:
    description:
      - Where the configuration goes, O(main_config) or a file that an C(Include) line of
        O(main_config) names (before its first C(Match) block). Its directory must exist.
    type: path
    required: true
  content:
    description: The configuration text to install.
    type: str
    required: true
  main_config:
    description: The main sshd configuration file, the one sshd reads.
    type: path
    default: /etc/ssh/sshd_config
  sshd:
    description: The sshd binary; searched on C(PATH) and in the sbin directories when omitted.
    type: path
  expect:
    description:
      - C(keyword value) entries that C(sshd -T) must print for the whole configuration, for
        example C(passwordauthentication no); C(keyword value1|value2) accepts either spelling
        (C(permitrootlogin without-password|prohibit-password)). The keyword is case-insensitive.
    type: list
    elements: str
    default: []
seealso:
  - module: fleetca.ssh.sshd_info
  - module: fleetca.ssh.sshd_trust
  - plugin: fleetca.ssh.sshd_effective_mismatches
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Install a drop-in, checked whole with sshd -t and sshd -T first
  fleetca.ssh.sshd_config:
    path: /etc/ssh/sshd_config.d/00-fleetca.conf
    content: |
      PasswordAuthentication no
      PermitRootLogin prohibit-password
    expect:
      - passwordauthentication no
      - permitrootlogin without-password|prohibit-password
  notify: Reload sshd
"""

RETURN = r"""
path:
  description: The file written (or that would be).
  returned: always
  type: str
  sample: /etc/ssh/sshd_config.d/00-fleetca.conf
validated:
  description: Whether sshd checked the whole configuration (false in check mode).
  returned: always
  type: bool
privsep_dir_created:
  description: Whether the module created C(/run/sshd).
  returned: always
  type: bool
effective:
  description: The lines of C(sshd -T) for the whole configuration with the new file (empty in check mode).
  returned: always
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleetca.ssh.plugins.module_utils import sshd_config, sshd_trust
from ansible_collections.fleetca.ssh.plugins.module_utils.sshd_probe import which
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def find_sshd(given):
    sshd = which("sshd", given)
    if not sshd:
        raise FleetcaError("sshd: %s is not an executable" % given if given else "sshd: no sshd binary found")
    return sshd


def install(params, check_mode, owner):
    """(the planned Change or None, result fields); validates before it writes anything."""
    path, main = params["path"], params["main_config"]
    if not os.path.isabs(path) or not os.path.isabs(main):
        raise FleetcaError("path and main_config must be absolute paths")
    sshd_config.parse_expected(params["expect"])
    change = sshd_trust.plan_file("path", path, params["content"].encode("utf-8"),
                                  lambda data: data.decode("utf-8", "replace"), owner)
    result = dict(path=path, validated=False, privsep_dir_created=False, effective=[])
    if check_mode:
        return change, result
    sshd = find_sshd(params["sshd"])
    result["privsep_dir_created"] = sshd_config.ensure_privsep_dir()
    result["effective"] = sshd_config.check_candidate(sshd, main, path, params["content"], params["expect"])
    result["validated"] = True
    if change is not None:
        sshd_trust.apply([change], owner)
    return change, result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            content=dict(type="str", required=True),
            main_config=dict(type="path", default="/etc/ssh/sshd_config"),
            sshd=dict(type="path"),
            expect=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    try:
        change, result = install(module.params, module.check_mode, sshd_trust.wanted_owner())
    except (FleetcaError, sshd_config.SshdConfigError) as exc:
        module.fail_json(msg=str(exc))
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot write %s: %s" % (exc.filename, exc.strerror))
    result["changed"] = change is not None or result["privsep_dir_created"]
    if module._diff and change is not None:
        result["diff"] = change.diff()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
