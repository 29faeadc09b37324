"""The server's signing key and its rotation, with the workbench's acknowledgment.

The key lives in ``server_key_file`` (mode 0600). A rotation writes the new key beside it as
``<file>.next`` and records its card as ``pending``. Every inbox bundle from then on is still
signed by the old key, which the workbench already pinned, and carries the new card as
``rotate_to``: the old key vouches for the new one, again and again, so a lost or cut bundle
only delays the hand-over. The old key stays valid and keeps signing until a reply bundle,
signed by an enrolled workbench member, names the new key as the one its vault now trusts
(``server_key`` in the reply body): only then (``confirm``) does the new key replace the old file
(whose bytes are overwritten first) and sign, with its own sequence. No re-pinning by hand.

``peluit server-key announce OUT`` writes an announcement (an inbox bundle signed by the old key
with ``rotate_to`` and no submissions) for a workbench that cannot take a download now.
``peluit backup`` carries the pending key, sealed like the current one (dropbox_app/backup.py)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.bundle import Manifest
from crypto.errors import CryptoError
from crypto.identity import ServerKey
from peluit.ground.errors import UserError
from peluit.ground.files import fsync_dir
from peluit.ground.i18n import N_

from ..models.gateway import ServerKeyRecord
from ..store import read_noatime
from . import adminlog


class ServerKeyError(UserError):
    pass


ROTATION_WAITING = N_("A key rotation is already waiting for a workbench to confirm the new key "
                      "in a reply bundle.")


def next_path(key_file: Path) -> Path:
    return key_file.with_name(key_file.name + ".next")


def load(path: Path) -> ServerKey:
    try:
        # Read without stamping the file's access time: it would date an auditor's transfer.
        return ServerKey.from_bytes(read_noatime(path))
    except FileNotFoundError:
        raise ServerKeyError(f"no server key at {path}") from None
    except OSError as exc:
        raise ServerKeyError(f"cannot read the server key {path}: {exc.strerror}") from None
    except CryptoError as exc:
        raise ServerKeyError(f"{path}: {exc}") from None


def pending(key_file: Path) -> ServerKey | None:
    nxt = next_path(key_file)
    return load(nxt) if nxt.exists() else None


def _record(db: Session, key: ServerKey, state: str, day: str) -> ServerKeyRecord:
    row = db.get(ServerKeyRecord, key.key_id)
    if row is None:
        card = key.card()
        row = ServerKeyRecord(key_id=key.key_id, card=card.to_bytes(),
                              fingerprint=card.fingerprint, state=state, created_day=day)
        db.add(row)
    else:
        row.state = state
    return row


def _write_private(path: Path, data: bytes) -> None:
    from peluit.ground.files import write_atomic

    write_atomic(path, data)


def rotate(db: Session, key_file: Path, day: str, *, actor: str) -> ServerKey:
    """Create the next key. Refused while a rotation is still waiting for its bundle: the
    workbench must learn each key from the one before it, without gaps."""
    current = load(key_file)
    if next_path(key_file).exists():
        raise ServerKeyError(ROTATION_WAITING)
    new = ServerKey.generate(current.name)
    _write_private(next_path(key_file), new.to_bytes())
    _record(db, current, "current", day)
    _record(db, new, "pending", day)
    db.flush()
    adminlog.record(db, day, actor, "serverkey.rotate", {
        "current": current.key_id, "next": new.key_id, "fingerprint": new.card().fingerprint})
    return new


def confirm(db: Session, key_file: Path, key_id: str | None, day: str,
            confirmed_by: str) -> ServerKey | None:
    """A reply bundle signed by ``confirmed_by`` (an enrolled auditor key) says its vault
    trusts ``key_id``: if that is the pending key, it takes over now. Anything else (the
    current key, an old workbench that sends no key id) leaves the rotation waiting."""
    new = pending(key_file)
    if new is None or key_id != new.key_id:
        return None
    return finish_rotation(db, key_file, day, confirmed_by=confirmed_by)


def finish_rotation(db: Session, key_file: Path, day: str,
                    confirmed_by: str | None = None) -> ServerKey | None:
    """Make the pending key current (once a workbench confirmed it: ``confirm``)."""
    new = pending(key_file)
    if new is None:
        return None
    old = load(key_file)
    # Hold the old file open across the rename so its bytes can still be overwritten once the
    # new key is safely in place (best effort: a journaling or copy-on-write file system may
    # keep old blocks). A crash at any point leaves one complete key under the file's name.
    with key_file.open("r+b") as f:
        os.replace(next_path(key_file), key_file)
        fsync_dir(key_file.parent)
        size = os.fstat(f.fileno()).st_size
        f.write(b"\0" * size)
        f.flush()
        os.fsync(f.fileno())
    old_row = _record(db, old, "retired", day)
    old_row.retired_day = day
    _record(db, new, "current", day)
    db.flush()
    details = {"retired": old.key_id, "current": new.key_id}
    if confirmed_by is not None:
        details["confirmed_by"] = confirmed_by
    adminlog.record(db, day, adminlog.GATEWAY, "serverkey.switch", details)
    return new


def announcement(db: Session, key_file: Path, deployment: str, today: dt.date, *,
                 actor: str) -> tuple[Manifest, ServerKey]:
    """The manifest of an inbox bundle that only announces the waiting key: signed by the
    current key, with the next inbox sequence number and the admin log, no submissions."""
    from . import inbox, sequences

    new = pending(key_file)
    if new is None:
        raise ServerKeyError("no key rotation is waiting: nothing to announce")
    signer = load(key_file)
    seq = sequences.take_next(db, signer.key_id)
    adminlog.record(db, today.isoformat(), actor, "serverkey.announce", {
        "seq": seq, "server_key": signer.key_id, "next": new.key_id})
    manifest = inbox.inbox_manifest([], deployment, signer, seq, rotate_to=new.card(today),
                                    today=today, admin_log=adminlog.for_bundle(db))
    return manifest, signer


def history(db: Session) -> list[ServerKeyRecord]:
    return list(db.scalars(select(ServerKeyRecord).order_by(ServerKeyRecord.created_day,
                                                            ServerKeyRecord.state)))
