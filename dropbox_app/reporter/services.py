"""The reporter flows as plain functions: no request objects, so they are easy to test and the
views stay thin."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nacl.public import PrivateKey, PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import codename as codenames
from crypto import replyentry
from crypto.envelope import open_bytes, seal_stream
from crypto.errors import CryptoError
from crypto.kdf import Argon2Params, ReporterKeys, reporter_keys
from peluit.ground.clock import Clock

from .. import routing
from ..db import dialect_insert
from ..ingest import StreamedForm
from ..models import ROW_KIND, AnswerReceipt, Reply, Report, Reporter, Submission, new_id
from ..store import PendingEnvelope, Store
from . import authorship

REPORT_FIELDS = ("category", "what", "who_name", "who_position", "who_unit", "where", "when",
                 "how", "evidence", "concerns")
MIN_WHAT = 20  # characters: the one required field, so that a report says something


def word_languages() -> tuple[str, ...]:
    """The codename word lists this installation has (a development tree may lack one)."""
    out = []
    for lang in codenames.LANGUAGES:
        try:
            codenames.wordlist(lang)
        except (FileNotFoundError, RuntimeError):
            continue
        out.append(lang)
    return tuple(out)


def new_codename(language: str) -> codenames.Codename:
    available = word_languages()
    if language not in available:
        language = available[0]
    return codenames.generate(language)


def derive(codename: codenames.Codename, salt: bytes, params: Argon2Params) -> ReporterKeys:
    return reporter_keys(codename, salt, params)


def find_reporter(db: Session, lookup_id: bytes) -> Reporter | None:
    return db.scalar(select(Reporter).where(Reporter.lookup_id == lookup_id))


UNUSED_REPORTER_DAYS = 7  # a codename issued but never used to send anything is forgotten then


def register_codename(db: Session, clock: Clock, lookup_id: bytes, public_key: PublicKey
                      ) -> Reporter:
    """The reporter row, made when the codename is issued: its lookup id and public key only.
    It lets a first-time reporter whose session ended before sending log in with the codename
    they just wrote down and carry on, and it is what a report form's compose grant names.
    Rows that never got a report are deleted after ``UNUSED_REPORTER_DAYS``."""
    reporter = Reporter(id=new_id(), lookup_id=lookup_id, public_key=bytes(public_key),
                        created_day=clock.day())
    db.add(reporter)
    return reporter


def has_report(db: Session, reporter_id: str) -> bool:
    return db.scalar(select(Report.id).where(Report.reporter_id == reporter_id).limit(1)) \
        is not None


def purge_unused_reporters(db: Session, clock: Clock) -> int:
    import datetime as dt

    from sqlalchemy import delete

    cutoff = (clock.today() - dt.timedelta(days=UNUSED_REPORTER_DAYS)).isoformat()
    used = select(Report.reporter_id)
    res = db.execute(delete(Reporter).where(Reporter.created_day < cutoff,
                                            Reporter.id.not_in(used)))
    return res.rowcount or 0


def seal_small(store: Store, recipients: Sequence[PublicKey], meta: dict, body: bytes
               ) -> PendingEnvelope:
    import io

    pending = store.begin(meta.get("submission") or meta["reply"])
    try:
        seal_stream(io.BytesIO(body), pending.sink, recipients, meta)
    except BaseException:
        pending.discard()
        raise
    return pending


@dataclass
class Filed:
    report: Report
    pendings: list[tuple[Submission, PendingEnvelope]]


def record(db: Session, store: Store, clock: Clock, report: Report, kind: str,
           pending: PendingEnvelope, submission_id: str) -> tuple[Submission, PendingEnvelope]:
    """Complete the envelope and add its row (visible once the transaction commits; the caller
    registers what to do after it, see views). ``kind`` is already in the envelope's sealed
    metadata; the row says only ``submission``."""
    del kind
    size, sha = pending.commit(clock.today())
    sub = Submission(id=submission_id, report_id=report.id, kind=ROW_KIND, member=pending.member,
                     padded_size=size, sha256=sha, created_day=clock.day())
    db.add(sub)
    return sub, pending


def report_body(fields: dict[str, str], language: str, author_key: str | None = None) -> bytes:
    body = {k: fields.get(k, "").strip() for k in REPORT_FIELDS}
    body["language"] = language
    if author_key:  # the proof of authorship's public key (authorship.py), sealed like the rest
        body["author_key"] = author_key
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")


class AlreadyFiled(Exception):
    """This codename has filed its report already (another copy of the form got there first)."""


def _reporter_id(db: Session, clock: Clock, lookup_id: bytes, public_key: PublicKey) -> str:
    """The codename's reporter row (made at issue; made here for a session older than that),
    inserted against the unique lookup id so that parallel requests cannot make two."""
    table = Reporter.__table__
    db.execute(dialect_insert(db)(table)
               .values(id=new_id(), lookup_id=lookup_id, public_key=bytes(public_key),
                       created_day=clock.day())
               .on_conflict_do_nothing(index_elements=[table.c.lookup_id]))
    return db.scalar(select(Reporter.id).where(Reporter.lookup_id == lookup_id))


def _new_report(db: Session, clock: Clock, reporter_id: str, report_id: str,
                route: bytes | None = None) -> Report:
    """Insert the report, or raise AlreadyFiled: ``reports.reporter_id`` is unique, and the
    insert skips on that conflict, so of several copies of the first report sent at once exactly
    one files it. PostgreSQL makes the others wait for that one's commit, then skip; SQLite runs
    them one after the other."""
    table = Report.__table__
    stmt = (dialect_insert(db)(table)
            .values(id=report_id, reporter_id=reporter_id, status="received",
                    created_day=clock.day(), route=route)
            .on_conflict_do_nothing(index_elements=[table.c.reporter_id])
            .returning(table.c.id))
    if db.execute(stmt).scalar_one_or_none() != report_id:
        raise AlreadyFiled()
    report = db.get(Report, report_id)
    assert report is not None
    return report


def file_report(db: Session, store: Store, clock: Clock, recipients: Sequence[PublicKey],
                keys_public: PublicKey, lookup_id: bytes, reporter_id: str | None,
                report_id: str, form: StreamedForm, language: str,
                author_key: str | None = None,
                group: str = routing.INSPECTORATE) -> Filed:
    """The report, its body envelope and a submission per file (and the reporter row, for a
    session opened before codenames were registered at issue). A codename files one report: a
    second one raises AlreadyFiled (later words go to the same report as messages).
    ``recipients`` are ``group``'s, which the report's row keeps sealed to the reporter."""
    if reporter_id is None:
        reporter_id = _reporter_id(db, clock, lookup_id, keys_public)
    report = _new_report(db, clock, reporter_id, report_id,
                         routing.seal(bytes(keys_public), group))
    sub_id = new_id()
    meta = {"v": 1, "kind": "report", "report": report_id, "submission": sub_id}
    body = seal_small(store, recipients, meta, report_body(form.fields, language, author_key))
    done = [record(db, store, clock, report, "report", body, sub_id)]
    done += [record(db, store, clock, report, "file", f.pending, f.submission_id)
             for f in form.files]
    return Filed(report, done)


def add_message(db: Session, store: Store, clock: Clock, recipients: Sequence[PublicKey],
                report: Report, form: StreamedForm, kind: str = "message",
                author_key: str | None = None) -> list[tuple[Submission, PendingEnvelope]]:
    done = []
    text = form.fields.get("text", "").strip()
    in_reply_to = form.fields.get("in_reply_to") or None
    if text or in_reply_to:
        sub_id = new_id()
        meta = {"v": 1, "kind": kind, "report": report.id, "submission": sub_id}
        payload = {"text": text} if kind == "retaliation" else {"text": text,
                                                                 "in_reply_to": in_reply_to}
        if author_key and kind == "message":
            # A report sent on its compose grant alone (the session had ended) had no key to
            # carry; a later message from a live session brings it (authorship.py).
            payload["author_key"] = author_key
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
        done.append(record(db, store, clock, report, kind, seal_small(store, recipients, meta,
                                                                     body), sub_id))
    done += [record(db, store, clock, report, "file", f.pending, f.submission_id)
             for f in form.files]
    return done


@dataclass
class ShownReply:
    id: str
    kind: str
    text: str | None  # None: the envelope would not open (damaged, or not for this key)
    day: str
    was_read: bool
    answered: bool = False
    #: A lead's request to open the reporter's deposited identity ({"request", "deposit"}),
    #: and what the reporter answered (consent, refuse), if anything: see deposits.py.
    escrow: dict | None = None
    escrow_answer: str | None = None
    attestation: Any = None  # crypto.authorship.Attestation: a proof of authorship to sign
    order: int = 0  # the workbench's order of writing (crypto/replyentry.py)
    row: str = ""  # the stored entry that holds it


def receipt_id(key: PrivateKey, reply_id: str) -> str:
    """The id of the receipt for an answer to ``reply_id`` (models/receipts.py): only the
    holder of the reporter's private key can compute it."""
    import hashlib

    return hashlib.blake2b(reply_id.encode(), key=bytes(key), digest_size=32,
                           person=b"peluit-answered").hexdigest()


def mark_answered(db: Session, key: PrivateKey, reply_id: str) -> None:
    from ..models import AnswerReceipt

    rid = receipt_id(key, reply_id)
    if db.get(AnswerReceipt, rid) is None:
        db.add(AnswerReceipt(id=rid))


def forget_answered(db: Session, key: PrivateKey, reply_id: str) -> None:
    from ..models import AnswerReceipt

    receipt = db.get(AnswerReceipt, receipt_id(key, reply_id))
    if receipt is not None:
        db.delete(receipt)


# -- identity in escrow: what a reply asks, and what the reporter answered (deposits.py) --------

ESCROW_DECISIONS = ("consent", "refuse")


def escrow_request_of(body: Any) -> dict[str, str] | None:
    """The ``escrow`` part of a reply's sealed body: a lead's request to open a deposit."""
    part = body.get("escrow") if isinstance(body, dict) else None
    if (isinstance(part, dict) and set(part) == {"request", "deposit"}
            and all(isinstance(v, str) and len(v) == 32 for v in part.values())):
        return {"request": part["request"], "deposit": part["deposit"]}
    return None


def escrow_receipt(key: PrivateKey, reply_id: str, decision: str) -> str:
    return hashlib.blake2b(f"{reply_id}:{decision}".encode(), key=bytes(key), digest_size=32,
                           person=b"peluit-escrow-rc").hexdigest()


def escrow_answered(db: Session, key: PrivateKey, reply_id: str) -> str | None:
    """What this reporter answered to the request in ``reply_id`` (consent, refuse), if any."""
    for decision in ESCROW_DECISIONS:
        if db.get(AnswerReceipt, escrow_receipt(key, reply_id, decision)) is not None:
            return decision
    return None


@dataclass
class Thread:
    """What the workbench sent for one report, opened: the questions and messages, and the
    newest status any entry carries (until one does, the row's: ``received``)."""

    replies: list[ShownReply]
    status: str = "received"


def _open_row(store: Store, r: Reply, report: Report, key: PrivateKey
              ) -> tuple[list[dict], replyentry.Entry | None]:
    """(items, entry) of one stored reply: an entry (crypto/replyentry.py) or, written before
    the cover, an envelope holding one question or message (one item, named after the row).
    ([], None): it does not open."""
    try:
        data = store.read(r.member)
    except OSError:
        return [], None
    if r.kind == replyentry.KIND:
        entry = replyentry.open_entry(data, key, report.id, r.id)
        return (list(entry.items) if entry is not None else []), entry
    try:
        meta, body = open_bytes(data, [key], limit=1024 * 1024)
        if meta.get("report") != report.id or meta.get("reply") != r.id:
            return [], None
        parsed = json.loads(body.decode("utf-8"))
    except (CryptoError, ValueError):
        return [], None
    if not isinstance(parsed, dict):
        return [], None
    return [{**parsed, "id": r.id, "kind": r.kind}], None


def read_thread(db: Session, store: Store, clock: Clock, report: Report, key: PrivateKey
                ) -> Thread:
    """Open every entry of ``report`` in memory and mark them all read (day only): fillers
    and status-only entries too, so what the server sees is the same whoever wrote."""
    from ..models import AnswerReceipt

    shown: dict[str, ShownReply] = {}
    newest: tuple[str, int, str] | None = None  # (day, n, status)
    rows = db.scalars(select(Reply).where(Reply.report_id == report.id)
                      .order_by(Reply.created_day, Reply.id))
    for r in rows:
        was_read = r.read_day is not None
        if r.read_day is None:
            r.read_day = clock.day()
        items, entry = _open_row(store, r, report, key)
        if entry is not None and entry.status in replyentry.STATUSES and (
                newest is None or (r.created_day, entry.status_n) > newest[:2]):
            newest = (r.created_day, entry.status_n, entry.status)
        if not items and entry is None and r.kind != replyentry.KIND:
            items = [{"id": r.id, "kind": r.kind}]  # an old reply that does not open: said so
        for item in items:
            if item["id"] in shown:
                continue  # carried again by a resent bundle
            value = item.get("text")
            escrow = escrow_request_of(item)
            n = item.get("n")
            shown[item["id"]] = ShownReply(
                item["id"], item.get("kind") or "message",
                value if isinstance(value, str) else None, r.created_day, was_read,
                db.get(AnswerReceipt, receipt_id(key, item["id"])) is not None, escrow,
                escrow_answered(db, key, item["id"]) if escrow else None,
                attestation=authorship.attestation_in(item, report.id, key),
                order=n if isinstance(n, int) and not isinstance(n, bool) else 0, row=r.id)
    # By day, then in the order the workbench wrote them.
    ordered = sorted(shown.values(), key=lambda s: (s.day, s.order, s.id))
    # Before the cover, statuses came in the clear onto the report's row.
    return Thread(ordered, newest[2] if newest else report.status)


def replies_for(db: Session, store: Store, clock: Clock, report: Report, key: PrivateKey
                ) -> list[ShownReply]:
    """Decrypt the workbench's questions and messages in memory and mark them read."""
    return read_thread(db, store, clock, report, key).replies


def find_reply(db: Session, store: Store, clock: Clock, reports: Sequence[Report],
               key: PrivateKey, reply_id: str) -> tuple[ShownReply, Report] | None:
    """A question or message of one of ``reports`` by its id, opened; None if none has it."""
    for report in reports:
        for shown in read_thread(db, store, clock, report, key).replies:
            if shown.id == reply_id:
                return shown, report
    return None


def delete_reply(db: Session, store: Store, report: Report, key: PrivateKey,
                 shown: ShownReply) -> None:
    """Take a message the reporter has read off the page.

    Deleting its entry would show the server which entry was real, and so which group wrote
    to this report. Instead every entry of the report is sealed again to the reporter's key, at
    the same length, the message left out of the one that held it: the server sees each entry
    rewritten, as it would for any deletion. The old copies are wiped once the transaction
    commits. A row from before the cover (an envelope with one message) is deleted as before."""
    row = db.get(Reply, shown.row)
    if row is None:
        return
    if row.kind != replyentry.KIND:
        db.delete(row)
        store.delete_after_commit(db, [row.member])
        return
    public = key.public_key
    pendings, old = [], []
    for r in db.scalars(select(Reply).where(Reply.report_id == report.id,
                                            Reply.kind == replyentry.KIND)):
        _items, entry = _open_row(store, r, report, key)
        if entry is None:
            continue  # damaged, or not this reporter's: left as it is
        # Left out wherever it is (a resent bundle may have carried it twice).
        value = replyentry.emptied(entry, shown.id)
        data = replyentry.seal(replyentry.padded(value, entry.length), public, report.id, r.id)
        pending = store.begin()
        pending.sink.write(data)
        pending.commit()
        pendings.append(pending)
        old.append(r.member)
        r.member = pending.member
    db.flush()
    store.settle(db, pendings)
    store.delete_after_commit(db, old)


def sent_days(db: Session, report: Report) -> list[tuple[str, int]]:
    """(day, how many items) of what the reporter sent, oldest first: the reporter's side of
    the conversation. Only that something was sent, and when: the contents are sealed to the
    auditors and this server cannot show them (see the follow-up page)."""
    from sqlalchemy import func

    rows = db.execute(select(Submission.created_day, func.count())
                      .where(Submission.report_id == report.id)
                      .group_by(Submission.created_day).order_by(Submission.created_day))
    return [(day, n) for day, n in rows]


def conversation(replies: list[ShownReply], sent: list[tuple[str, int]]) -> list[dict]:
    """The verifiers' messages and the reporter's sendings in time order (by day; on one day,
    the report first, then the verifiers' messages, then what the reporter sent later)."""
    items = [{"day": day, "who": "you", "count": n, "order": 0 if i == 0 else 2}
             for i, (day, n) in enumerate(sent)]
    items += [{"day": r.day, "who": "verifier", "reply": r, "order": 1} for r in replies]
    return sorted(items, key=lambda i: (i["day"], i["order"]))


def sent_summary(db: Session, report: Report) -> int:
    """How many encrypted items the reporter sent for this report. Not by kind: the server
    does not know the kinds (they are inside the envelopes)."""
    from sqlalchemy import func

    return db.scalar(select(func.count()).select_from(Submission)
                     .where(Submission.report_id == report.id)) or 0


def attestation_of(db: Session, store: Store, clock: Clock, report: Report, key: PrivateKey,
                   reply_id: str) -> Any:
    """The attestation in one message of ``report`` made for this reporter's key, or None."""
    found = find_reply(db, store, clock, [report], key, reply_id)
    return found[0].attestation if found is not None else None
