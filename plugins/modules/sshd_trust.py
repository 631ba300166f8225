#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: sshd_trust
short_description: Install the files sshd's certificate trust reads, in one call
version_added: 0.1.0
description:
  - Installs on a server the host certificates (C(HostCertificate)), the trusted user CA keys
    (C(TrustedUserCAKeys)), the key revocation list (C(RevokedKeys)) and one principals file per
    user (C(AuthorizedPrincipalsFile)), each only where the file in place differs.
  - Every input is checked before anything is written (certificates and CA keys must parse, the
    KRL must be one sshd can load and match its digest, user names must be file names); a bad
    input fails the task, names the field and writes nothing.
  - Each file is written atomically (a temporary file in the same directory, renamed over the
    old one), mode C(0644), and owned by root when the module runs as root; the principals
    directory gets mode C(0755).
  - These modes and owners are fixed by design, since sshd needs each of these files readable
    and none writable by others. The module takes no file options, and a file it replaces gets
    owner and group root and mode C(0644) whatever they were before (unlike M(fleetca.ssh.cert)
    and M(fleetca.ssh.krl), which keep them as M(ansible.builtin.copy) does).
  - Refuses to replace an installed KRL by one of a lower version (anti-rollback). With
    O(revoked_keys), the call holds the lock C(PATH.lock) beside the KRL (see O(lock_timeout))
    from reading the installed KRL to writing the last file, so two rollouts reaching one
    server at once can never put an older KRL over a newer one.
  - One call replaces a C(copy) per file; the C(fleetca.ssh.server) role makes it once per
    server. It does not touch C(sshd_config) and does not reload sshd (sshd reads the KRL and
    principals files at each login; host certificates need a reload).
  - With O(host_certificates[].replace_key_from), it also installs a new host key together with
    its certificate (see there).
author:
  - fleetca.ssh contributors (@fleetca)
extends_documentation_fragment:
  - fleetca.ssh.lock
attributes:
  check_mode:
    support: full
    description: Reports what would change and writes nothing.
  diff_mode:
    support: full
    description: Text files show their lines; the KRL shows its version and SHA-256; a replaced host key its type and fingerprint.
options:
  host_certificates:
    description:
      - Host certificates to install, each beside its host key.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Where the certificate goes, normally C(/etc/ssh/ssh_host_TYPE_key-cert.pub).
        type: path
        required: true
      certificate:
        description: The certificate line (C(TYPE-cert-v01@openssh.com BASE64 [COMMENT])).
        type: str
        required: true
      replace_key_from:
        description:
          - A new host key to put in place of the one the certificate goes beside (a host key
            rotation), for example C(/etc/ssh/ssh_host_ed25519_key.fleetca-new) as
            C(ssh-keygen -f) wrote it, with its C(.pub) beside it.
          - Just before the certificate is written, the key is renamed over the host key
            (O(host_certificates[].path) without C(-cert.pub)), mode C(0600), and its C(.pub) over
            the old C(.pub), mode C(0644); each rename is atomic and the old key is gone.
          - Refused, writing nothing, unless O(host_certificates[].certificate) certifies exactly
            this key's C(.pub) - a host key never goes in without its certificate.
        type: path
  trusted_user_ca_keys:
    description:
      - The file named by C(TrustedUserCAKeys) and the CA public keys it lists, one per line.
    type: dict
    suboptions:
      path:
        description: The file.
        type: path
        required: true
      keys:
        description: CA public key lines.
        type: list
        elements: str
        required: true
  revoked_keys:
    description:
      - The KRL named by C(RevokedKeys).
    type: dict
    suboptions:
      path:
        description: Where sshd reads the KRL.
        type: path
        required: true
      content:
        description:
          - The KRL's bytes, base64-encoded (as C(ansible.builtin.slurp) returns the master KRL
            from the CA host).
        type: str
        required: true
      sha256:
        description:
          - SHA-256 (hex) the decoded O(revoked_keys.content) must have, for example the master's
            from the CA host's fact C(fleetca_ssh_krl_master); a mismatch fails the task.
        type: str
  authorized_principals:
    description:
      - The directory of C(AuthorizedPrincipalsFile DIRECTORY/%u) and one file per user.
    type: dict
    suboptions:
      directory:
        description: The directory; created when missing.
        type: path
        required: true
      users:
        description: User name to the principals that user accepts, one per line of the file.
        type: dict
        required: true
      exclusive:
        description:
          - Remove the files of users not in O(authorized_principals.users), so that a user taken
            off the list loses access.
        type: bool
        default: true
seealso:
  - module: fleetca.ssh.cert
  - module: fleetca.ssh.krl_info
"""

EXAMPLES = r"""
- name: Put a new host key in place together with its certificate (host key rotation)
  fleetca.ssh.sshd_trust:
    host_certificates:
      - path: /etc/ssh/ssh_host_ed25519_key-cert.pub
        certificate: "{{ signed.certificate }}"
        replace_key_from: /etc/ssh/ssh_host_ed25519_key.fleetca-new

- name: Install the master KRL, the user CA and the principals files
  fleetca.ssh.sshd_trust:
    trusted_user_ca_keys:
      path: /etc/ssh/fleetca_user_ca.pub
      keys: ["{{ user_ca_public_key }}"]
    revoked_keys:
      path: /etc/ssh/fleetca_revoked.krl
      content: "{{ master_krl.content }}"
      sha256: "{{ hostvars['ca'].fleetca_ssh_krl_master.sha256 }}"
    authorized_principals:
      directory: /etc/ssh/auth_principals
      users:
        root: [ops-oncall]
        deploy: [deploy, ci]
"""

RETURN = r"""
changed_paths:
  description: Files written or moved into place (host keys), directories created or fixed, in that order.
  returned: always
  type: list
  elements: str
  sample: [/etc/ssh/ssh_host_ed25519_key-cert.pub, /etc/ssh/fleetca_revoked.krl]
removed_paths:
  description: Principals files removed because their user is no longer listed.
  returned: always
  type: list
  elements: str
  sample: [/etc/ssh/auth_principals/mallory]
host_certificates_changed:
  description: Whether a host certificate or host key was written (sshd loads them at reload only).
  returned: always
  type: bool
revoked_keys:
  description: The KRL as installed (or as it would be, in check mode), when O(revoked_keys) was given.
  returned: when O(revoked_keys) is given
  type: dict
  contains:
    path:
      description: The file.
      type: str
    krl_version:
      description: Its version.
      type: int
    sha256:
      description: SHA-256 of its bytes, in hex.
      type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleetca.ssh.plugins.module_utils import locks, sshd_trust
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def plan(params, owner):
    """Every change, checked and ordered: certificates, user CA keys, KRL, principals."""
    changes = sshd_trust.plan_host_certificates(params["host_certificates"], owner)
    certificates_changed = bool(changes)
    revoked = None
    if params["trusted_user_ca_keys"]:
        ca_keys = params["trusted_user_ca_keys"]
        changes += sshd_trust.plan_user_ca_keys(ca_keys["path"], ca_keys["keys"], owner)
    if params["revoked_keys"]:
        krl = params["revoked_keys"]
        krl_changes, revoked = sshd_trust.plan_krl(krl["path"], krl["content"], krl["sha256"], owner)
        changes += krl_changes
    if params["authorized_principals"]:
        principals = params["authorized_principals"]
        changes += sshd_trust.plan_principals(principals["directory"], principals["users"],
                                              principals["exclusive"], owner)
    return changes, certificates_changed, revoked


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host_certificates=dict(type="list", elements="dict", default=[], options=dict(
                path=dict(type="path", required=True),
                certificate=dict(type="str", required=True),
                replace_key_from=dict(type="path"),
            )),
            trusted_user_ca_keys=dict(type="dict", no_log=False, options=dict(
                path=dict(type="path", required=True),
                keys=dict(type="list", elements="str", required=True, no_log=False),
            )),
            revoked_keys=dict(type="dict", no_log=False, options=dict(
                path=dict(type="path", required=True),
                content=dict(type="str", required=True),
                sha256=dict(type="str"),
            )),
            authorized_principals=dict(type="dict", options=dict(
                directory=dict(type="path", required=True),
                users=dict(type="dict", required=True),
                exclusive=dict(type="bool", default=True),
            )),
            **locks.ARGUMENT_SPEC
        ),
        supports_check_mode=True,
    )
    owner = sshd_trust.wanted_owner()
    revoked_keys = module.params["revoked_keys"]

    def plan_changes():
        planned = plan(module.params, owner)
        return planned, bool(planned[0])

    def write(planned):
        sshd_trust.apply(planned[0], owner)

    try:
        if revoked_keys:  # the anti-rollback check and the write as one step, under the KRL's lock
            planned = locks.plan_and_write(module, revoked_keys["path"], plan_changes, write)
        else:
            planned, dummy = plan_changes()
            if not module.check_mode:
                write(planned)
        changes, certificates_changed, revoked = planned
    except FleetcaError as exc:
        module.fail_json(msg=str(exc))
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot write %s: %s" % (exc.filename, exc.strerror))
    result = dict(
        changed=bool(changes),
        changed_paths=[change.path for change in changes if change.action != "remove"],
        removed_paths=[change.path for change in changes if change.action == "remove"],
        host_certificates_changed=certificates_changed,
    )
    if revoked is not None:
        result["revoked_keys"] = revoked
    if module._diff:
        result["diff"] = [change.diff() for change in changes]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
