from __future__ import annotations

from pathlib import Path

import pytest

from dropbox_app.config import ConfigError, initialise, load


def test_initialise_writes_a_loadable_deployment(tmp_path: Path):
    path = initialise(tmp_path / "d")
    cfg = load(path)
    assert cfg.reporter_listen.host == "127.0.0.1" and cfg.reporter_listen.port == 8080
    assert len(cfg.salt()) == 32
    assert cfg.store_dir == (tmp_path / "d" / "store").resolve()
    assert cfg.database_url == f"sqlite:///{(tmp_path / 'd' / 'peluit.sqlite').resolve()}"
    assert (path.stat().st_mode & 0o777) == 0o600
    with pytest.raises(ConfigError, match="refusing to overwrite"):
        initialise(tmp_path / "d")


@pytest.mark.parametrize("listen", ["0.0.0.0:8080", "192.168.1.2:80", "[::]:8080",
                                    "example.org:80", "10.0.0.1:1"])
def test_non_loopback_listen_is_refused(tmp_path: Path, listen: str):
    path = initialise(tmp_path / "d")
    text = path.read_text().replace('listen = "127.0.0.1:8080"', f'listen = "{listen}"')
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"loopback|IP address"):
        load(path)


@pytest.mark.parametrize("listen", ["127.0.0.1:9", "[::1]:8080", "localhost:1234"])
def test_loopback_listen_is_accepted(tmp_path: Path, listen: str):
    path = initialise(tmp_path / "d")
    path.write_text(path.read_text().replace('"127.0.0.1:8080"', f'"{listen}"'))
    assert load(path).reporter_listen.port == int(listen.rsplit(":", 1)[1])


@pytest.mark.parametrize("edit, message", [
    (('argon2 = { t = 3, m = 65536, p = 1 }', 'argon2 = { t = 1, m = 8192, p = 1 }'), "weaker"),
    (('default_language = "id"', 'default_language = "fr"'), "default_language"),
    (('categories = [', 'categories = ["bribery", '), "categories"),
    (('max_upload_bytes = 524288000', 'max_upload_bytes = "big"'), "max_upload_bytes"),
    (('deployment_id = "', 'deployment_id = "zz'), "deployment_id"),
    (('[reporter]', '[reporter\n'), "TOML"),
])
def test_bad_settings_give_one_clear_reason(tmp_path: Path, edit, message):
    path = initialise(tmp_path / "d")
    path.write_text(path.read_text().replace(*edit))
    with pytest.raises(ConfigError, match=message):
        load(path)


def test_missing_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="peluit init"):
        load(tmp_path / "nope.toml")
