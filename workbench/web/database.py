"""One SQLAlchemy session per request, joined to the request's transaction (pyramid_tm), and
the vault key made current for the request when the visitor's session holds it.

The key tween sits above pyramid_tm on purpose: the commit (where encrypted values are written)
happens inside pyramid_tm, so the key must still be set then."""

from __future__ import annotations

import contextlib
from typing import Any

import zope.sqlalchemy
from nacl.signing import VerifyKey
from pyramid.tweens import INGRESS
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from .. import db, trust
from .security import web_session


def _dbsession(request: Any) -> Any:
    session = request.find_service(sessionmaker)()
    zope.sqlalchemy.register(session, transaction_manager=request.tm)
    return session


def vault_key_tween_factory(handler: Any, registry: Any) -> Any:
    def tween(request: Any) -> Any:
        s = web_session(request)
        key = s.vault_key if s else None
        seal_key = s.unlocked.seal_key if s and s.unlocked and key is None else None
        # Without the vault key (a compliance officer), the trust records are still checked at
        # every request, with the seal's public key their key check vouched for.
        checking = trust.sealing(trust.SealKeys(None, VerifyKey(seal_key))) if seal_key \
            else contextlib.nullcontext()
        with db.unlocked(key), checking:
            return handler(request)
    return tween


def includeme(config: Any) -> None:
    settings = config.registry.settings
    settings["tm.manager_hook"] = "pyramid_tm.explicit_manager"
    config.include("pyramid_tm")
    engine = db.make_engine(settings["workbench.vault"])
    db.create_schema(engine)
    # Services (request.find_service): the engine and the session factory of the vault.
    config.register_service(engine, Engine)
    config.register_service(db.session_factory(engine), sessionmaker)
    config.add_request_method(_dbsession, "dbsession", reify=True)
    config.add_tween("workbench.web.database.vault_key_tween_factory", under=INGRESS)
