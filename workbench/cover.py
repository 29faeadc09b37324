"""Which reports a reply bundle covers (crypto/replyentry.py explains the cover).

Every inbox bundle the vault imports names each submission's report, the reporter's public key
and the day; all of them are recorded here, the ones sealed to this vault's group and the ones
sealed to the other group alike. Both groups import the same inbox bundles, so both cover the
same reports: those whose reporter wrote within ``COVER_DAYS`` of the newest submission
imported. A vault upgraded from before the cover knows the other group's older reports only once
their reporters write again; its own reports are filled in from ``reports`` (``_backfill``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto.kdf import subkey
from crypto.replyentry import COVER_DAYS

from . import db

MAC_PURPOSE = b"peluit-cover-mac"


class CoverMismatch(ValueError):
    """An inbox bundle gives a report another reporter key than an earlier one did."""


class CoverTampered(ValueError):
    """A cover row does not match its MAC: changed in the file without the vault key."""


def _mac(mac_key: bytes, report_id: str, reporter_key: bytes, last_day: str) -> str:
    """``mac_key``: ``subkey(vault_key, MAC_PURPOSE)``, derived once per call site."""
    return hashlib.blake2b(f"{report_id}\0{last_day}\0".encode() + bytes(reporter_key),
                           key=mac_key, digest_size=32).hexdigest()


def _set(row: db.CoverReport, vault_key: bytes) -> None:
    row.mac = _mac(subkey(vault_key, MAC_PURPOSE), row.report_id, row.reporter_key,
                   row.last_day)


def record(session: Session, entries: Iterable, vault_key: bytes) -> None:
    """Note each entry's (``.report``, ``.reporter_key``, ``.day``): needs ``db.unlocked``."""
    newest: dict[str, tuple[bytes, str]] = {}
    for e in entries:
        key, day = newest.get(e.report, (e.reporter_key, e.day))
        if key != e.reporter_key:
            raise CoverMismatch(f"report {e.report}: two reporter keys in one bundle")
        newest[e.report] = (key, max(day, e.day))
    for report_id, (key, day) in sorted(newest.items()):
        row = session.get(db.CoverReport, report_id)
        if row is None:
            row = db.CoverReport(report_id=report_id, reporter_key=key, last_day=day)
            _set(row, vault_key)
            session.add(row)
        elif bytes(row.reporter_key) != key:
            # Entries are sealed to this key: a server must not be able to swap it, whichever
            # group the report belongs to.
            raise CoverMismatch(f"report {report_id}: the bundle gives another reporter key "
                                "than the vault knows")
        elif day > row.last_day:
            row.last_day = day
            _set(row, vault_key)
    session.flush()


def _backfill(session: Session, vault_key: bytes) -> None:
    """This vault's own reports that no import recorded yet (a vault from before the cover)."""
    missing = sorted(set(session.scalars(select(db.Report.id)))
                     - set(session.scalars(select(db.CoverReport.report_id))))
    for start in range(0, len(missing), 500):  # SQLite's limit on bound parameters
        part = missing[start:start + 500]
        last = dict(session.execute(select(db.Submission.report_id,
                                           func.max(db.Submission.received_day))
                                    .where(db.Submission.report_id.in_(part))
                                    .group_by(db.Submission.report_id)).all())
        for report in session.scalars(select(db.Report).where(db.Report.id.in_(part))):
            row = db.CoverReport(report_id=report.id, reporter_key=report.reporter_key,
                                 last_day=last.get(report.id, report.received_day))
            _set(row, vault_key)
            session.add(row)
    session.flush()


def covered(session: Session, vault_key: bytes) -> dict[str, bytes]:
    """Report id -> reporter key of every report the next bundle covers: those whose reporter
    wrote within ``COVER_DAYS`` of the newest submission the vault has imported. Counted from
    what was imported, not from the clock: two groups that imported the same bundles cover
    the same reports whenever each exports. Every row's MAC is checked first (CoverTampered);
    the vault's seal holds their number (workbench/trust.py)."""
    _backfill(session, vault_key)
    rows = session.execute(select(db.CoverReport.report_id, db.CoverReport.reporter_key,
                                  db.CoverReport.last_day, db.CoverReport.mac)).all()
    mac_key = subkey(vault_key, MAC_PURPOSE)
    for rid, key, day, mac in rows:
        if not hmac.compare_digest(mac or "", _mac(mac_key, rid, key, day)):
            raise CoverTampered(f"the vault's record of report {rid} was changed outside the "
                                "workbench; refused, nothing was exported")
    if not rows:
        return {}
    newest = max(day for _r, _k, day, _m in rows)
    since = (dt.date.fromisoformat(newest) - dt.timedelta(days=COVER_DAYS)).isoformat()
    return {rid: bytes(key) for rid, key, day, _m in sorted(rows) if day >= since}
