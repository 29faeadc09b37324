"""How many codename logins failed on each day: the one figure about guessing that an admin
sees (gateway admin page and admin log). A day and a count, nothing of any codename or lookup id.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class LoginFailureDay(Base):
    __tablename__ = "login_failure_days"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Set once the day is over and its count went into the gateway's admin log.
    logged: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
