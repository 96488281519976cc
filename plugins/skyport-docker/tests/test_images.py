"""Image endpoints against the real engine: list, inspect, history, tag, remove, prune, pull.

Pulls are tested for real against a tiny registry served on 127.0.0.1 (the
engine trusts loopback registries over plain HTTP), holding one image built
from the static busybox; failures against it (unknown image) and against
Docker Hub (unreachable here) must come back as 4xx with the registry's message.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import re
import secrets
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import docker
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from skyport.testing import bearer, wait_for
from skyport_docker.testing import BUSYBOX

from .conftest import LABEL, user_token

WAIT = 20.0
MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layer() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(BUSYBOX, arcname="bin/busybox")
        for applet in ("sh", "echo", "true"):
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
    return buffer.getvalue()


class Registry:
    """A read-only Docker registry (API v2) serving one repository and tag."""

    def __init__(self, repository: str, tag: str) -> None:
        raw = _layer()
        self.layer = gzip.compress(raw, mtime=0)
        self.config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "config": {"Cmd": ["/bin/sh"], "Labels": dict(LABEL)},
                "rootfs": {"type": "layers", "diff_ids": [_digest(raw)]},
                "history": [{"created_by": "skyport test registry"}],
            }
        ).encode()
        self.manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST_TYPE,
                "config": {
                    "mediaType": "application/vnd.docker.container.image.v1+json",
                    "size": len(self.config),
                    "digest": _digest(self.config),
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                        "size": len(self.layer),
                        "digest": _digest(self.layer),
                    }
                ],
            }
        ).encode()
        self.repository, self.tag = repository, tag
        self.blobs = {_digest(self.config): self.config, _digest(self.layer): self.layer}
        registry = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_HEAD(self) -> None:
                self.answer(head=True)

            def do_GET(self) -> None:
                self.answer(head=False)

            def answer(self, head: bool) -> None:
                status, body, kind = registry.route(self.path)
                self.send_response(status)
                self.send_header("Docker-Distribution-API-Version", "registry/2.0")
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                if status == 200 and body:
                    self.send_header("Docker-Content-Digest", _digest(body))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def image(self) -> str:
        return f"{self.address}/{self.repository}:{self.tag}"

    def route(self, path: str) -> tuple[int, bytes, str]:
        path = path.split("?")[0]
        if path in ("/v2/", "/v2"):
            return 200, b"{}", "application/json"
        manifest = re.fullmatch(r"/v2/(.+)/manifests/([^/]+)", path)
        if (
            manifest
            and manifest.group(1) == self.repository
            and manifest.group(2) in (self.tag, _digest(self.manifest))
        ):
            return 200, self.manifest, MANIFEST_TYPE
        blob = re.fullmatch(r"/v2/(.+)/blobs/(sha256:[0-9a-f]+)", path)
        if blob and blob.group(1) == self.repository and blob.group(2) in self.blobs:
            return 200, self.blobs[blob.group(2)], "application/octet-stream"
        code = "MANIFEST_UNKNOWN" if manifest else "NAME_UNKNOWN"
        error = {"errors": [{"code": code, "message": "no such image in the test registry"}]}
        return 404, json.dumps(error).encode(), "application/json"

    def __enter__(self) -> Registry:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def registry(engine: docker.APIClient) -> Iterator[Registry]:
    with Registry(f"skyport-test/pulled-{secrets.token_hex(3)}", "1") as served:
        yield served
        with contextlib.suppress(docker.errors.NotFound):
            engine.remove_image(served.image, force=True)


def import_image(engine: docker.APIClient, tag: str, labels: dict[str, str]) -> str:
    """A fresh single-layer image (distinct content every call), labelled."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(BUSYBOX, arcname="bin/busybox")
        marker = secrets.token_hex(8).encode()
        info = tarfile.TarInfo("marker")
        info.size = len(marker)
        tar.addfile(info, io.BytesIO(marker))
    repository, _, tag_name = tag.rpartition(":")
    changes = [f"LABEL {k}={v}" for k, v in labels.items()] + [
        'CMD ["/bin/busybox", "sleep", "3600"]'
    ]
    engine.import_image_from_data(
        buffer.getvalue(), repository=repository, tag=tag_name, changes=changes
    )
    return str(engine.inspect_image(tag)["Id"])


@pytest.fixture
def images_made(engine: docker.APIClient) -> Iterator[list[str]]:
    """Image ids or tags a test made, removed afterwards."""
    made: list[str] = []
    yield made
    for ref in reversed(made):
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            engine.remove_image(ref, force=True)


def _receive_until(ws: Any, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        message = ws.receive_json(timeout=max(0.1, deadline - time.monotonic()))
        if predicate(message):
            return message
    raise AssertionError("no matching WebSocket message")


def _ws_headers(api: TestClient[Litestar]) -> dict[str, str]:
    return {"Authorization": api.headers["Authorization"]}


# -- list, inspect, history ---------------------------------------------------------------


def test_list_images_with_tags_filters_and_engine(
    api: TestClient[Litestar], engine: docker.APIClient, test_image: str
) -> None:
    image_id = engine.inspect_image(test_image)["Id"]
    response = api.get("/api/docker/images", params={"filters": f"reference={test_image}"})
    assert response.status_code == 200, response.text
    rows = response.json()
    assert [r["id"] for r in rows] == [image_id]
    row = rows[0]
    assert test_image in row["tags"] and row["engine"] == "local"
    assert row["size"] > 0 and row["created"] > 0
    assert row["containers"] is None or row["containers"] >= 0  # -1 (not counted) is null

    everywhere = api.get("/api/docker/images", params={"engine": "all"}).json()
    assert any(r["id"] == image_id and r["engine"] == "local" for r in everywhere)


def test_inspect_and_history_by_tag_or_id_and_unknown_is_404(
    api: TestClient[Litestar], engine: docker.APIClient, test_image: str
) -> None:
    image_id = engine.inspect_image(test_image)["Id"]
    by_tag = api.get(f"/api/docker/images/{test_image}")
    assert by_tag.status_code == 200, by_tag.text
    assert by_tag.json()["Id"] == image_id
    assert api.get(f"/api/docker/images/{image_id}").json()["RepoTags"] == by_tag.json()["RepoTags"]

    history = api.get(f"/api/docker/images/{test_image}/history")
    assert history.status_code == 200, history.text
    layers = history.json()
    assert layers[0]["id"] == image_id and test_image in layers[0]["tags"]
    assert layers[0]["size"] > 0

    for path in ("skyport-missing/none:1", "skyport-missing/none:1/history"):
        missing = api.get(f"/api/docker/images/{path}")
        assert missing.status_code == 404, missing.text
        assert missing.json()["detail"].lower().count("no such image") == 1, missing.text
        assert "skyport-missing/none" in missing.json()["detail"]
    assert api.delete("/api/docker/images/skyport-missing/none:1").status_code == 404


# -- tag, remove, prune -------------------------------------------------------------------


def test_tag_then_remove_the_tag(
    api: TestClient[Litestar],
    engine: docker.APIClient,
    test_image: str,
    images_made: list[str],
) -> None:
    target = f"skyport-test/busybox:tagged-{secrets.token_hex(3)}"
    images_made.append(target)
    response = api.post(f"/api/docker/images/{test_image}/tag", json={"target": target})
    assert response.status_code == 201, response.text
    assert response.json() == {"source": test_image, "target": target, "engine": "local"}
    assert engine.inspect_image(target)["Id"] == engine.inspect_image(test_image)["Id"]

    removed = api.delete(f"/api/docker/images/{target}")
    assert removed.status_code == 200, removed.text
    assert removed.json() == {"untagged": [target], "deleted": []}
    with pytest.raises(docker.errors.NotFound):
        engine.inspect_image(target)
    assert engine.inspect_image(test_image)  # the other tag keeps the image


@pytest.mark.parametrize("target", ["Bad Name", "UPPER/case:1", "repo:bad tag", "a:b@sha256:00"])
def test_tag_rejects_an_invalid_target_naming_the_field(
    api: TestClient[Litestar], test_image: str, target: str
) -> None:
    response = api.post(f"/api/docker/images/{test_image}/tag", json={"target": target})
    assert response.status_code == 400, response.text
    assert response.json()["extra"] == {"field": "target"}


def test_tag_unknown_image_is_404_and_unknown_action_is_404(
    api: TestClient[Litestar], test_image: str
) -> None:
    response = api.post("/api/docker/images/skyport-missing/none:1/tag", json={"target": "x:1"})
    assert response.status_code == 404 and "skyport-missing/none" in response.json()["detail"]
    other = api.post(f"/api/docker/images/{test_image}/frobnicate", json={"target": "x:1"})
    assert other.status_code == 404


def test_removing_an_image_in_use_is_409(
    api: TestClient[Litestar],
    engine: docker.APIClient,
    images_made: list[str],
    unique: Callable[[str], str],
) -> None:
    tag = f"skyport-test/inuse-{secrets.token_hex(3)}:1"
    image_id = import_image(engine, tag, LABEL)
    images_made.append(image_id)
    container = engine.create_container(
        tag,
        name=unique("user"),
        labels=LABEL,
        host_config=engine.create_host_config(network_mode="none"),
    )
    try:
        conflict = api.delete(f"/api/docker/images/{image_id}")
        assert conflict.status_code == 409, conflict.text
    finally:
        engine.remove_container(container["Id"], force=True)
    removed = api.delete(f"/api/docker/images/{tag}")
    assert removed.status_code == 200, removed.text
    assert image_id in removed.json()["deleted"]


def test_prune_removes_only_matching_dangling_images(
    api: TestClient[Litestar], engine: docker.APIClient, images_made: list[str]
) -> None:
    batch = secrets.token_hex(4)
    tag = f"skyport-test/prune-{batch}:1"
    labels = {**LABEL, "skyport.prune": batch}
    first = import_image(engine, tag, labels)
    second = import_image(engine, tag, labels)  # takes the tag: the first is now dangling
    images_made.extend([first, second])
    assert first != second

    response = api.post(
        "/api/docker/images/prune", params={"filters": f"label=skyport.prune={batch}"}
    )
    assert response.status_code == 200, response.text
    assert first in response.json()["deleted"]
    assert second not in response.json()["deleted"]
    assert engine.inspect_image(second)
    with pytest.raises(docker.errors.NotFound):
        engine.inspect_image(first)

    everything = api.post(
        "/api/docker/images/prune",
        params={"all": "true", "filters": f"label=skyport.prune={batch}"},
    )
    assert everything.status_code == 200
    assert second in everything.json()["deleted"]


# -- pull ---------------------------------------------------------------------------------


def test_pull_with_progress_on_the_websocket(
    api: TestClient[Litestar], engine: docker.APIClient, registry: Registry
) -> None:
    job = f"job-{secrets.token_hex(3)}"
    topic = f"docker.pull:{job}"
    with api.websocket_connect("/ws", headers=_ws_headers(api)) as ws:
        ws.send_json({"type": "subscribe", "topics": [topic]})
        _receive_until(ws, lambda m: m.get("type") == "subscribed")
        response = api.post("/api/docker/images/pull", json={"image": registry.image, "job": job})
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["status"] == "done" and result["job"] == job
        assert result["image_id"] == engine.inspect_image(registry.image)["Id"]
        assert result["total"] == len(registry.layer) == result["current"]

        messages = []
        final = _receive_until(
            ws, lambda m: bool(messages.append(m) or m.get("data", {}).get("status") == "done")
        )
    assert final["data"]["image_id"] == result["image_id"]
    assert any(m["data"]["status"] == "pulling" and m["data"]["layers"] for m in messages)
    statuses = {x["status"] for m in messages for x in m["data"]["layers"]}
    assert "Pull complete" in statuses
    listed = api.get("/api/docker/images", params={"filters": f"reference={registry.image}"})
    assert [r["id"] for r in listed.json()] == [result["image_id"]]


def test_pull_in_the_background_and_a_late_subscriber_sees_the_outcome(
    api: TestClient[Litestar], engine: docker.APIClient, registry: Registry
) -> None:
    started = api.post("/api/docker/images/pull", json={"image": registry.image, "wait": False})
    assert started.status_code == 202, started.text
    job = started.json()["job"]
    assert started.json()["status"] in ("pulling", "done")

    done = wait_for(
        lambda: (
            (got := api.get(f"/api/docker/images/pulls/{job}").json())["status"] != "pulling"
            and got
        ),
        what="the background pull",
    )
    assert (
        done["status"] == "done" and done["image_id"] == engine.inspect_image(registry.image)["Id"]
    )
    with api.websocket_connect("/ws", headers=_ws_headers(api)) as ws:
        ws.send_json({"type": "subscribe", "topics": [f"docker.pull:{job}"]})
        snapshot = _receive_until(ws, lambda m: m.get("topic") == f"docker.pull:{job}")
    assert snapshot["data"]["status"] == "done"
    assert api.get("/api/docker/images/pulls/no-such-job").status_code == 404


def test_pull_of_an_unknown_image_is_404_with_the_registry_message(
    api: TestClient[Litestar], registry: Registry
) -> None:
    image = f"{registry.address}/skyport-test/absent:1"
    job = f"job-{secrets.token_hex(3)}"
    with api.websocket_connect("/ws", headers=_ws_headers(api)) as ws:
        ws.send_json({"type": "subscribe", "topics": [f"docker.pull:{job}"]})
        _receive_until(ws, lambda m: m.get("type") == "subscribed")
        response = api.post("/api/docker/images/pull", json={"image": image, "job": job})
        assert response.status_code == 404, response.text
        assert image in response.json()["detail"]
        assert "not found" in response.json()["extra"]["registry_message"]
        failed = _receive_until(ws, lambda m: m.get("data", {}).get("status") == "error")
    assert "not found" in failed["data"]["error"]


def test_pull_from_an_unreachable_registry_is_4xx_with_its_message(
    api: TestClient[Litestar], engine: docker.APIClient
) -> None:
    image = f"skyport-missing/nothing-{secrets.token_hex(3)}:1"
    with pytest.raises(docker.errors.APIError) as direct:
        engine.pull(image)
    response = api.post("/api/docker/images/pull", json={"image": image})
    assert 400 <= response.status_code < 500, response.text
    assert str(direct.value.explanation) in response.json()["detail"]
    assert response.json()["extra"]["registry_message"] == str(direct.value.explanation)


def test_pull_validates_its_request(api: TestClient[Litestar]) -> None:
    bad_image = api.post("/api/docker/images/pull", json={"image": "Not A Reference"})
    assert bad_image.status_code == 400 and bad_image.json()["extra"] == {"field": "image"}
    bad_job = api.post("/api/docker/images/pull", json={"image": "busybox", "job": "no spaces"})
    assert bad_job.status_code == 400 and bad_job.json()["extra"] == {"field": "job"}


def test_pulled_image_runs_through_the_api(
    api: TestClient[Litestar], engine: docker.APIClient, registry: Registry
) -> None:
    """``run`` pulls a missing image itself, from the registry."""
    response = api.post(
        "/api/docker/run",
        json={
            "image": registry.image,
            "command": ["echo", "pulled"],
            "network_mode": "none",
            "labels": LABEL,
        },
    )
    assert response.status_code == 201, response.text
    try:
        lines = wait_for(
            lambda: api.get(f"/api/docker/containers/{response.json()['id']}/logs").json()["lines"],
            what="the pulled image's output",
        )
        assert lines == [{"stream": "stdout", "line": "pulled"}]
    finally:
        engine.remove_container(response.json()["id"], force=True)


def test_image_scopes(api: TestClient[Litestar], test_image: str) -> None:
    viewer = bearer(user_token(api, "viewer"))
    assert api.get("/api/docker/images", headers=viewer).status_code == 200
    assert api.get(f"/api/docker/images/{test_image}", headers=viewer).status_code == 200
    for method, path, body in [
        ("post", "/api/docker/images/pull", {"image": "busybox"}),
        ("post", f"/api/docker/images/{test_image}/tag", {"target": "x:1"}),
        ("delete", f"/api/docker/images/{test_image}", None),
        ("post", "/api/docker/images/prune", None),
    ]:
        denied = api.request(method, path, json=body, headers=viewer)
        assert denied.status_code == 403, path
        assert denied.json()["extra"]["missing_scope"] == "docker:write"
