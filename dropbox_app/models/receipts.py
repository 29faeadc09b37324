"""``answer_receipts``: which of the workbench's questions a reporter has answered, readable
only with the reporter's key.

Each row's id is keyed BLAKE2b of the question's id under the reporter's X25519 private key
(which exists only in the reporter's session, derived from the codename). With the key, the
follow-up page marks a question "answered"; without it, a seized database shows a count of
opaque ids that belong to no question, report or day. (A row saying "question Q was answered"
would date the answer among the reporter's submissions, which keep their kind inside the
envelope for the same reason.)"""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class AnswerReceipt(Base):
    __tablename__ = "answer_receipts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
