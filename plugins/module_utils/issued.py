# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The issuance log as an audit trail: which certificates were issued, to whom, still valid or
not, revoked or not (against a KRL), as fleetca.ssh.issued_info returns them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.fleetca.ssh.plugins.module_utils.certs import format_time, parse_certificate, parse_duration
from ansible_collections.fleetca.ssh.plugins.module_utils.krl import load_krl_file
from ansible_collections.fleetca.ssh.plugins.module_utils.store import MAX_SERIAL, IssuanceLog
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import UINT64_MAX, FleetcaError

STATES = ("valid", "expired", "all")


def time_filters(state, expiring_within, now):
    """IssuanceLog.find's time selectors for `state` and `expiring_within` at `now`."""
    if state not in STATES:
        raise FleetcaError("state must be one of %s, not %r" % (", ".join(STATES), state))
    selectors = {}
    if state == "valid":
        selectors["valid_at"] = now
    elif state == "expired":
        selectors["expired_at"] = now
    if expiring_within is not None:
        if state == "expired":
            raise FleetcaError("expiring_within selects certificates still valid, so not with state=expired")
        selectors.update(valid_at=now, ends_by=now + parse_duration("expiring_within", expiring_within))
    return selectors


def issued_certificates(store, now, key_id=None, principal=None, requester=None, cert_type=None, serial=None,
                        state="valid", expiring_within=None, krl=None):
    """The records of the log at `store` matching every given filter, oldest serial first, each a dict
    (see record_of); with `krl` (a KRL path), each also says whether that KRL revokes it."""
    selectors = time_filters(state, expiring_within, now)
    revocations = None
    if krl is not None:
        loaded = load_krl_file("krl", krl)
        if loaded is None:
            raise FleetcaError("krl: %s does not exist" % krl)
        revocations = loaded[0]
    log = IssuanceLog(store, read_only=True)
    try:
        records = log.find(key_id=key_id, principal=principal, requester=requester, cert_type=cert_type,
                           serial=serial, **selectors)
    finally:
        log.close()
    found = []
    for record in records:
        entry = record_of(record)
        if revocations is not None:
            certificate = parse_certificate("store: certificate %d" % record.serial, record.certificate)
            entry["revoked"] = revocations.check(certificate) is not None
        found.append(entry)
    return found


def _unclamped(epoch):
    """The log keeps `forever` (2^64-1) as SQLite's largest integer."""
    return UINT64_MAX if epoch >= MAX_SERIAL else epoch


def record_of(record):
    """One certificate as issued_info returns it: times in ISO 8601 UTC (`forever`) and epoch seconds."""
    valid_after, valid_before = _unclamped(record.valid_after), _unclamped(record.valid_before)
    return {
        "serial": record.serial,
        "cert_type": record.cert_type,
        "key_id": record.key_id,
        "principals": record.principals,
        "valid_after": format_time(valid_after),
        "valid_before": format_time(valid_before),
        "valid_after_epoch": valid_after,
        "valid_before_epoch": valid_before,
        "requester": record.requester,
        "public_key_fingerprint": record.subject_fingerprint,
        "signing_ca_fingerprint": record.ca_fingerprint,
        "issued_at": format_time(record.issued_at),
    }
