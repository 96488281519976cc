"""The marketplace on two nodes sharing one PostgreSQL: the catalog is read by one node (the
one leading ``marketplace.refresh``) and served by both.

The catalogs are real (``shared/data/catalogs``), served by a web server on 127.0.0.1
that counts the requests for each file. The last test kills the leader.
"""

from __future__ import annotations

import json
import signal
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from skyport.testing import (
    QuietFolderHandler,
    fresh_postgres_database,
    require_backend,
    serve_folder,
    wait_for,
)
from skyport_marketplace.testing import find_catalogs

from .conftest import REPOSITORY, SKYPORT, Node, bearer, login, make_nodes, start_all

OFFICIAL = "portainer_templates__v3__templates.json"  # 67 apps
LSIO = "technorabilia_portainer-templates__lsio__templates__templates.json"
WAIT = 45.0
"""Seconds a read may take to reach the other node (it looks every 5 s) or a role to move."""
ROLE = "marketplace.refresh"


class _Counting(QuietFolderHandler):
    """Serves the catalogs folder and counts the GETs of each file."""

    requests: Counter[str]

    def do_GET(self) -> None:
        self.requests[self.path.lstrip("/")] += 1
        super().do_GET()


@dataclass
class Market:
    nodes: list[Node]
    url: str
    """Of the catalogs' web server."""
    requests: Counter[str]
    token: str

    def get(self, node: Node, path: str, **params: Any) -> Any:
        response = httpx.get(
            f"{node.url}/api{path}", params=params, headers=bearer(self.token), timeout=20
        )
        assert response.status_code == 200, response.text
        return response.json()

    def leaders(self, asked: Node | None = None) -> list[str]:
        listed = self.get(asked or self.nodes[0], "/nodes")
        return [n["name"] for n in listed if ROLE in n["roles"] and n["state"] == "up"]

    def leader(self) -> Node:
        (name,) = wait_for(self.leaders, f"a node leading {ROLE}", timeout=WAIT)
        return next(n for n in self.nodes if n.name == name)

    def follower(self) -> Node:
        leader = self.leader()
        return next(n for n in self.nodes if n is not leader)

    def source(self, node: Node, name: str) -> dict[str, Any] | None:
        return next((s for s in self.get(node, "/marketplace/sources") if s["name"] == name), None)

    def app_ids(self, node: Node, source: str) -> list[str]:
        found = self.get(node, "/marketplace/apps", source=source, per_page=200)
        assert found["total"] <= 200
        return sorted(item["id"] for item in found["items"])


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Market]:
    """Two nodes whose settings name one web catalog (``official``), started at once."""
    catalogs = find_catalogs(REPOSITORY)
    require_backend(catalogs is not None, "no saved catalogs (shared/data/catalogs)")
    require_backend(SKYPORT.exists(), f"no skyport command beside {sys.executable}")
    assert catalogs is not None
    handler = type("Handler", (_Counting,), {"requests": Counter()})
    root = tmp_path_factory.mktemp("market")
    with serve_folder(catalogs, handler) as url, fresh_postgres_database() as database_url:
        sources = [{"name": "official", "type": "portainer", "url": f"{url}/{OFFICIAL}"}]
        nodes = make_nodes(root, database_url, ["node-a", "node-b"])
        for node in nodes:
            node.extra_env["SKYPORT_MARKETPLACE__SOURCES"] = json.dumps(sources)
        try:
            start_all(nodes)
            yield Market(nodes, url, handler.requests, login(nodes[0].url))
        finally:
            for node in nodes:
                node.stop()


def downloaded(node: Node, source: str) -> bool:
    """Whether ``node`` keeps a download of the source (only a node that read it does)."""
    return (node.home / "data" / "marketplace" / "downloads" / source / "body").is_file()


def test_the_settings_source_is_read_by_the_leader_alone_and_served_by_both(
    market: Market,
) -> None:
    assert len(wait_for(market.leaders, f"a node leading {ROLE}", timeout=WAIT)) == 1
    leader, follower = market.leader(), market.follower()
    for node in market.nodes:
        wait_for(
            lambda node=node: (market.source(node, "official") or {}).get("templates") == 67,
            f"{node.name} to serve the catalog",
            timeout=WAIT,
        )
    assert market.requests[OFFICIAL] == 1
    assert downloaded(leader, "official") and not downloaded(follower, "official")
    assert market.leaders() == [leader.name]
    on_leader, on_follower = (market.app_ids(n, "official") for n in (leader, follower))
    assert len(on_leader) == 67 and on_leader == on_follower
    found = market.get(follower, "/marketplace/apps", q="redis")["items"]
    assert "official:redis" in {a["id"] for a in found}
    same = [market.source(n, "official") for n in (leader, follower)]
    assert same[0] is not None and same[1] is not None
    assert same[0]["refreshed"] == same[1]["refreshed"]


def test_a_source_added_on_one_node_is_read_once_and_reaches_the_other(market: Market) -> None:
    leader, follower = market.leader(), market.follower()
    added = httpx.post(
        f"{follower.url}/api/marketplace/sources",
        json={"name": "lsio", "type": "portainer", "url": f"{market.url}/{LSIO}"},
        headers=bearer(market.token),
        timeout=20,
    )
    assert added.status_code == 201, added.text

    def served_by_leader() -> dict[str, Any] | None:
        source = market.source(leader, "lsio")
        return source if source and source["templates"] else None

    first = wait_for(served_by_leader, "the leader to serve the added source", timeout=WAIT)
    assert first["origin"] == "api"
    assert market.requests[LSIO] == 1  # the node asked read it; the leader took its read
    assert downloaded(follower, "lsio") and not downloaded(leader, "lsio")
    assert market.app_ids(leader, "lsio") == market.app_ids(follower, "lsio")

    # A refresh asked of the leader: the follower takes the new read in.
    refreshed = httpx.post(
        f"{leader.url}/api/marketplace/sources/lsio/refresh",
        headers=bearer(market.token),
        timeout=20,
    )
    assert refreshed.status_code == 202, refreshed.text

    def read_again() -> dict[str, Any] | None:
        source = market.source(leader, "lsio")
        return source if source and source["refreshed"] > first["refreshed"] else None

    again = wait_for(read_again, "the leader's read", timeout=WAIT)
    wait_for(
        lambda: (market.source(follower, "lsio") or {}).get("refreshed") == again["refreshed"],
        "the follower to take the new read in",
        timeout=WAIT,
    )
    assert market.requests[LSIO] == 2

    # Removed on the leader: gone from the follower, its apps too.
    removed = httpx.delete(
        f"{leader.url}/api/marketplace/sources/lsio", headers=bearer(market.token), timeout=20
    )
    assert removed.status_code == 204, removed.text
    wait_for(
        lambda: market.source(follower, "lsio") is None, "the follower to drop it", timeout=WAIT
    )
    assert market.get(follower, "/marketplace/apps", source="lsio")["total"] == 0


def test_the_refresh_role_moves_when_its_node_dies(market: Market) -> None:
    leader, follower = market.leader(), market.follower()
    leader.kill(signal.SIGKILL)
    wait_for(
        lambda: market.leaders(follower) == [follower.name],
        f"{follower.name} to take {ROLE} over",
        timeout=WAIT,
    )
    assert len(market.app_ids(follower, "official")) == 67
    assert market.requests[OFFICIAL] == 1  # the kept read was fresh: not read again
