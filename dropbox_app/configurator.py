"""The one base configurator both server apps (reporter, gateway) are built on: the
deployment's configuration, database, store, clock and the security tween."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator

from peluit.ground.clock import Clock

from .config import Config
from .db import make_engine
from .forms import csrf_by_default
from .store import Store


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
    cfg.registry["peluit.config"] = config
    cfg.registry["peluit.store"] = store
    cfg.registry["peluit.engine"] = engine
    the_clock = clock or config.clock()
    if cover:
        cfg.registry["peluit.cover"] = covering.start(engine, store, the_clock)
    cfg.add_request_method(lambda request: the_clock, "clock", reify=True)
    cfg.include(".db")
    cfg.include(".security")
    csrf_by_default(cfg)
    return cfg
