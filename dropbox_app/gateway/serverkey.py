"""The server's signing key and its rotation.

The key lives in ``server_key_file`` (mode 0600). A rotation writes the new key beside it as
``<file>.next`` and records its card as ``pending``. The next inbox bundle is still signed by the
old key, which the workbench already pinned, and carries the new card as ``rotate_to``: the old
key vouches for the new one. Once that bundle has been sent in full, the new key replaces the old
file (whose bytes are overwritten first) and signs from then on, with its own sequence."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.errors import CryptoError
from crypto.identity import ServerKey
from peluit.ground.files import fsync_dir

from ..models.gateway import ServerKeyRecord
from . import adminlog


class ServerKeyError(Exception):
    pass


ROTATION_WAITING = "A key rotation is already waiting for the next inbox bundle."


def next_path(key_file: Path) -> Path:
    return key_file.with_name(key_file.name + ".next")


def load(path: Path) -> ServerKey:
    try:
        return ServerKey.from_bytes(path.read_bytes())
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


def finish_rotation(db: Session, key_file: Path, day: str) -> ServerKey | None:
    """Make the pending key current (after the bundle announcing it went out in full)."""
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
    adminlog.record(db, day, adminlog.GATEWAY, "serverkey.switch",
                    {"retired": old.key_id, "current": new.key_id})
    return new


def history(db: Session) -> list[ServerKeyRecord]:
    return list(db.scalars(select(ServerKeyRecord).order_by(ServerKeyRecord.created_day,
                                                            ServerKeyRecord.state)))
