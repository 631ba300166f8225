# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decisions of role fleetca.ssh.server, made on the controller from the probe's answer.

Role `fleetca.ssh.server` probes each server once (module_utils/sshd_probe.py) and then
decides, here, through the filters of plugins/filter/: which input is refused, which host
certificates to request and where each signed one goes, the sshd options and the effective
values `sshd -T` must show, and what differs from what the probe saw. The files are judged
with sshd_trust's own rules (the module that writes them), so the role's "differs" and the
module's "changed" cannot disagree.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.fleetca.ssh.plugins.module_utils import keys, sshd_trust
from ansible_collections.fleetca.ssh.plugins.module_utils.sshd_config import effective_mismatches
from ansible_collections.fleetca.ssh.plugins.module_utils.certs import parse_certificate
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

HOST_KEY_TYPES = ("ed25519", "rsa", "ecdsa")
MIN_RSA_BITS = 3072
# The certificate of host key FILE is FILE-cert.pub (what sshd and ssh-keygen expect).
CERT_FILE_SUFFIX = "-cert.pub"
ROOT = (0, 0)
SSHD_KEYWORD = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
# Blocks that change the meaning of the lines after them: a drop-in of their own.
BLOCK_KEYWORDS = ("match", "include")
ON = ("yes", "true")
# A yes/no variable's spellings (`-e NAME=VALUE` passes a string), as a role's argument_specs
# type bool accepts them.
FLAGS = dict([(word, True) for word in ("true", "yes", "on", "1", "y", "t")]
             + [(word, False) for word in ("false", "no", "off", "0", "n", "f")])
# Every variable of the role whose name starts like a host key one (fleetca_ssh_host_key_,
# fleetca_ssh_host_keys_): any other such name is a typo.
HOST_KEY_VARIABLES = ("fleetca_ssh_host_key_algorithms", "fleetca_ssh_host_key_replace",
                      "fleetca_ssh_host_key_rsa_bits", "fleetca_ssh_host_key_types", "fleetca_ssh_host_keys_rotate")
# Names the probe's host name and FQDN take where the host has none of its own.
NOT_HOST_NAMES = ("localhost", "localhost.localdomain", "None")

# Host key algorithms an ecdsa host key needs (NIST curves: only when ecdsa is requested).
ECDSA_HOST_KEY_ALGORITHMS = (
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
)
# Options every supported OpenSSH has but `sshd -T` does not print while unset, so they never
# appear in the probe's list of known options.
ALWAYS_KNOWN_OPTIONS = ("hostcertificate", "hostkey")
# `sshd -T` prints some values under another spelling; `|` separates the accepted ones.
EFFECTIVE_SPELLING = {"prohibit-password": "without-password|prohibit-password"}
# Options whose effective value (sshd -T) is asserted before and after every change.
ASSERTED_OPTIONS = (
    "hostkey", "hostcertificate", "trustedusercakeys", "revokedkeys", "authorizedprincipalsfile",
    "authorizedkeysfile", "pubkeyauthentication", "passwordauthentication",
    "kbdinteractiveauthentication", "challengeresponseauthentication", "permitrootlogin",
    "maxauthtries", "loglevel", "kexalgorithms", "ciphers", "macs", "hostkeyalgorithms",
    "casignaturealgorithms",
)
# YAML booleans in fleetca_ssh_sshd_options, as sshd spells them.
SSHD_BOOLEANS = {"True": "yes", "False": "no"}


def values_of(value):
    """An option's values: a list repeats the line, anything else is one value."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def unique(items):
    """`items` without repeats, in their first order."""
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


# --- what the CA host published ------------------------------------------------------------

# The CA host's variables that ca_published reads.
CA_PUBLISHED_VARS = ("fleetca_ssh_ca_paths", "fleetca_ssh_host_ca_key", "fleetca_ssh_store",
                     "fleetca_ssh_host_ca_public_key", "fleetca_ssh_user_ca_public_key",
                     "fleetca_ssh_user_ca_trusted_keys", "fleetca_ssh_krl_master",
                     "fleetca_ssh_krl_signing_public_key")


def ca_facts(ca_vars):
    """The variables of the CA host (`ca_vars`, its hostvars) that ca_published reads, as a plain
    dict: read once for the play, since reading hostvars of another host computes all of its
    variables at each access."""
    return dict((name, ca_vars[name]) for name in CA_PUBLISHED_VARS if name in ca_vars)


def ca_published(ca_vars, host_ca_public_key="", user_ca_public_key="", extra_user_ca_keys=(),
                 krl_signing_public_key=""):
    """What role fleetca.ssh.ca set on the CA host (`ca_vars`, its variables), where this host's
    own `host_ca_public_key` / `user_ca_public_key` / `krl_signing_public_key` win when non-empty
    (a `user_ca_public_key` equal to the CA host's own is no override: the CA host's facts).
    The user CA keys to trust are the CA host's published trust set
    (fleetca_ssh_user_ca_trusted_keys), then the extra keys."""
    paths = ca_vars.get("fleetca_ssh_ca_paths")
    if paths is None:
        paths = {"host_ca_key": ca_vars.get("fleetca_ssh_host_ca_key", "/etc/ssh/fleetca/host_ca"),
                 "store": ca_vars.get("fleetca_ssh_store", "/etc/ssh/fleetca/issued.db")}
    published_user_ca_key = ca_vars.get("fleetca_ssh_user_ca_public_key", "")
    # On the CA host itself (a server too) its own fact is the published key, not an override.
    if user_ca_public_key and user_ca_public_key.strip() != published_user_ca_key.strip():
        user_ca_keys = [user_ca_public_key]
    else:  # the CA host's trust set keeps a rotation's next or previous key
        user_ca_keys = list(ca_vars.get("fleetca_ssh_user_ca_trusted_keys")
                            or [ca_vars.get("fleetca_ssh_user_ca_public_key", "")])
    user_ca_keys = [key.strip() for key in user_ca_keys + list(extra_user_ca_keys)]
    return {"paths": paths,
            "krl_master": ca_vars.get("fleetca_ssh_krl_master", {}),
            "host_ca_public_key": (host_ca_public_key or ca_vars.get("fleetca_ssh_host_ca_public_key", "")).strip(),
            "user_ca_keys": unique(key for key in user_ca_keys if key),
            "krl_signing_public_key": (krl_signing_public_key
                                       or ca_vars.get("fleetca_ssh_krl_signing_public_key", "")).strip()}


# --- pull sync of the signed KRL: input ----------------------------------------------------

DEFAULT_KRL_SYNC_INTERVAL = "15min"
# The sshsig namespace and identity the KRL is signed and verified with (module_utils/sshsig.py,
# roles/server/files/fleetca_krl_sync.py).
KRL_SIGNATURE_NAMESPACE = "fleetca-krl"
# What RFC 3986 allows in a URL. Whitespace, quotes and backslashes never reach the unit file's
# command line, where systemd would split or unescape them.
URL_CHARACTERS = re.compile(r"^[A-Za-z0-9._~:/?#@!$&'()*+,;=%\[\]-]+$")
# systemd's time span units (time-util.c, extract_multiplier), in seconds, in the order systemd
# tries them as prefixes: "min" before "m", so "5mins" is "5min" followed by garbage.
TIMESPAN_UNITS = (
    ("seconds", 1), ("second", 1), ("sec", 1), ("s", 1),
    ("minutes", 60), ("minute", 60), ("min", 60),
    ("months", 2629800), ("month", 2629800), ("M", 2629800),
    ("msec", 1e-3), ("ms", 1e-3), ("m", 60),
    ("hours", 3600), ("hour", 3600), ("hr", 3600), ("h", 3600),
    ("days", 86400), ("day", 86400), ("d", 86400),
    ("weeks", 604800), ("week", 604800), ("w", 604800),
    ("years", 31557600), ("year", 31557600), ("y", 31557600),
    ("usec", 1e-6), ("us", 1e-6), (u"\u03bcs", 1e-6), (u"\u00b5s", 1e-6),
)
TIMESPAN_NUMBER = re.compile(r"\+?(\d*)(?:\.(\d+))?")
TIMESPAN_WHITESPACE = " \t"
# The timer fires at most once a second (AccuracySec=1s): a shorter interval would only
# hammer the web server.
MIN_KRL_SYNC_SECONDS = 1


def interval_text(interval):
    """A time span as written in YAML: `900` (seconds) is the text "900"."""
    return interval if isinstance(interval, str) else str(interval)


def timespan_seconds(text):
    """The seconds of a systemd time span ("15min", "1h 30min", "90"), read as systemd's
    parse_sec reads it, or None when it would refuse it. Also None for what systemd takes but a
    timer interval must not be: "infinity" (never) and line breaks (the unit file is line based)."""
    if not isinstance(text, str):
        return None
    rest, total = text, None
    while True:
        rest = rest.lstrip(TIMESPAN_WHITESPACE)
        if not rest:
            return total
        number = TIMESPAN_NUMBER.match(rest)
        whole, fraction = number.group(1), number.group(2)
        if not whole and (fraction is None or rest.startswith("+")):
            return None  # no number here: a dash, a letter, a sign without digits
        rest = rest[number.end():]
        spaced = rest.lstrip(TIMESPAN_WHITESPACE)
        unit = next(((name, seconds) for name, seconds in TIMESPAN_UNITS if spaced.startswith(name)), None)
        if unit is None and rest and len(spaced) == len(rest):
            return None  # "5x", "5.", "1.2.3": neither a unit nor a separator after the number
        rest = spaced[len(unit[0]):] if unit else spaced
        value = float((whole or "0") + "." + (fraction or "0"))
        total = (total or 0) + value * (unit[1] if unit else 1)


def krl_url_problem(url):
    if not isinstance(url, str) or not URL_CHARACTERS.match(url):
        reason = "a URL on one line, without spaces or quotes"
    else:
        scheme, rest = url.split("://", 1) if "://" in url else ("", url)
        host = rest.split("/", 1)[0]
        if scheme not in ("http", "https") or not host.strip("@:"):
            reason = "an http:// or https:// URL with a host"
        elif "?" in url or "#" in url:
            reason = "a URL without query or fragment (the signature is fetched from the same URL + .sig)"
        else:
            return None
    return ("fleetca_ssh_krl_url must be %s, the published revoked.krl (for example "
            "https://ca.example.org/fleetca/revoked.krl); got %s." % (reason, json.dumps(url)))


def krl_signing_key_problem(key, ca_host, check_mode):
    if not key:
        # In check mode on a new fleet the ca role would only create the signing key.
        if check_mode:
            return None
        return ("fleetca_ssh_krl_url is set but the CA host %s published no KRL signing key "
                "(fleetca_ssh_krl_signing_public_key): run the fleetca.ssh.ca role (or its tasks_from=facts) on it "
                "earlier in the same run, or set fleetca_ssh_krl_signing_public_key." % (ca_host or "-"))
    try:
        keys.parse_public_key("fleetca_ssh_krl_signing_public_key", key)
    except FleetcaError as exc:
        return "%s: must be one public key line 'TYPE BASE64 [COMMENT]'." % exc
    return None


def krl_sync_problems(url, interval, signing_public_key, ca_host, check_mode):
    """The problems with the pull sync variables; none to check while fleetca_ssh_krl_url is unset."""
    if not url:
        return []
    seconds = timespan_seconds(interval_text(interval))
    interval_problem = None
    if seconds is None or seconds < MIN_KRL_SYNC_SECONDS:
        interval_problem = ("fleetca_ssh_krl_sync_interval must be a systemd time span of at least %ds on one "
                            "line (for example 15min, 1h, 1h 30min; see systemd.time(7)); got %s."
                            % (MIN_KRL_SYNC_SECONDS, json.dumps(interval)))
    return [krl_url_problem(url), interval_problem, krl_signing_key_problem(signing_public_key, ca_host, check_mode)]


# --- input checks --------------------------------------------------------------------------

def as_int(value):
    """`value` as an integer, 0 when it is none (as Jinja's `int` filter)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def host_key_problem(types, replace, rsa_bits):
    if (not types or set(types) - set(HOST_KEY_TYPES) or set(replace) - set(types)
            or as_int(rsa_bits) < MIN_RSA_BITS):
        return ("fleetca_ssh_host_key_types must be a non-empty list of ed25519, rsa and ecdsa (got %s); "
                "fleetca_ssh_host_key_replace a subset of it (got %s); fleetca_ssh_host_key_rsa_bits at "
                "least %d (got %s)." % (list(types), list(replace), MIN_RSA_BITS, rsa_bits))
    return None


def flag(value):
    """A yes/no variable as YAML gives it (a bool) or `-e NAME=true` does (a string); None
    when it is neither."""
    if isinstance(value, bool):
        return value
    return FLAGS.get(str(value).strip().lower())


def host_keys_rotate_problem(rotate, variables):
    """fleetca_ssh_host_keys_rotate must be a yes/no, and no other variable may look like one of
    the host key variables: a misspelled `-e fleetca_ssh_host_key_rotate=true` would otherwise
    enroll without rotating and report success."""
    unknown = sorted(set(variables) - set(HOST_KEY_VARIABLES))
    if unknown:
        return ("Unknown variable%s %s: the server role reads only %s."
                % ("s" if len(unknown) > 1 else "", ", ".join(unknown), ", ".join(HOST_KEY_VARIABLES)))
    if flag(rotate) is None:
        return "fleetca_ssh_host_keys_rotate must be true or false (got %s)." % json.dumps(rotate)
    return None


def sshd_option_problems(options):
    problems = []
    for key, value in options.items():
        name = str(key)
        if (not SSHD_KEYWORD.match(name) or name.lower() in BLOCK_KEYWORDS
                or any(re.search(r"[\r\n]", str(one)) for one in values_of(value))):
            problems.append("fleetca_ssh_sshd_options: %s must be an sshd keyword (letters and digits; Match "
                            "and Include blocks belong in a drop-in of their own) with values on one line "
                            "each." % json.dumps(name))
    return problems


def principals_problems(authorized_principals):
    problems = []
    for key, principals in authorized_principals.items():
        user = str(key)
        if (not sshd_trust.is_user_name(user) or not isinstance(principals, (list, tuple))
                or any(re.search(r"[\r\n,]", str(one)) for one in principals)):
            problems.append("fleetca_ssh_authorized_principals: %s must be a user name (no slash) mapped to a "
                            "list of principals without commas or line breaks." % json.dumps(user))
    return problems


def has_way_in(sshd_options, cert_only, user_ca_keys):
    """Whether some login method stays on: passwords, authorized keys or a trusted user CA,
    with fleetca_ssh_sshd_options (any case) taken into account."""
    options = dict((str(name).lower(), str(value).lower()) for name, value in sshd_options.items())
    pubkey = options.get("pubkeyauthentication", "yes") not in ("no", "false")
    passwords = (options.get("passwordauthentication", "no") in ON
                 or options.get("kbdinteractiveauthentication", "no") in ON)
    authorized_keys = pubkey and ((not cert_only and options.get("authorizedkeysfile", "") != "none")
                                  or options.get("authorizedkeyscommand", "none") != "none")
    return passwords or authorized_keys or (pubkey and len(user_ca_keys) > 0)


def input_problems(host, host_key_types, host_key_replace, rsa_bits, sshd_options, authorized_principals,
                   cert_only, user_ca_keys, ca_host, host_ca_public_key, check_mode,
                   krl_url="", krl_sync_interval=DEFAULT_KRL_SYNC_INTERVAL, krl_signing_public_key="",
                   host_keys_rotate=False, host_key_variables=()):
    """Every problem with the role's input, each a sentence naming the variable; [] when none.
    `host_key_variables`: the names of the variables set that start like the host key ones."""
    problems = [host_key_problem(host_key_types, host_key_replace, rsa_bits),
                host_keys_rotate_problem(host_keys_rotate, host_key_variables)]
    problems += sshd_option_problems(sshd_options) + principals_problems(authorized_principals)
    problems += krl_sync_problems(krl_url, krl_sync_interval, krl_signing_public_key, ca_host, check_mode)
    # In check mode on a new fleet the CA keys do not exist yet (the ca role would create them).
    if not has_way_in(sshd_options, cert_only, user_ca_keys) and not (check_mode and not user_ca_keys):
        problems.append(
            "Refusing to configure sshd on %s with no way in: password and keyboard-interactive authentication "
            "are off, authorized keys are off (fleetca_ssh_cert_only: %s) and no user CA is trusted (the CA host "
            "%s published no fleetca_ssh_user_ca_public_key and fleetca_ssh_user_ca_extra_keys is empty). "
            "Run the fleetca.ssh.ca role on the CA host in the same run (playbook fleetca.ssh.enroll does), set "
            "fleetca_ssh_user_ca_public_key, or keep authorized keys." % (host, cert_only, ca_host or "-"))
    if not check_mode and not (ca_host and host_ca_public_key):
        problems.append(
            "No host CA: the server role signs host certificates on the first host of group ssh_ca "
            "(fleetca_ssh_ca_host: %s), which must have run the fleetca.ssh.ca role (or its tasks_from=facts) "
            "earlier in the same run." % (ca_host or "-"))
    return [problem for problem in problems if problem]


# --- host keys ---------------------------------------------------------------------------

def host_key_plan(probe, types, replace, rotate):
    """What tasks/host_keys_create.yml does on this host, from the run's first probe.

    `generate` ({type, path}): a missing key at its own path; a key to replace - every existing
    one with fleetca_ssh_host_keys_rotate, else those of fleetca_ssh_host_key_replace - as a new
    key staged beside it, which fleetca.ssh.sshd_trust moves into place only together with its
    new certificate, so that sshd never finds a key without its certificate. `remove`: staged
    files an unfinished run left, removed first, so that a staged key in the next probe is
    always this run's. `run_sshd`: /run/sshd is missing. `differs`: anything to do at all."""
    host_keys = probe["host_keys"]
    existing = [key_type for key_type in types if host_keys[key_type]["private_exists"]]
    replacing = [key_type for key_type in (types if flag(rotate) else replace) if key_type in existing]
    generate = [{"type": key_type, "path": host_keys[key_type]["path"]} for key_type in types
                if key_type not in existing]
    generate += [{"type": key_type, "path": host_keys[key_type]["staged_path"]} for key_type in replacing]
    remove = [path for key_type in types for path in host_keys[key_type]["staged_files"]]
    run_sshd = not probe["run_sshd"]
    return {"generate": generate, "remove": remove, "run_sshd": run_sshd,
            "differs": bool(generate or remove or run_sshd)}


# --- host certificates ---------------------------------------------------------------------

def host_key_id(host, key_type):
    return "host:%s:%s" % (host, key_type)


def host_principals(host, probe, extra):
    """inventory_hostname, the short host name and the FQDN (never localhost), then `extra`."""
    names = [host] + [str(name) for name in (probe["hostname"], probe["fqdn"]) if str(name) not in NOT_HOST_NAMES]
    names = [str(name).strip() for name in names + list(extra)]
    return unique(name for name in names if name)


def host_cert_requests(probe, host, types, principals_extra, valid_for, renew_before):
    """One fleetca.ssh.cert request per key type the probe found a public key of: the staged new
    key's where a rotation staged one (host_key_plan), with no current certificate to keep."""
    principals = host_principals(host, probe, principals_extra)
    requests = []
    for key_type in types:
        key = probe["host_keys"].get(key_type) or {}
        public_key = key.get("staged_public_key") or key.get("public_key")
        if not public_key:
            continue
        request = {"type": "host", "public_key": public_key, "principals": principals,
                   "key_id": host_key_id(host, key_type), "valid_for": valid_for,
                   "renew_before": renew_before, "requester": host}
        if key.get("certificate") and not key.get("staged_public_key"):
            request["current_certificate"] = key["certificate"]
        requests.append(request)
    return requests


def host_certificates(signed, probe, host):
    """This host's certificates from the batch's results: each one is matched to its key by its
    requester and key id (the batch holds every host's results) and goes beside that key, where
    the probe found it; with the staged new key to move into place first, where a rotation
    staged one. A result without a certificate (check mode) is skipped."""
    by_key_id = dict((host_key_id(host, key_type), key) for key_type, key in probe["host_keys"].items())
    found = []
    for result in signed:
        if result.get("requester") != host or not result.get("certificate"):
            continue
        key = by_key_id.get(parse_certificate("certificate", result["certificate"]).key_id)
        if key:
            found.append({"path": key["path"] + CERT_FILE_SUFFIX, "certificate": result["certificate"]})
            if key.get("staged_public_key"):
                found[-1]["replace_key_from"] = key["staged_path"]
    return found


# --- sshd options --------------------------------------------------------------------------

def supported(preferred, offered):
    """The preference list, in its order, cut to what the installed OpenSSH offers."""
    return ",".join(name for name in preferred if name in (offered or []))


def managed_options(probe, settings, certificates, user_ca_keys):
    """(name, values, wanted) of every option the role sets. `settings`: the role's variables
    without their `fleetca_ssh_` prefix."""
    query = probe["query"]
    types = settings["host_key_types"]
    host_key_algorithms = list(settings["host_key_algorithms"])
    if "ecdsa" in types:
        host_key_algorithms += ECDSA_HOST_KEY_ALGORITHMS
    user_ca_types = [key.split()[0] for key in user_ca_keys if key.split()[0] != "ssh-rsa"]
    ca_algorithms = unique(list(settings["ca_signature_algorithms"]) + user_ca_types)
    return [
        ("HostKey", [probe["host_keys"][key_type]["path"] for key_type in types], True),
        ("HostCertificate", [cert["path"] for cert in certificates], len(certificates) > 0),
        ("TrustedUserCAKeys", [settings["trusted_user_ca_keys_file"]], len(user_ca_keys) > 0),
        ("RevokedKeys", [settings["revoked_keys"]], True),
        ("AuthorizedPrincipalsFile", [settings["authorized_principals_dir"] + "/%u"],
         len(settings["authorized_principals"]) > 0),
        ("AuthorizedKeysFile", ["none"], bool(settings["cert_only"])),
        ("PubkeyAuthentication", ["yes"], True),
        ("PasswordAuthentication", ["no"], True),
        ("KbdInteractiveAuthentication", ["no"], True),
        # A separate option only up to OpenSSH 8.6 (an alias of KbdInteractiveAuthentication since).
        ("ChallengeResponseAuthentication", ["no"], "challengeresponseauthentication" in probe["options"]),
        ("PermitRootLogin", [settings["permit_root_login"]], True),
        ("MaxAuthTries", [settings["max_auth_tries"]], True),
        ("LogLevel", ["VERBOSE"], True),
        ("KexAlgorithms", [supported(settings["kex_algorithms"], query.get("kex"))], True),
        ("Ciphers", [supported(settings["ciphers"], query.get("cipher"))], True),
        ("MACs", [supported(settings["macs"], query.get("mac"))], True),
        ("HostKeyAlgorithms", [supported(host_key_algorithms, query.get("host_key"))], True),
        ("CASignatureAlgorithms", [supported(ca_algorithms, query.get("sig"))], True),
    ]


def sshd_config(probe, settings, certificates, user_ca_keys):
    """{options: [{name, args}], expected: ["keyword value|other spelling", ...]}: the role's
    options the installed sshd knows, unless fleetca_ssh_sshd_options names them (any case),
    then those; `expected` is what `sshd -T` must show of the role's asserted options."""
    user_options = settings["sshd_options"]
    user_names = [str(name).lower() for name in user_options]
    # An empty list: the probe could not ask sshd (the effective-value check says so).
    known = list(probe["options"]) + list(ALWAYS_KNOWN_OPTIONS) if probe["options"] else []
    options, expected = [], []
    for name, values, wanted in managed_options(probe, settings, certificates, user_ca_keys):
        keyword = name.lower()
        if not wanted or keyword in user_names or (known and keyword not in known):
            continue
        args = [str(value) for value in values]
        options.append({"name": name, "args": args})
        if keyword in ASSERTED_OPTIONS:
            expected += ["%s %s" % (keyword, EFFECTIVE_SPELLING.get(arg, arg)) for arg in args]
    for name, value in user_options.items():
        options.append({"name": name, "args": [SSHD_BOOLEANS.get(str(one), str(one)) for one in values_of(value)]})
    return {"options": options, "expected": expected}


# --- what the probe answered ---------------------------------------------------------------

# The `ssh -Q` queries the sshd options are built from.
QUERIES = ("kex", "cipher", "mac", "host_key", "sig")


def probe_problems(probe, host, config, config_differs, check_mode, dropin_dir, main_file):
    """Why the role must stop before writing anything, from the probe: OpenSSH could not be
    asked (a failed `ssh -Q`, `sshd -T` failing outside check mode), an option would be left
    without a value, or - where the configuration will not change - the live `sshd -T` does not
    show the role's values (a drop-in or main-file line added since overrides them; where it
    will change, fleetca.ssh.sshd_config checks the new configuration itself)."""
    if any(query not in probe["query"] for query in QUERIES) or (not probe["options"] and not check_mode):
        return ["Could not ask the installed OpenSSH on %s what it supports: %s" % (host, "; ".join(probe["errors"]))]
    empty = [option["name"] for option in config["options"] if "" in option["args"]]
    if empty:
        return ["%s: none of the preferred values is supported by the installed OpenSSH on %s (%s)."
                % (", ".join(empty), host, probe.get("ssh_version") or "unknown")]
    if config_differs:
        return []
    mismatches = effective_mismatches(probe["effective"] or [], config["expected"])
    if mismatches:
        return ["sshd -T on %s does not show %s: an earlier drop-in in %s or a line before the Include in %s "
                "sets it first." % (host, "; ".join(mismatches), dropin_dir, main_file)]
    return []


# --- what differs from the probe -----------------------------------------------------------

def probed_file_differs(state, content, mode=sshd_trust.FILE_MODE):
    """Whether a file the probe saw (`state`, sshd_probe.file_state; None when absent) is not
    exactly `content` (bytes) with `mode`, owned by root: what fleetca.ssh.sshd_trust would change."""
    if state is None or state.get("content") is None:
        return True
    return (state["content"] != content.decode("utf-8", "replace")
            or sshd_trust.attributes_differ(int(state["mode"], 8), (state["uid"], state["gid"]), mode, ROOT))


def principals_dir_differs(state):
    return (state is None or not state["isdir"]
            or sshd_trust.attributes_differ(int(state["mode"], 8), (state["uid"], state["gid"]),
                                            sshd_trust.DIR_MODE, ROOT))


def trust_files_differ(probe, certificates, user_ca_keys, user_ca_keys_file, authorized_principals):
    """Whether fleetca.ssh.sshd_trust has work on this host besides the KRL: a host certificate,
    the trusted user CA keys, the principals directory or a principals file (listed or stale)."""
    probed_certs = dict((key["path"] + CERT_FILE_SUFFIX, key["certificate_file"])
                        for key in probe["host_keys"].values())
    files = [(probed_certs.get(cert["path"]), sshd_trust.certificate_content(cert["path"], cert["certificate"]))
             for cert in certificates]
    if user_ca_keys:
        files.append((probe["files"][user_ca_keys_file], sshd_trust.user_ca_keys_content(user_ca_keys)))
    for user, principals in authorized_principals.items():
        files.append((probe["principals_files"].get(user), sshd_trust.principals_content(user, principals)))
    stale = set(probe["principals_files"]) - set(authorized_principals)
    return (any(probed_file_differs(state, content) for state, content in files) or bool(stale)
            or (len(authorized_principals) > 0 and principals_dir_differs(probe["principals_dir"])))


def service_ok(probe):
    """Whether systemd runs sshd and starts it at boot (False without systemd: the service
    module finds out)."""
    service = probe["service"]
    return service is not None and service["active"] and service["enabled"]


def server_differs(probe, certificates, user_ca_keys, user_ca_keys_file, authorized_principals,
                   krl_master, revoked_keys, config_dest, config_text):
    """What the role has to change on this host, by the probe's answer: a sorted list of
    `krl` (the master KRL differs from the installed one), `krl_missing` (no master known and
    no KRL installed), `reload` (the running sshd has not loaded files written since it last
    loaded: an earlier run stopped before its reload handler), `trust_files`, `sshd_config`
    and `service`. Empty: nothing to do."""
    installed_krl = probe["digests"][revoked_keys]
    master = krl_master.get("sha256")
    differs = {
        "krl": master is not None and installed_krl != master,
        "krl_missing": master is None and installed_krl is None,
        "trust_files": trust_files_differ(probe, certificates, user_ca_keys, user_ca_keys_file,
                                          authorized_principals),
        "sshd_config": probed_file_differs(probe["files"][config_dest], config_text.encode("utf-8")),
        "service": not service_ok(probe),
        "reload": len(probe["not_loaded"]) > 0,
    }
    return sorted(name for name, differ in differs.items() if differ)


# --- pull sync of the signed KRL: what goes on the server ----------------------------------

KRL_SYNC_TIMER = "fleetca-krl-sync.timer"
PROGRAM_MODE = 0o755
VERSIONED_PYTHON = re.compile(r"(/python3)\.\d+$")
MANAGED_HEADER = "# Managed by fleetca.ssh (role fleetca.ssh.server): pull sync of the fleet's signed KRL.\n"


def systemd_word(text):
    """`text` as one quoted word of a unit file line: systemd would otherwise expand `%`
    (specifiers) and `$` (variables) and unescape backslashes."""
    return '"%s"' % (text.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$"))


def allowed_signers_content(signing_public_key):
    """The allowed_signers line for `ssh-keygen -Y verify`: the KRL signing key, trusted for the
    KRL's namespace only (a signature over anything else by that key verifies nothing here)."""
    key_type, blob = signing_public_key.split()[:2]
    return (MANAGED_HEADER + '%s namespaces="%s" %s %s\n'
            % (KRL_SIGNATURE_NAMESPACE, KRL_SIGNATURE_NAMESPACE, key_type, blob))


def stable_python(python):
    """The module Python as the service should name it: interpreter discovery finds a versioned
    `/usr/bin/python3.11`, which a distribution upgrade removes; `/usr/bin/python3` beside it stays."""
    return VERSIONED_PYTHON.sub(r"\1", python)


def krl_sync_service(url, revoked_keys, python, paths):
    command = [stable_python(python), paths["program"], "--url", url, "--dest", revoked_keys,
               "--allowed-signers", paths["allowed_signers"]]
    return (MANAGED_HEADER
            + "[Unit]\n"
            "Description=Pull the fleet's signed KRL (fleetca.ssh)\n"
            "Wants=network-online.target\n"
            "After=network-online.target\n"
            "# The timer sets the pace: systemd's start limit must not stop the pulls after a few failures.\n"
            "StartLimitIntervalSec=0\n"
            "\n"
            "[Service]\n"
            "Type=oneshot\n"
            "ExecStart=%s\n"
            "# It downloads from the network as root: it may write the KRL's directory only.\n"
            "ProtectSystem=strict\n"
            "ReadWritePaths=%s\n"
            "ProtectHome=yes\n"
            "PrivateTmp=yes\n"
            "NoNewPrivileges=yes\n"
            % (" ".join(systemd_word(word) for word in command), systemd_word(posix_dirname(revoked_keys))))


def krl_sync_timer(interval):
    return (MANAGED_HEADER
            + "[Unit]\n"
            "Description=Pull the fleet's signed KRL every %s (fleetca.ssh)\n"
            "\n"
            "[Timer]\n"
            "# A pull as soon as the timer starts (at boot, or when the role installs it), then one\n"
            "# every interval after the last one began, a failed one included.\n"
            "OnActiveSec=0\n"
            "OnUnitActiveSec=%s\n"
            "AccuracySec=1s\n"
            "\n"
            "[Install]\n"
            "WantedBy=timers.target\n" % (interval, interval))


def posix_dirname(path):
    return path.rsplit("/", 1)[0] or "/"


def krl_sync_plan(probe, url, interval, signing_public_key, revoked_keys, program, paths, check_mode):
    """What to change on this host for the pull sync (fleetca_ssh_krl_url), by the probe's answer.

    `paths`: where the `program`, the `allowed_signers` file, the `service` and the `timer` units
    go. With a URL: the files to `write` ({path, content, mode}) where they differ (and the
    program's directory, in `directories`, when the program is written), and the timer
    `state` (started; restarted when a unit changed under a running timer, so that the new URL or
    interval holds now). Without: the files to `remove` and whether to `stop` the timer first.
    `daemon_reload` when a unit file changes; `differs` when there is anything to do at all."""
    installed = dict((path, probe["files"].get(path)) for path in paths.values())
    timer = probe["units"].get(KRL_SYNC_TIMER) or {"active": False, "enabled": False}
    units = (paths["service"], paths["timer"])
    plan = {"directories": [], "write": [], "remove": [], "stop": False, "daemon_reload": False, "state": None}
    if not url:
        plan["remove"] = [path for path in paths.values() if installed[path] is not None]
        plan["stop"] = installed[paths["timer"]] is not None and (timer["active"] or timer["enabled"])
        plan["daemon_reload"] = any(path in plan["remove"] for path in units)
    else:
        interval = interval_text(interval).strip()
        wanted = [(paths["program"], program, PROGRAM_MODE),
                  (paths["service"], krl_sync_service(url, revoked_keys, probe["python"], paths), sshd_trust.FILE_MODE),
                  (paths["timer"], krl_sync_timer(interval), sshd_trust.FILE_MODE)]
        # No key yet only in check mode on a new fleet (the input check refuses it otherwise).
        if signing_public_key:
            wanted.insert(1, (paths["allowed_signers"], allowed_signers_content(signing_public_key),
                              sshd_trust.FILE_MODE))
        plan["write"] = [{"path": path, "content": content, "mode": "%04o" % mode} for path, content, mode in wanted
                         if probed_file_differs(installed[path], content.encode("utf-8"), mode)]
        # /usr/local/libexec is not there on every system (Debian's minimal installs lack it).
        if any(item["path"] == paths["program"] for item in plan["write"]):
            plan["directories"] = [posix_dirname(paths["program"])]
        units_written = any(item["path"] in units for item in plan["write"])
        plan["daemon_reload"] = units_written
        # In check mode a timer whose unit is not installed yet cannot be asked about.
        if check_mode and installed[paths["timer"]] is None:
            plan["state"] = None
        elif units_written and timer["active"]:
            plan["state"] = "restarted"
        elif not (timer["active"] and timer["enabled"]):
            plan["state"] = "started"
    plan["differs"] = bool(plan["write"] or plan["remove"] or plan["stop"] or plan["state"])
    return plan
