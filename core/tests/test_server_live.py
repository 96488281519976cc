"""A real uvicorn server on loopback: login, live metrics over WebSocket, history,
Prometheus text, and clear 4xx answers to bad input."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from litestar import Litestar
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from skyport.broker import Broker
from skyport.testing import promtool_problems

from .conftest import ADMIN_PASSWORD, LiveServer, bearer


@pytest.fixture
def http(live_server: LiveServer) -> httpx.Client:
    with httpx.Client(base_url=live_server.url, timeout=10) as client:
        token = client.post(
            "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        ).json()["token"]
        client.cookies.clear()
        client.headers.update(bearer(token))
        yield client


def ws_url(server: LiveServer, path: str = "/ws") -> str:
    return server.url.replace("http://", "ws://") + path


def test_health_needs_no_login_and_reveals_nothing(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.url}/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_status_reports_version_uptime_host_and_plugins(http: httpx.Client) -> None:
    status = http.get("/api/status").json()
    assert status["version"] and status["hostname"] and status["uptime_seconds"] >= 0
    assert status["plugins"]["loaded"] == ["core"] and status["plugins"]["failed"] == []


def test_metrics_arrive_over_websocket_within_two_intervals(
    live_server: LiveServer, http: httpx.Client
) -> None:
    token = http.headers["Authorization"]
    with connect(ws_url(live_server), additional_headers={"Authorization": token}) as ws:
        started = time.monotonic()
        ws.send(json.dumps({"type": "subscribe", "topics": ["metrics"]}))
        messages = []
        while not any(m.get("topic") == "metrics" for m in messages):
            messages.append(json.loads(ws.recv(timeout=2.5)))
        elapsed = time.monotonic() - started
    assert {"type": "subscribed", "topics": ["metrics"]} in messages
    sample = next(m for m in messages if m.get("topic") == "metrics")["data"]
    assert sample["collector"] == "host"
    assert 0 <= sample["data"]["cpu"]["percent"] <= 100
    assert sample["data"]["memory"]["total"] > 0
    assert elapsed < 2 * 1.0 + 0.5  # the settings fixture samples every second


def test_websocket_refuses_unknown_topics_and_missing_scopes(
    live_server: LiveServer, http: httpx.Client
) -> None:
    http.post("/api/roles", json={"name": "nobody", "scopes": ["auth:self"]})
    http.post(
        "/api/users", json={"username": "nina", "password": "nina-password", "role": "nobody"}
    )
    nina = httpx.post(
        f"{live_server.url}/api/auth/login", json={"username": "nina", "password": "nina-password"}
    ).json()["token"]
    with connect(ws_url(live_server), additional_headers=bearer(nina)) as ws:
        ws.send(json.dumps({"type": "subscribe", "topics": ["metrics", "no.such"]}))
        replies = [json.loads(ws.recv(timeout=3)) for _ in range(2)]
    assert {r["type"] for r in replies} == {"error"}
    assert any("needs scope metrics:read" in r["message"] for r in replies)
    assert any("unknown topic" in r["message"] for r in replies)


def test_websocket_frames_are_not_compressed(live_server: LiveServer, http: httpx.Client) -> None:
    token = http.headers["Authorization"]
    with connect(ws_url(live_server), additional_headers={"Authorization": token}) as ws:
        offered = ws.request.headers["Sec-WebSocket-Extensions"] if ws.request else ""
        assert "permessage-deflate" in offered  # offered as browsers do, and declined
        assert "Sec-WebSocket-Extensions" not in (ws.response.headers if ws.response else {})


def test_a_slow_websocket_client_does_not_hold_up_the_others(
    app: Litestar, live_server: LiveServer, http: httpx.Client
) -> None:
    """One client reads nothing: every frame still reaches the other at once, in order;
    the idle one's mailbox drops frames, it is evicted (close code 1013, after the frames
    already on their way), and /metrics counts both."""
    broker: Broker = app.state.broker
    broker.add_topic("test.flood", scope="metrics:read")
    pad = "x" * 64 * 1024  # the idle client's socket buffers fill after some hundred
    token = {"Authorization": http.headers["Authorization"]}
    with (
        connect(ws_url(live_server), additional_headers=token, max_size=None) as fast,
        connect(ws_url(live_server), additional_headers=token, max_size=None) as idle,
    ):
        for ws in (fast, idle):
            ws.send(json.dumps({"type": "subscribe", "topics": ["test.flood"]}))
            assert json.loads(ws.recv(timeout=5))["type"] == "subscribed"
        sent = 0
        while broker.stats().clients_evicted == 0 and sent < 3000:
            broker.publish("test.flood", {"n": sent, "pad": pad})
            assert json.loads(fast.recv(timeout=10))["data"]["n"] == sent
            sent += 1
        received = []
        with pytest.raises(ConnectionClosed) as closed:
            while len(received) <= sent:
                received.append(json.loads(idle.recv(timeout=10))["data"]["n"])
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    assert received == sorted(set(received)) and len(received) < sent
    families = {f.name: f for f in text_string_to_metric_families(http.get("/metrics").text)}
    assert families["skyport_websocket_frames_dropped"].samples[0].value > 0
    assert families["skyport_websocket_clients_evicted"].samples[0].value == 1


def test_websocket_without_credentials_is_refused(live_server: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as refused, connect(ws_url(live_server)):
        pass
    assert refused.value.response.status_code == 403


def test_history_returns_recent_samples(http: httpx.Client) -> None:
    time.sleep(2.2)
    history = http.get("/api/metrics/history", params={"collector": "host", "minutes": 5}).json()
    assert history["collector"] == "host" and history["interval"] == 1.0
    assert len(history["points"]) >= 2
    assert history["points"][0]["ts"] < history["points"][-1]["ts"]
    unknown = http.get("/api/metrics/history", params={"collector": "nope"})
    assert unknown.status_code == 404 and "nope" in unknown.json()["detail"]


def test_prometheus_text_parses_and_has_host_metrics(http: httpx.Client) -> None:
    response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    assert "skyport_host_memory_size_bytes" in families
    cores = [s for s in families["skyport_host_cpu_core_busy_ratio"].samples]
    assert len(cores) >= 1 and all("cpu" in s.labels for s in cores)
    assert promtool_problems(response.text) == []


def test_prometheus_needs_a_token_unless_made_public(live_server: LiveServer) -> None:
    assert httpx.get(f"{live_server.url}/metrics").status_code == 401


def test_bad_input_gets_a_4xx_naming_the_field(http: httpx.Client) -> None:
    missing = http.post("/api/users", json={"username": "x"})
    assert missing.status_code == 400
    assert "password" in json.dumps(missing.json())
    wrong_type = http.post("/api/users", json={"username": "x", "password": 5})
    assert wrong_type.status_code == 400 and "password" in json.dumps(wrong_type.json())
    not_json = http.post(
        "/api/users", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400
    out_of_range = http.get("/api/audit", params={"limit": 100000})
    assert out_of_range.status_code == 400 and "limit" in json.dumps(out_of_range.json())
    for response in (missing, wrong_type, not_json, out_of_range):
        assert "Traceback" not in response.text


def test_unknown_route_is_404_and_wrong_method_is_405(http: httpx.Client) -> None:
    assert http.get("/api/no-such-thing").status_code == 404
    assert http.delete("/api/status").status_code == 405


def test_openapi_schema_lists_core_routes(http: httpx.Client) -> None:
    paths = http.get("/schema/openapi.json").json()["paths"]
    assert {"/api/status", "/api/metrics", "/api/auth/login", "/api/users"} <= set(paths)
