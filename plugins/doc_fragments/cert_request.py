# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The options of one certificate of fleetca.ssh.cert, documented once: at the top level
    and, through YAML aliases, as the suboptions of each element of `requests`."""

    DOCUMENTATION = r"""
options:
  type: &type
    description:
      - Certificate type. Required for every certificate.
    type: str
    choices: [host, user]
  public_key: &public_key
    description:
      - The public key to certify, as an OpenSSH key line. Exactly one of O(public_key) and
        O(public_key_path) is required for every certificate.
    type: str
  public_key_path: &public_key_path
    description:
      - Path of the public key to certify, on the CA host.
    type: path
  path: &path
    description:
      - Where to write the certificate. A new file gets mode C(0644) unless O(mode) says
        otherwise; a re-signed certificate keeps the owner, group, mode and SELinux context of
        the file it replaces unless O(owner), O(group), O(mode) or the SELinux options say
        otherwise (as M(ansible.builtin.copy) does). O(unsafe_writes) is honoured.
      - Without it the certificate is only returned, and every run signs anew unless
        O(current_certificate) is given.
      - The directory must exist.
    type: path
  current_certificate: &current_certificate
    description:
      - The certificate line currently installed elsewhere (for example slurped from a server),
        to decide idempotently whether to re-sign without a local O(path).
    type: str
  principals: &principals
    description:
      - User names or host names the certificate is valid for. Must not contain commas or newlines.
      - Required for user certificates unless O(allow_any_principal=true). Empty when not given.
    type: list
    elements: str
  allow_any_principal: &allow_any_principal
    description:
      - Sign a user certificate with no principals (valid for any principal). OpenSSH 10.3 and
        later match no principal with such a certificate; prefer explicit principals.
      - V(false) when not given.
    type: bool
  key_id: &key_id
    description:
      - Key identifier, logged by sshd at every login (with C(LogLevel VERBOSE)).
      - Defaults to the first principal, or the key's SHA256 fingerprint when there is none.
    type: str
  serial: &serial
    description:
      - Serial number (1 to 2^64-1). Defaults to the next serial from O(store).
    type: int
  valid_from: &valid_from
    description:
      - Start of validity, in C(ssh-keygen -V) vocabulary or ISO 8601 UTC
        (C(-5m), C(always), C(20260101), C(2026-01-01T00:00:00Z), epoch seconds).
      - Defaults to five minutes ago, to absorb clock skew between hosts.
    type: str
  valid_to: &valid_to
    description:
      - End of validity (C(+52w), C(forever), C(20270101), ISO 8601, epoch seconds).
      - Mutually exclusive with O(valid_for); one of the two is required for every certificate.
    type: str
  valid_for: &valid_for
    description:
      - Validity measured from now, for example C(+52w), C(+8h), C(forever).
    type: str
  renew_before: &renew_before
    description:
      - Re-sign when less than this is left of the existing certificate (C(4w), C(+1d), seconds).
      - No default - without it a certificate is kept until it expires.
    type: str
  critical_options: &critical_options
    description:
      - Critical options of a user certificate, name -> value (C("") for none), for example
        C(force-command), C(source-address), C(verify-required). Empty when not given.
      - Unknown names are refused (sshd rejects such certificates) unless
        O(allow_unknown_critical_options=true).
    type: dict
  allow_unknown_critical_options: &allow_unknown_critical_options
    description:
      - Accept critical option names that OpenSSH does not know. V(false) when not given.
    type: bool
  extensions: &extensions
    description:
      - Extensions of a user certificate, name -> value (C("") for none).
      - Defaults to what C(ssh-keygen) grants (X11, agent and port forwarding, pty, user rc);
        host certificates carry none.
    type: dict
  requester: &requester
    description:
      - Who asked for the certificate (the server role passes the inventory host name);
        recorded in the issuance log so that revocation can select certificates by host.
    type: str
  comment: &comment
    description:
      - Comment at the end of the certificate line. Defaults to the public key's comment.
    type: str
  person: &person
    description:
      - The person this user certificate is for. With it, the certificate is what the policy
        (O(user_cert_profiles), O(users)) grants that person under O(profile) - type C(user), the
        profile's principals (C({user}) replaced by the person), key id, validity, extensions,
        C(force-command) and C(source-address) - and the issuance log records the person as
        requester.
      - Of a person's certificate, O(valid_for) may shorten the profile's validity (never above its
        C(max_valid_for)) and O(principals) may pick some of the profile's principals; O(key_id),
        O(critical_options), O(extensions), O(valid_from), O(valid_to), O(serial),
        O(allow_any_principal) and O(allow_unknown_critical_options) are the profile's and are
        refused in the request, as are a O(type) other than C(user) and another O(requester).
      - A request outside the policy (a person not in O(users), a profile not theirs, a validity
        above the maximum, a principal outside the profile) fails naming it, and the call signs,
        writes and records nothing.
    type: str
  profile: &profile
    description:
      - The profile of a person's certificate (see O(person)). Defaults to C(default).
    type: str
  requests:
    description:
      - Sign several certificates in one call (one CA key load and one issuance-log transaction
        for the whole batch). Each element takes the per-certificate options listed under it.
      - Every per-certificate option given at the top level is the default of every element; an
        element's own value wins. So O(type=host) and O(valid_for=+52w) at the top level with
        elements holding only O(requests[].public_key), O(requests[].path) and
        O(requests[].principals) sign host certificates valid for 52 weeks.
      - O(public_key)/O(public_key_path) and O(valid_to)/O(valid_for) are each one choice - an
        element that sets either of a pair replaces the top-level pair.
      - The file options (O(owner), O(group), O(mode), ...) apply to the O(requests[].path) of
        every element.
      - A batch of more than 100 elements is echoed in the task's C(invocation) (what C(-vvv),
        AWX job events and ARA show of the arguments) as its first 100 elements and a last item
        C(... and N more); the outcome of every element is in RV(certificates).
    type: list
    elements: dict
    suboptions:
      type: *type
      public_key: *public_key
      public_key_path: *public_key_path
      path: *path
      current_certificate: *current_certificate
      principals: *principals
      allow_any_principal: *allow_any_principal
      key_id: *key_id
      serial: *serial
      valid_from: *valid_from
      valid_to: *valid_to
      valid_for: *valid_for
      renew_before: *renew_before
      critical_options: *critical_options
      allow_unknown_critical_options: *allow_unknown_critical_options
      extensions: *extensions
      requester: *requester
      comment: *comment
      person: *person
      profile: *profile
"""
