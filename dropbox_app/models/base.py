"""Declarative base with stable constraint names (so Alembic migrations can name them)."""

from __future__ import annotations

import secrets

from sqlalchemy import MetaData, String
from sqlalchemy.orm import DeclarativeBase, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def new_id() -> str:
    """A random id: 16 bytes from the OS CSPRNG as 32 hex characters. Ids carry no order and
    no time, unlike autoincrement integers, which would tell who came before whom."""
    return secrets.token_hex(16)


def id_column(**kw):
    return mapped_column(String(32), primary_key=True, default=new_id, **kw)


def day_column(nullable: bool = False):
    """A date at day granularity, ``YYYY-MM-DD``."""
    return mapped_column(String(10), nullable=nullable)
