"""The one base configurator both server apps (reporter, gateway) are built on: the
deployment's configuration, database, store, clock and the security tween.

Services (``request.find_service(<class>)``): ``Config``, ``Store``, ``Clock`` (also
``request.clock``) here; the reporter app adds ``ReporterSettings``, ``KdfGate``,
``LoginBudget`` and ``Landing``; the gateway ``PassphraseHasher``, ``SessionPolicy`` and
``KdfGate``. The engine is the setting ``peluit.engine`` (dropbox_app/db.py)."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator

from peluit.ground.clock import Clock
from peluit.ground.services import replace_service, service

from .config import Config
from .db import make_engine
from .forms import csrf_by_default
from .store import Store

__all__ = ["base_configurator", "replace_service", "service"]  # the last two: peluit/ground


def base_configurator(config: Config, *, engine: Any = None, clock: Clock | None = None,
                      cover: bool = False) -> Configurator:
    """What both apps share: configuration, database, store, clock and the security tween.
    ``cover`` starts the cover writer (dropbox_app/cover.py; ``peluit serve`` does)."""
    from . import cover as covering

    engine = engine if engine is not None else make_engine(config.database_url)
    store = Store(config.store_dir)
    store.ensure()
    covering.keep_open(engine)
    settings = {"peluit.config": config, "peluit.engine": engine,
                "tm.manager_hook": "pyramid_tm.explicit_manager"}
    cfg = Configurator(settings=settings)
    # The capabilities views use are services (pyramid_services), found by their class:
    # request.find_service(Store); tests register fakes the same way.
    cfg.include("pyramid_services")
    cfg.register_service(config, Config)
    cfg.register_service(store, Store)
    the_clock = clock or config.clock()
    cfg.register_service(the_clock, Clock)
    if cover:
        cfg.register_service(covering.start(engine, store, the_clock), covering.CoverWriter)
    cfg.add_request_method(lambda request: request.find_service(Clock), "clock", reify=True)
    cfg.include(".db")
    cfg.include(".security")
    csrf_by_default(cfg)
    return cfg
