"""The daemon's life: pm2 missing, the daemon killed under SkyPort, started again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from litestar.testing import TestClient

from skyport.config import Settings
from skyport.testing import ADMIN_PASSWORD, bearer, login

from .conftest import alive, daemon_pid, make_app, pm2_settings, rows_named, start_app, stop_daemon


def test_no_pm2_installed_is_a_503_saying_how_to_install_it(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    app = make_app(make_settings, home=str(tmp_path / "pm2"), bin=str(tmp_path / "no-pm2"))
    with TestClient(app) as client:
        client.headers.update(bearer(login(client, "admin", ADMIN_PASSWORD)))
        answer = client.get("/api/pm2/list")
        assert answer.status_code == 503
        assert "npm install -g pm2" in answer.json()["detail"]
        assert answer.json()["extra"] == {"backend": "pm2"}
        # the collector never starts a daemon: it reports none
        assert client.get("/api/metrics").json()["collectors"]["pm2"]["daemon_up"] is False
    assert not (tmp_path / "pm2" / "rpc.sock").exists()


def test_a_killed_daemon_is_a_clear_503_then_is_reconnected(
    daemon: Path,
    scripts: Path,
    make_settings: Callable[..., Settings],
    unique: Callable[[str], str],
) -> None:
    """One server starts daemons (the default), one is told not to: both recover."""
    starting = make_app(make_settings, **pm2_settings(daemon))
    waiting = make_app(make_settings, **pm2_settings(daemon, start_daemon=False))
    with TestClient(starting) as api, TestClient(waiting) as other:
        token = bearer(login(api, "admin", ADMIN_PASSWORD))
        api.headers.update(token)
        other.headers.update(token)
        name = unique("survivor")
        start_app(api, script=str(scripts / "logger.js"), name=name)
        assert [r["name"] for r in other.get("/api/pm2/list").json()] == [name]
        first = daemon_pid(daemon)
        assert first is not None

        stop_daemon(daemon)  # SIGTERM: pm2 stops its apps and exits
        assert not alive(first)
        refused = other.get("/api/pm2/list")
        assert refused.status_code == 503
        assert "not running" in refused.json()["detail"] and str(daemon) in refused.json()["detail"]

        assert api.get("/api/pm2/list").json() == []  # started a new daemon, reconnected
        second = daemon_pid(daemon)
        assert second is not None and second != first and alive(second)
        start_app(api, script=str(scripts / "logger.js"), name=name)
        assert rows_named(other, name)[0]["status"] == "online"  # reconnected, no restart
