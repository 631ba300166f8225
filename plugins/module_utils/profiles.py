# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The policy between a person's request and the user CA's signature: profiles and people.

A profile says what a certificate of that kind may be: its principals (`{user}` stands for the
person's name), default and maximum validity, extensions, force-command, source-address and key
id template. `fleetca_ssh_users`, when not empty, lists who may get certificates and under which
profiles; when empty, anyone may get the `default` profile. A request outside the policy raises
FleetcaError naming what it broke, before anything is signed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.fleetca.ssh.plugins.module_utils.certs import (
    DEFAULT_USER_EXTENSIONS,
    KNOWN_EXTENSIONS,
    parse_duration,
)
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

PROFILES_FIELD = "fleetca_ssh_user_cert_profiles"
USERS_FIELD = "fleetca_ssh_users"
DEFAULT_PROFILE = "default"
USER_PLACEHOLDER = "{user}"
# Built in, and still there beside the profiles a user defines (a user-defined `default` replaces it).
BUILTIN_PROFILES = {DEFAULT_PROFILE: {"principals": [USER_PLACEHOLDER], "valid_for": "+16h", "max_valid_for": "+24h"}}
# What a person's certificate takes from its profile only: a request asking for any of them is refused.
DECIDED_BY_PROFILE = ("key_id", "critical_options", "extensions", "valid_from", "valid_to", "serial",
                      "allow_any_principal", "allow_unknown_critical_options")
PROFILE_KEYS = ("principals", "valid_for", "max_valid_for", "extensions", "force_command", "source_address", "key_id")


class Profile:
    """One checked profile: every value parsed, validity in seconds."""

    def __init__(self, name, spec, profiles_field=PROFILES_FIELD):
        field = "%s.%s" % (profiles_field, name)
        if not isinstance(spec, dict):
            raise FleetcaError("%s must be a mapping of %s" % (field, ", ".join(PROFILE_KEYS)))
        unknown = sorted(set(spec) - set(PROFILE_KEYS))
        if unknown:
            raise FleetcaError("%s: unknown key %s (known: %s)" % (field, ", ".join(unknown), ", ".join(PROFILE_KEYS)))
        self.name = name
        self.principals = _strings(field + ".principals", spec.get("principals", [USER_PLACEHOLDER]))
        if not self.principals:
            raise FleetcaError("%s.principals must name at least one principal" % field)
        self.max_valid_for = parse_duration(field + ".max_valid_for", spec.get("max_valid_for", "+24h"))
        self.valid_for = parse_duration(field + ".valid_for", spec.get("valid_for", "+16h"))
        if not 0 < self.valid_for <= self.max_valid_for:
            raise FleetcaError("%s.valid_for (%s) must be more than 0 and at most max_valid_for (%s)"
                               % (field, spec.get("valid_for", "+16h"), spec.get("max_valid_for", "+24h")))
        self.extensions = _extensions(field + ".extensions", spec.get("extensions"))
        self.force_command = spec.get("force_command")
        if self.force_command is not None and (not isinstance(self.force_command, str) or not self.force_command):
            raise FleetcaError("%s.force_command must be a command line" % field)
        self.source_address = [_cidr(field + ".source_address", item)
                               for item in _strings(field + ".source_address", spec.get("source_address", []))]
        self.key_id = spec.get("key_id", "{user}@{profile}")
        try:
            self.key_id.format(user="u", profile="p")
        except (AttributeError, KeyError, IndexError, ValueError):
            raise FleetcaError("%s.key_id: %r must be a string using only {user} and {profile}" % (field, self.key_id))

    def critical_options(self):
        options = {}
        if self.force_command is not None:
            options["force-command"] = self.force_command
        if self.source_address:
            options["source-address"] = ",".join(self.source_address)
        return options


def _strings(field, value):
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise FleetcaError("%s must be a list of strings" % field)
    return list(value)


def _extensions(field, value):
    if value is None:
        return dict(DEFAULT_USER_EXTENSIONS)
    names = _strings(field, value)
    unknown = [name for name in names if name not in KNOWN_EXTENSIONS]
    if unknown:
        raise FleetcaError("%s: unknown extension %s (OpenSSH knows %s)"
                           % (field, ", ".join(unknown), ", ".join(KNOWN_EXTENSIONS)))
    return dict((name, "") for name in names)


def _cidr(field, text):
    """An address or network as sshd's source-address takes it (CIDR, no host bits)."""
    try:
        return str(ipaddress.ip_network(text, strict=True))
    except ValueError:
        raise FleetcaError("%s: %r is not an IPv4 or IPv6 address or CIDR network (without host bits)"
                           % (field, text))


class Policy:
    """The profiles (built-in `default` included) and the people who may use them.

    `profiles_field` and `users_field` name the two inputs in errors (the contract's variables
    by default; fleetca.ssh.cert passes its option names).
    """

    def __init__(self, profiles=None, users=None, profiles_field=PROFILES_FIELD, users_field=USERS_FIELD):
        defined = dict(BUILTIN_PROFILES)
        if profiles is not None and not isinstance(profiles, dict):
            raise FleetcaError("%s must be a mapping of profile name to profile" % profiles_field)
        defined.update(profiles or {})
        self.profiles = dict((name, Profile(name, spec, profiles_field)) for name, spec in defined.items())
        if users is not None and not isinstance(users, dict):
            raise FleetcaError("%s must be a mapping of person to {profiles: [...]}" % users_field)
        self.users_field = users_field
        self.users = {}
        for person, spec in sorted((users or {}).items()):
            field = "%s.%s.profiles" % (users_field, person)
            allowed = _strings(field, (spec or {}).get("profiles", []) if isinstance(spec, dict) else None)
            missing = [name for name in allowed if name not in self.profiles]
            if missing:
                raise FleetcaError("%s: no profile %s (defined: %s)"
                                   % (field, ", ".join(missing), ", ".join(sorted(self.profiles))))
            self.users[person] = allowed

    def allowed_profiles(self, person):
        if not self.users:
            return [DEFAULT_PROFILE]
        return self.users.get(person, [])

    def certificate(self, person, profile=DEFAULT_PROFILE, valid_for=None, principals=None, fields=None):
        """The user certificate the policy grants `person` under `profile`, as fleetca.ssh.cert
        options: principals, key_id, valid_for (+Ns), critical_options, extensions, requester.

        `valid_for` (at most the profile's max) and `principals` (a subset of the profile's)
        narrow the profile's defaults; `fields` names the caller's variables in errors
        (keys user, profile, valid_for, principals).
        """
        names = dict(user="user", profile="profile", valid_for="valid_for", principals="principals")
        names.update(fields or {})
        if not isinstance(person, str) or not person or any(c in person for c in ",\n\r\0{}"):
            raise FleetcaError("%s: %r is not a person's name" % (names["user"], person))
        if self.users and person not in self.users:
            raise FleetcaError("%s: %s is not in %s, so gets no certificate (listed: %s)"
                               % (names["user"], person, self.users_field, ", ".join(sorted(self.users))))
        if profile not in self.profiles:
            raise FleetcaError("%s: no profile %r (defined: %s)"
                               % (names["profile"], profile, ", ".join(sorted(self.profiles))))
        if profile not in self.allowed_profiles(person):
            raise FleetcaError("%s: %s may not use profile %s (allowed: %s)"
                               % (names["profile"], person, profile, ", ".join(self.allowed_profiles(person)) or "none"))
        chosen = self.profiles[profile]
        seconds = chosen.valid_for
        if valid_for is not None:
            seconds = parse_duration(names["valid_for"], valid_for)
            if not 0 < seconds <= chosen.max_valid_for:
                raise FleetcaError("%s: %s is above profile %s's max_valid_for (%d s)"
                                   % (names["valid_for"], valid_for, profile, chosen.max_valid_for))
        granted = [item.replace(USER_PLACEHOLDER, person) for item in chosen.principals]
        if principals is not None:
            outside = [item for item in _strings(names["principals"], principals) if item not in granted]
            if outside:
                raise FleetcaError("%s: %s outside profile %s (allowed: %s)"
                                   % (names["principals"], ", ".join(outside), profile, ", ".join(granted)))
            granted = [item for item in granted if item in principals]
        return {"type": "user", "principals": granted, "key_id": chosen.key_id.format(user=person, profile=profile),
                "valid_for": "+%ds" % seconds,
                "critical_options": chosen.critical_options(), "extensions": chosen.extensions,
                "requester": person}

    def request_params(self, field, params):
        """One fleetca.ssh.cert certificate's options (`person`, `profile` and the rest, as
        cert_requests merges them) as this policy grants them, or FleetcaError naming the option
        that asks for more. `field` prefixes the option names (`requests[3].`)."""
        person = params.get("person")
        if person is None:
            raise FleetcaError("%sperson is required: the policy (user_cert_profiles, users) applies to every "
                               "certificate of the call" % field)
        for name in DECIDED_BY_PROFILE:
            if params.get(name) not in (None, False, {}):
                raise FleetcaError("%s%s: a person's certificate takes it from the profile, not from the request"
                                   % (field, name))
        if params.get("type") not in (None, "user"):
            raise FleetcaError("%stype: a person's certificate is a user certificate, not %s" % (field, params["type"]))
        if params.get("requester") not in (None, person):
            raise FleetcaError("%srequester: a person's certificate is recorded with the person (%s) as requester"
                               % (field, person))
        names = dict((name, field + option) for name, option in
                     (("user", "person"), ("profile", "profile"), ("valid_for", "valid_for"), ("principals", "principals")))
        granted = self.certificate(person, params.get("profile") or DEFAULT_PROFILE, params.get("valid_for"),
                                   params.get("principals") or None, names)
        return dict(params, **granted)
