# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: server_sshd_config
short_description: The sshd options of role fleetca.ssh.server, and the values sshd -T must show
version_added: 0.1.0
author:
  - fleetca.ssh contributors (@fleetca)
description:
  - The role's options (host keys at the paths the probe reported, their certificates, trusted
    user CA, KRL, principals, authentication, algorithm lists cut to what the installed OpenSSH
    offers) that the installed sshd knows and that O(sshd_options) does not name (in any case),
    then O(sshd_options) with V(true)/V(false) written C(yes)/C(no).
  - Internal to role C(fleetca.ssh.server); its interface may change.
options:
  _input:
    description: The probe's answer (module C(fleetca.ssh.sshd_info)'s return values).
    type: dict
    required: true
  certificates:
    description: This host's certificates, C({path, certificate}) each (filter C(fleetca.ssh.server_certificates)).
    type: list
    elements: dict
    required: true
  user_ca_keys:
    description: The trusted user CA key lines.
    type: list
    elements: str
    required: true
  settings:
    description:
      - The role's variables without their C(fleetca_ssh_) prefix - C(host_key_types),
        C(trusted_user_ca_keys_file), C(revoked_keys), C(authorized_principals_dir),
        C(authorized_principals), C(cert_only), C(permit_root_login), C(max_auth_tries),
        C(kex_algorithms), C(ciphers), C(macs), C(host_key_algorithms),
        C(ca_signature_algorithms), C(sshd_options).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Build the sshd options
  ansible.builtin.set_fact:
    config: "{{ probe | fleetca.ssh.server_sshd_config(certificates=[], user_ca_keys=keys, settings=settings) }}"
"""

RETURN = r"""
_value:
  description: The options to render and the effective values to assert.
  type: dict
  contains:
    options:
      description: C({name, args}) per option, one line per element of C(args).
      type: list
      elements: dict
    expected:
      description: C(keyword value) lines (lower-case keyword) that C(sshd -T) must print; C(|) separates accepted spellings.
      type: list
      elements: str
"""

from ansible_collections.fleetca.ssh.plugins.module_utils.server_plan import sshd_config


def server_sshd_config(probe, certificates, user_ca_keys, settings):
    return sshd_config(probe, settings, certificates, user_ca_keys)


class FilterModule(object):
    def filters(self):
        return {"server_sshd_config": server_sshd_config}
