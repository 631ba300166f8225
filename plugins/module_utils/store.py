# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The issuance log: a SQLite file on the CA host recording every certificate signed.

Serials are allocated here, inside the same write transaction that records the
certificates, so concurrent signers (forks delegating to one CA host) never
share a serial and a serial is never handed out without its record.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import pathlib
import sqlite3
import time
from json.encoder import encode_basestring_ascii

from ansible_collections.fleetca.ssh.plugins.module_utils.keys import fingerprint_sha256
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

SCHEMA_VERSION = 1
BUSY_TIMEOUT_SECONDS = 120

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS certificates (
    serial INTEGER NOT NULL,
    ca_fingerprint TEXT NOT NULL,
    ca_public_key TEXT NOT NULL,
    cert_type TEXT NOT NULL,
    key_id TEXT NOT NULL,
    principals TEXT NOT NULL,
    valid_after INTEGER NOT NULL,
    valid_before INTEGER NOT NULL,
    subject_fingerprint TEXT NOT NULL,
    requester TEXT,
    issued_at INTEGER NOT NULL,
    certificate TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS certificate_principals (
    serial INTEGER NOT NULL,
    ca_fingerprint TEXT NOT NULL,
    principal TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS certificates_by_serial ON certificates (ca_fingerprint, serial);
CREATE INDEX IF NOT EXISTS certificates_by_key_id ON certificates (key_id);
CREATE INDEX IF NOT EXISTS certificates_by_requester ON certificates (requester);
CREATE INDEX IF NOT EXISTS principals_by_name ON certificate_principals (principal);
"""

# SQLite integers are signed 64-bit: allocated serials stay below 2^63, and a
# caller-chosen serial above it is stored in two's complement (see _to_sql).
MAX_SERIAL = 2 ** 63 - 1


class IssuanceRecord:
    """One row of the log."""

    FIELDS = ("serial", "ca_fingerprint", "ca_public_key", "cert_type", "key_id", "principals",
              "valid_after", "valid_before", "subject_fingerprint", "requester", "issued_at",
              "certificate")

    def __init__(self, **values):
        for name in self.FIELDS:
            setattr(self, name, values[name])


class IssuanceLog:
    """Open (creating if needed, mode 0600) the log at `path`; with `read_only`, an existing one
    only, which nothing done through this object can change."""

    def __init__(self, path, read_only=False):
        self.path = path
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise FleetcaError("store: directory %s does not exist" % directory)
        if os.path.isdir(path):
            raise FleetcaError("store: %s is a directory" % path)
        if read_only:
            self._db = self._open_read_only(path)
            return
        if not os.path.exists(path):
            # create it private before sqlite opens it with the umask's mode
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        try:
            self._db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
            # one transaction: a new log costs one sync, not one per statement
            self._db.executescript("BEGIN IMMEDIATE;\n%s"
                                   "INSERT OR IGNORE INTO meta VALUES ('schema_version', '%d');\n"
                                   "INSERT OR IGNORE INTO meta VALUES ('next_serial', '1');\n"
                                   "COMMIT;" % (SCHEMA, SCHEMA_VERSION))
        except sqlite3.DatabaseError as exc:
            raise FleetcaError("store: %s is not a usable issuance log: %s" % (path, exc))

    @staticmethod
    def _open_read_only(path):
        if not os.path.exists(path):
            raise FleetcaError("store: %s does not exist (no certificate was ever issued there)" % path)
        try:
            db = sqlite3.connect(pathlib.Path(os.path.abspath(path)).as_uri() + "?mode=ro", uri=True,
                                 timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
            db.execute("SELECT 1 FROM certificates LIMIT 1").fetchall()
        except sqlite3.DatabaseError as exc:
            raise FleetcaError("store: %s is not a usable issuance log: %s" % (path, exc))
        return db

    def close(self):
        self._db.close()

    def issue(self, sign_batch, count):
        """Allocate `count` serials, call `sign_batch(serials)` and record what it returns.

        `sign_batch` returns (certificate, requester) pairs; the allocation and the
        records commit together, under SQLite's write lock, or not at all.
        """
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            first = self._next_serial()
            if first + count - 1 > MAX_SERIAL:
                raise FleetcaError("store: serials exhausted")
            issued = sign_batch(list(range(first, first + count)))
            self._record(issued)
            db.execute("UPDATE meta SET value = ? WHERE name = 'next_serial'", (str(first + count),))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return [certificate for certificate, _requester in issued]

    def record(self, issued):
        """Record certificates signed with serials chosen by the caller."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            self._record(issued)
            highest = max([c.serial for c, _r in issued if c.serial < MAX_SERIAL] or [0])
            if highest >= self._next_serial():
                db.execute("UPDATE meta SET value = ? WHERE name = 'next_serial'", (str(highest + 1),))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _next_serial(self):
        return int(self._db.execute("SELECT value FROM meta WHERE name = 'next_serial'").fetchone()[0])

    def _record(self, issued):
        now = int(time.time())
        rows, principal_rows = [], []
        ca_columns = {}  # a batch has one CA: its line once, not once per certificate
        for certificate, requester in issued:
            ca = certificate.signature_key
            if ca not in ca_columns:
                ca_columns[ca] = (ca.fingerprint, ca.to_line(""))
            ca_fingerprint, ca_line = ca_columns[ca]
            serial = _to_sql(certificate.serial)
            rows.append((serial, ca_fingerprint, ca_line, certificate.type_name, certificate.key_id,
                         _principals_column(certificate.principals), _clamp(certificate.valid_after),
                         _clamp(certificate.valid_before), certificate.public_key.fingerprint,
                         requester, now, certificate.to_line("")))
            principal_rows.extend((serial, ca_fingerprint, p) for p in certificate.principals)
        self._db.executemany("INSERT INTO certificates VALUES (%s)" % ", ".join("?" * 12), rows)
        self._db.executemany("INSERT INTO certificate_principals VALUES (?, ?, ?)", principal_rows)

    def find(self, key_id=None, principal=None, requester=None, ca_fingerprint=None, cert_type=None,
             serial=None, valid_at=None, expired_at=None, ends_by=None):
        """Records matching every given selector, by serial: exact matches, and in time
        `valid_at` (valid then), `expired_at` (no longer valid then), `ends_by` (ending no later)."""
        clauses, args = [], []
        for column, value in (("key_id", key_id), ("requester", requester), ("ca_fingerprint", ca_fingerprint),
                              ("cert_type", cert_type)):
            if value is not None:
                clauses.append("c.%s = ?" % column)
                args.append(value)
        if serial is not None:
            clauses.append("c.serial = ?")
            args.append(_to_sql(serial))
        if principal is not None:
            clauses.append("EXISTS (SELECT 1 FROM certificate_principals p WHERE p.serial = c.serial"
                           " AND p.ca_fingerprint = c.ca_fingerprint AND p.principal = ?)")
            args.append(principal)
        if valid_at is not None:
            clauses.append("c.valid_after <= ? AND ? < c.valid_before")
            args.extend((_clamp(valid_at), _clamp(valid_at)))
        if expired_at is not None:
            clauses.append("c.valid_before <= ?")
            args.append(_clamp(expired_at))
        if ends_by is not None:
            clauses.append("c.valid_before <= ?")
            args.append(_clamp(ends_by))
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        cursor = self._db.execute(
            "SELECT %s FROM certificates c%s" % (", ".join("c." + f for f in IssuanceRecord.FIELDS), where), args)
        # sorted here, not in SQL: serials from 2^63 on are stored negative (see _to_sql)
        return sorted((self._to_record(row) for row in cursor), key=lambda record: record.serial)

    def expired_serials(self, now):
        """Serials that can only match expired certificates, as (by CA fingerprint, any CA):
        a dict CA fingerprint -> the serials whose every certificate of that CA has
        `valid_before` <= `now` (sshd refuses a certificate from `valid_before` on), and the
        serials whose every certificate, whatever its CA, has (lists, in no particular order)."""
        by_ca = {}
        for ca_fingerprint, serial in self._db.execute(
                "SELECT ca_fingerprint, serial FROM certificates GROUP BY ca_fingerprint, serial"
                " HAVING MAX(valid_before) <= ?", (_clamp(now),)):
            by_ca.setdefault(ca_fingerprint, []).append(_from_sql(serial))
        any_ca = [_from_sql(serial) for (serial,) in self._db.execute(
            "SELECT serial FROM certificates GROUP BY serial HAVING MAX(valid_before) <= ?", (_clamp(now),))]
        return by_ca, any_ca

    @staticmethod
    def _to_record(row):
        values = dict(zip(IssuanceRecord.FIELDS, row))
        values["principals"] = json.loads(values["principals"])
        values["serial"] = _from_sql(values["serial"])
        return IssuanceRecord(**values)


def select_issued(log, selectors, ca_blob=b""):
    """Issuance log records matched by `issued` selectors ({key_id|principal|host: X}).

    `log` is an IssuanceLog. Each selector must match at least one
    certificate (a typo must not pass silently); with a CA given, only that
    CA's certificates count.
    """
    fields = {"key_id": "key_id", "principal": "principal", "host": "requester"}
    ca_fingerprint = fingerprint_sha256(ca_blob) if ca_blob else None
    records = []
    for index, selector in enumerate(selectors):
        given = [k for k, v in selector.items() if v not in (None, "")] if isinstance(selector, dict) else []
        if len(given) != 1 or given[0] not in fields:
            raise FleetcaError("issued[%d]: give exactly one of key_id, principal or host, got %r"
                               % (index, selector))
        name = given[0]
        found = log.find(ca_fingerprint=ca_fingerprint, **{fields[name]: selector[name]})
        if not found:
            raise FleetcaError("issued[%d]: no certificate in the issuance log has %s %r%s"
                               % (index, name, selector[name], " from ca_public_key" if ca_blob else ""))
        records.extend(found)
    return records


def _principals_column(principals):
    """`json.dumps(principals)`, character for character, at a third of its cost (once per certificate)."""
    return "[%s]" % ", ".join([encode_basestring_ascii(principal) for principal in principals])


def _clamp(value):
    """Validity bounds: `forever` (2^64-1) is kept as the largest SQLite integer."""
    return min(value, MAX_SERIAL)


def _to_sql(serial):
    return serial if serial <= MAX_SERIAL else serial - 2 ** 64


def _from_sql(serial):
    return serial if serial >= 0 else serial + 2 ** 64
