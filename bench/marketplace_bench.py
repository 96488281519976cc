"""Marketplace section: reading every saved catalog, and searching them through the API.

- Load + normalize: every saved catalog (``shared/data/catalogs``: the
  Portainer files, the CasaOS and Umbrel stores laid out as folders) read and
  parsed by the plugin's formats (fetch from disk, parse, sanitize HTML,
  ids), beside the floor: plain ``json.loads`` / ``yaml.safe_load`` of the
  same files. Goal: at most 3x the floor.
- Search: ``GET /api/marketplace/apps?q=…`` on a ``skyport serve`` holding
  all of those catalogs, over one keep-alive connection, a fixed mix of
  queries and filters; median and p99, beside ``GET /api/marketplace/formats``
  (the same server, auth and plugin routing, no work) and the same searches
  in-process. Goal: p99 at most 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import yaml

from bench.docker_bench import KeepAliveHTTP, interleaved
from skyport.api import CatalogFiles
from skyport_marketplace.fetch import CatalogReader
from skyport_marketplace.formats import builtin_formats
from skyport_marketplace.search import SearchIndex
from skyport_marketplace.testing import STORES, find_catalogs, portainer_files, store_trees

REPO = Path(__file__).resolve().parents[1]
QUERIES = [
    {"q": "nginx"},
    {"q": "postgres"},
    {"q": "media server"},
    {"q": "password manager"},
    {"q": "home automation"},
    {"q": "git"},
    {"q": "monitoring", "kind": "container"},
    {"q": "backup"},
    {"q": "wiki"},
    {"q": "vpn"},
    {},
    {"category": "Media"},
    {"q": "dns", "per_page": 10},
    {"q": "torrent"},
    {"q": "chat", "kind": "stack"},
    {"q": "a"},
]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--market-load-runs", type=int, default=15, help="timed loads of all (15)")
    p.add_argument("--market-searches", type=int, default=400, help="timed API searches (400)")


def bound(a: argparse.Namespace) -> None:
    a.market_load_runs = max(3, min(a.market_load_runs, 200))
    a.market_searches = max(len(QUERIES), min(a.market_searches, 20_000))


def _catalogs(folder: Path, work: Path) -> list[tuple[str, str, str]]:
    """(label, format, location) of every saved catalog."""
    found = [(p.name, "portainer", str(p)) for p in portainer_files(folder)]
    trees = store_trees(folder, work)
    found += [(name, STORES[name], str(trees[name])) for name in STORES if name in trees]
    return found


def _plain(location: str) -> int:
    """The floor: parse every file of the catalog with json/yaml, nothing else; entries seen."""
    path = Path(location)
    files = [path] if path.is_file() else sorted(path.rglob("*.y*ml"))
    count = 0
    for file in files:
        body = file.read_bytes()
        document = json.loads(body) if file.suffix == ".json" else yaml.safe_load(body)
        count += len(document.get("templates", ())) if isinstance(document, dict) else 1
    return count


def _load_all(catalogs: list[tuple[str, str, str]], reader: CatalogReader) -> list[Any]:
    formats = {f.type: f for f in builtin_formats()}

    async def read() -> list[CatalogFiles]:
        return [await reader.read("bench", location) for _, _, location in catalogs]

    files = asyncio.run(read())
    return [formats[kind].parse(f) for (_, kind, _), f in zip(catalogs, files, strict=True)]


def run(
    args: argparse.Namespace, start_skyport: Callable[[], Any], log: Callable[[str], None]
) -> list[dict[str, Any]]:
    folder = find_catalogs(REPO)
    if folder is None:
        return [{"name": "-", "status": "skipped", "error": "no shared/data/catalogs"}]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-market-") as work:
        catalogs = _catalogs(folder, Path(work) / "stores")
        reader = CatalogReader(Path(work) / "cache", timeout=30, max_bytes=1 << 28)
        parsed = _load_all(catalogs, reader)
        for (label, kind, _), result in zip(catalogs, parsed, strict=True):
            rows.append(
                {
                    "name": f"{label} ({kind})",
                    "status": "count",
                    "templates": len(result.templates),
                    "skipped": len(result.skipped),
                }
            )
        total = sum(len(r.templates) for r in parsed)
        log(f"loading {len(catalogs)} catalogs ({total} templates), {args.market_load_runs} runs")
        timings = interleaved(
            [
                ("plain json.loads / yaml.safe_load", lambda: [_plain(c[2]) for c in catalogs]),
                ("read + normalize (the formats)", lambda: _load_all(catalogs, reader)),
            ],
            args.market_load_runs,
        )
        for row in timings:
            row["templates"] = total
        floor = timings[0].get("median_ms")
        for row in timings:
            if floor and row.get("median_ms"):
                row["vs_floor"] = round(row["median_ms"] / floor, 2)
        rows += timings
        templates = [t for r in parsed for t in r.templates]
        rows += _search(args, start_skyport, catalogs, templates, log)
    return rows


def _search(
    args: argparse.Namespace,
    start_skyport: Callable[[], Any],
    catalogs: list[tuple[str, str, str]],
    templates: list[Any],
    log: Callable[[str], None],
) -> list[dict[str, Any]]:
    index = SearchIndex(templates)
    in_process = []
    for n in range(args.market_searches):
        query = QUERIES[n % len(QUERIES)]
        t0 = time.perf_counter()
        index.search(query.get("q", ""), category=query.get("category"), kind=query.get("kind"))
        in_process.append((time.perf_counter() - t0) * 1000)
    rows = [_percentiles("search in-process (SearchIndex)", in_process)]
    try:
        target = start_skyport()
    except Exception as e:
        return [*rows, {"name": "API search", "status": "error", "error": f"skyport serve: {e}"}]
    try:
        base = target.server.base_url
        with httpx.Client(base_url=base, headers=target.headers, timeout=120) as client:
            jobs = []
            for n, (_, kind, location) in enumerate(catalogs):
                body = {"name": f"c{n}", "type": kind, "url": location}
                jobs.append(client.post("/api/marketplace/sources", json=body).json()["job"])
            for job in jobs:
                while client.get(f"/api/marketplace/jobs/{job}").json()["state"] == "running":
                    time.sleep(0.1)
            held = client.get("/api/marketplace/apps", params={"per_page": 1}).json()["total"]
        log(f"searching {held} apps through the API ({args.market_searches} requests)")
        address = httpx.URL(base)
        http = KeepAliveHTTP(address.host, address.port, target.headers)
        try:
            api, floor = [], []
            for n in range(args.market_searches):
                query = QUERIES[n % len(QUERIES)]
                t0 = time.perf_counter()
                http.get(f"/api/marketplace/apps?{urlencode(query)}")
                api.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                http.get("/api/marketplace/formats")
                floor.append((time.perf_counter() - t0) * 1000)
        finally:
            http.close()
        rows.append(_percentiles("GET /api/marketplace/formats (floor)", floor, held))
        rows.append(_percentiles("GET /api/marketplace/apps?q=… (search)", api, held))
    finally:
        target.close()
    return rows


def _percentiles(name: str, times: list[float], templates: int | None = None) -> dict[str, Any]:
    ordered = sorted(times)
    return {
        "name": name,
        "status": "ok",
        "runs": len(times),
        "templates": templates,
        "median_ms": round(statistics.median(ordered), 3),
        "min_ms": round(ordered[0], 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
    }


TITLE = (
    "Marketplace: load + normalize every saved catalog (goal <= 3x json/yaml), "
    "search through the API (goal p99 <= 20 ms)"
)


def render(
    rows: list[dict[str, Any]],
    section: Callable[[str, list[str], list[list[str]], list[str]], str],
    fmt: Callable[..., str],
    problem: Callable[[dict[str, Any], list[str], int], list[str]],
) -> str:
    headers = ["what", "templates", "runs", "median ms", "min ms", "p90/p99 ms", "x floor"]
    table: list[list[str]] = []
    notes: list[str] = []
    for r in rows:
        if r.get("status") == "count":
            notes.append(f"{r['name']}: {r['templates']} normalized, {r['skipped']} skipped")
        elif r.get("status") == "ok":
            table.append([
                r["name"], fmt(r.get("templates")), fmt(r["runs"]), fmt(r["median_ms"]),
                fmt(r["min_ms"]), fmt(r.get("p99_ms", r.get("p90_ms"))), fmt(r.get("vs_floor")),
            ])  # fmt: skip
        else:
            table.append([r.get("name", "-"), *problem(r, notes, len(headers) - 1)])
    return section(TITLE, headers, table, notes)
