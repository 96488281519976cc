"""Layered settings: defaults < file < environment < flags, and clear errors."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from skyport.config import ConfigError, load_settings, plugin_settings


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_bind_to_loopback_port_8080() -> None:
    settings = load_settings(environ={})
    assert (settings.server.host, settings.server.port) == ("127.0.0.1", 8080)
    assert settings.metrics.interval == 2.0
    assert settings.database_url.startswith("sqlite+aiosqlite:///")


def test_file_then_environment_then_flags_take_precedence(tmp_path: Path) -> None:
    config = write(
        tmp_path / "c.yaml", "server:\n  port: 9001\n  host: 127.0.0.2\nmetrics:\n  interval: 3\n"
    )
    from_file = load_settings(str(config), environ={})
    assert (from_file.server.port, from_file.server.host) == (9001, "127.0.0.2")
    from_env = load_settings(str(config), environ={"SKYPORT_SERVER__PORT": "9002"})
    assert (from_env.server.port, from_env.server.host) == (9002, "127.0.0.2")
    from_flags = load_settings(
        str(config), overrides={"server": {"port": 9003}}, environ={"SKYPORT_SERVER__PORT": "9002"}
    )
    assert from_flags.server.port == 9003
    assert from_flags.metrics.interval == 3


def test_config_file_is_found_in_the_user_config_dir_and_home_dot_skyport(
    tmp_path: Path,
) -> None:
    write(Path.home() / ".config" / "skyport" / "config.yaml", "server:\n  port: 7001\n")
    assert load_settings(environ={}).server.port == 7001
    write(Path.home() / ".skyport" / "config.yaml", "server:\n  port: 7002\n")
    assert load_settings(environ={}).server.port == 7002


def test_skyport_config_env_points_at_another_file(tmp_path: Path) -> None:
    config = write(tmp_path / "elsewhere.yaml", "server:\n  port: 7003\n")
    assert load_settings(environ={"SKYPORT_CONFIG": str(config)}).server.port == 7003


def test_short_environment_names(tmp_path: Path) -> None:
    settings = load_settings(
        environ={
            "SKYPORT_DATA_DIR": str(tmp_path / "d"),
            "SKYPORT_DISABLE_PLUGINS": "docker, pm2",
            "SKYPORT_DATABASE_URL": "postgresql+asyncpg://u@127.0.0.1/db",
        }
    )
    assert settings.data_path == tmp_path / "d"
    assert settings.plugins.disabled == ["docker", "pm2"]
    assert settings.database_url == "postgresql+asyncpg://u@127.0.0.1/db"


def test_invalid_value_names_key_value_and_expectation(tmp_path: Path) -> None:
    config = write(tmp_path / "bad.yaml", "server:\n  port: eighty\n")
    with pytest.raises(ConfigError) as error:
        load_settings(str(config), environ={})
    message = str(error.value)
    assert str(config) in message
    assert "server.port" in message and "'eighty'" in message and "int" in message


def test_out_of_range_value_is_explained(tmp_path: Path) -> None:
    config = write(tmp_path / "bad.yaml", "metrics:\n  interval: 10\n")
    with pytest.raises(ConfigError, match=r"metrics\.interval = 10: expected `float` <= 5"):
        load_settings(str(config), environ={})


def test_unknown_key_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    config = write(tmp_path / "typo.yaml", "server:\n  prot: 1\n")
    with pytest.raises(ConfigError, match=r"unknown key 'server\.prot' \(known keys: host, port"):
        load_settings(str(config), environ={})


def test_broken_yaml_and_missing_file_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(str(write(tmp_path / "x.yaml", "server: [1, 2\n")), environ={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(str(tmp_path / "missing.yaml"), environ={})


class GreeterSettings(msgspec.Struct):
    greeting: str = "hello"
    repeat: int = 1


def test_plugin_section_is_validated_against_its_type(tmp_path: Path) -> None:
    config = write(tmp_path / "p.yaml", "greeter:\n  repeat: 3\n")
    settings = load_settings(str(config), environ={"SKYPORT_GREETER__GREETING": "hi"})
    assert plugin_settings(settings, "greeter", GreeterSettings) == GreeterSettings("hi", 3)
    bad = load_settings(str(write(tmp_path / "b.yaml", "greeter:\n  repeat: many\n")), environ={})
    with pytest.raises(ConfigError, match=r"greeter\.repeat = 'many'"):
        plugin_settings(bad, "greeter", GreeterSettings)
