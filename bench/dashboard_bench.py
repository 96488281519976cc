"""Dashboard section: the web UI's size and speed in Debian's Chromium (Playwright), each figure
beside its floor from the same run.

- **Initial JavaScript** for log-in + overview (gzipped): the scripts ``index.html`` loads
  and preloads, vs React + ReactDOM alone (the floor any React app pays), and every chunk.
- **Navigation to the first metric drawn** on the overview (median of ``--dash-runs``):
  from ``goto("/")`` to a CPU figure on screen, and to the first live sample from ``/ws``;
  the floor is navigating to ``/api/health`` on the same server.
- **500 containers**: ``/containers`` with ``--dash-containers`` real containers on the
  engine (created, not started) beside 20: time to the first row, rows in the DOM
  (virtualized), a filter keystroke and a jump to the bottom until the last row shows.
- **Open tabs**: the server's CPU over ``--dash-window`` seconds with 0, 1 and 10 overview
  tabs open (each has its own ``/ws`` subscription and charts).

The server is a ``skyport serve`` started by the harness (pm2 and marketplace plugins off).
"""

from __future__ import annotations

import argparse
import gzip
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from bench import docker_bench, targets
from bench.procs import cpu_seconds
from skyport import dashboard
from skyport.testing import CHROMIUM, headless_chromium

FRONTEND = targets.REPO_ROOT / "frontend"
REACT_FILES = (
    "node_modules/react/cjs/react.production.js",
    "node_modules/react-dom/cjs/react-dom.production.js",
    "node_modules/react-dom/cjs/react-dom-client.production.js",
    "node_modules/scheduler/cjs/scheduler.production.js",
)
TITLE = "Dashboard (Chromium)"
PERCENT = re.compile(r"%")
WAIT_MS = 30_000
PASSWORD = "bench-admin-password-123"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dash-runs", type=int, default=5, help="navigations timed (5)")
    p.add_argument(
        "--dash-containers", type=int, default=500, help="containers in the big table (500)"
    )
    p.add_argument(
        "--dash-window", type=float, default=30.0, help="seconds of server CPU per tab count (30)"
    )


def bound(a: argparse.Namespace) -> None:
    a.dash_runs = max(1, min(a.dash_runs, 50))
    a.dash_containers = max(20, min(a.dash_containers, 2000))
    a.dash_window = max(5.0, min(a.dash_window, 300.0))


def _gz_kb(data: bytes) -> float:
    return len(gzip.compress(data, 9)) / 1024


def bundle_sizes(web: Path = dashboard.WEB_DIR) -> list[dict[str, Any]]:
    """Gzipped KiB of what log-in + overview loads, of React alone, and of every chunk."""
    index = (web / "index.html").read_text()
    initial = sorted(set(re.findall(r'(?:src|href)="/(assets/[^"]+\.js)"', index)))
    ours = sum(_gz_kb((web / name).read_bytes()) for name in initial)
    react = sum(_gz_kb((FRONTEND / f).read_bytes()) for f in REACT_FILES if (FRONTEND / f).exists())
    every = sum(_gz_kb(p.read_bytes()) for p in (web / "assets").glob("*.js"))
    return [
        {"kind": "size", "name": "log-in + overview (initial JS)", "files": len(initial),
         "gzip_kb": round(ours, 1), "status": "ok"},
        {"kind": "size", "name": "floor: react + react-dom alone", "files": len(REACT_FILES),
         "gzip_kb": round(react, 1), "status": "ok"},
        {"kind": "size", "name": "every page and the terminal (all JS)",
         "files": len(list((web / "assets").glob("*.js"))), "gzip_kb": round(every, 1),
         "status": "ok"},
    ]  # fmt: skip


def logged_in(chromium: Any, url: str) -> Any:
    """A browser context holding an admin session cookie for ``url``."""
    context = chromium.new_context(base_url=url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()
    page.close()
    return context


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def navigation(context: Any, runs: int) -> list[dict[str, Any]]:
    """Median times from ``goto`` to the first metric drawn, the first live sample, the floor."""
    drawn, live, floor = [], [], []
    page = context.new_page()
    cpu = page.locator("[data-stat='CPU']")
    sampled = page.locator("[data-stat='Sampled']")
    for _ in range(runs):
        page.goto("about:blank")
        start = time.perf_counter()
        page.goto("/api/health")
        floor.append(_ms(start))
        page.goto("about:blank")
        start = time.perf_counter()
        page.goto("/", wait_until="commit")
        expect(cpu).to_have_text(PERCENT, timeout=WAIT_MS)
        drawn.append(_ms(start))
        expect(sampled).not_to_have_text(sampled.inner_text(), timeout=WAIT_MS)
        live.append(_ms(start))
    page.close()
    return [
        {"kind": "nav", "name": "overview: first metric drawn", "runs": runs,
         "median_ms": round(statistics.median(drawn), 1), "max_ms": round(max(drawn), 1)},
        {"kind": "nav", "name": "overview: first live sample (/ws)", "runs": runs,
         "median_ms": round(statistics.median(live), 1), "max_ms": round(max(live), 1)},
        {"kind": "nav", "name": "floor: GET /api/health in the browser", "runs": runs,
         "median_ms": round(statistics.median(floor), 1), "max_ms": round(max(floor), 1)},
    ]  # fmt: skip


def table(context: Any, count: int) -> dict[str, Any]:
    """``/containers`` with ``count`` containers: first row, DOM rows, filter, jump to the end."""
    page = context.new_page()
    page.goto("/containers")  # once to load the page's code: the figures are for a warm cache
    page.locator("tr[data-container]").first.wait_for()
    page.goto("about:blank")
    start = time.perf_counter()
    page.goto("/containers")
    rows = page.locator("tr[data-container]")
    rows.first.wait_for()
    first_row = _ms(start)
    table = page.locator("table")
    deadline = time.monotonic() + WAIT_MS / 1000
    while int(table.get_attribute("aria-rowcount") or 0) <= count:  # all of ours listed
        assert time.monotonic() < deadline, f"{count} containers never listed"
        time.sleep(0.1)
    dom_rows = rows.count()
    last = table.get_attribute("aria-rowcount")  # other containers may exist too
    start = time.perf_counter()
    page.get_by_label("Filter containers").fill("-007")
    expect(rows).to_have_count(1, timeout=WAIT_MS)
    filtered = _ms(start)
    page.get_by_label("Filter containers").fill("")
    expect(rows).to_have_count(dom_rows, timeout=WAIT_MS)
    start = time.perf_counter()
    table.evaluate("t => { t.parentElement.scrollTop = t.parentElement.scrollHeight; }")
    page.locator(f"tr[aria-rowindex='{last}']").wait_for()
    scrolled = _ms(start)
    page.close()
    return {"kind": "table", "name": f"/containers, {count} containers", "containers": count,
            "first_row_ms": round(first_row, 1), "dom_rows": dom_rows,
            "filter_ms": round(filtered, 1), "scroll_end_ms": round(scrolled, 1),
            "status": "ok"}  # fmt: skip


def tabs(context: Any, pid: int, window: float, log: Callable[[str], None]) -> list[dict[str, Any]]:
    """The server's CPU with 0, 1 and 10 overview tabs open, ``window`` seconds each."""
    rows: list[dict[str, Any]] = []
    pages: list[Any] = []
    for count in (0, 1, 10):
        while len(pages) < count:
            page = context.new_page()
            page.goto("/")
            expect(page.locator("[data-stat='CPU']")).to_have_text(PERCENT, timeout=WAIT_MS)
            pages.append(page)
        time.sleep(3)  # let the tabs settle (first requests, subscriptions)
        log(f"server CPU with {count} tabs for {window:.0f} s")
        before, start = cpu_seconds(pid), time.monotonic()
        time.sleep(window)
        used = cpu_seconds(pid) - before
        rows.append({"kind": "tabs", "name": f"{count} overview tabs", "tabs": count,
                     "seconds": round(time.monotonic() - start, 1),
                     "cpu_percent": round(used / (time.monotonic() - start) * 100, 2),
                     "status": "ok"})  # fmt: skip
    for page in pages:
        page.close()
    one = rows[1]["cpu_percent"]
    for row in rows:
        row["beyond_one_tab"] = round(row["cpu_percent"] - one, 2)
    return rows


def run(args: argparse.Namespace, log: Callable[[str], None]) -> list[dict[str, Any]]:
    if not (dashboard.WEB_DIR / "index.html").is_file():
        return [{"kind": "size", "name": "dashboard", "status": "unavailable",
                 "error": "not built (uv sync builds it with npm)"}]  # fmt: skip
    if not Path(CHROMIUM).exists():
        return [{"kind": "size", "name": "dashboard", "status": "unavailable",
                 "error": f"{CHROMIUM} missing (apt-get install chromium)"}]  # fmt: skip
    rows = bundle_sizes()
    target = targets.start_skyport(
        [],
        password=PASSWORD,
        extra_env={"SKYPORT_DISABLE_PLUGINS": "pm2,marketplace"},
    )
    try:
        with headless_chromium() as chromium:
            context = logged_in(chromium, target.server.base_url)
            log(f"navigation to the overview, {args.dash_runs} runs")
            rows += navigation(context, args.dash_runs)
            rows += tabs(context, target.server.proc.pid, args.dash_window, log)  # type: ignore[union-attr]
            client = docker_bench.docker_low_level()
            for count in (20, args.dash_containers):
                with docker_bench.containers(client, count, 0, 180.0, log):
                    log(f"/containers with {count} containers")
                    rows.append(table(context, count))
    finally:
        target.close()
    return rows


def render(
    rows: list[dict[str, Any]],
    section: Callable[[str, list[str], list[list[str]], list[str]], str],
    fmt: Callable[..., str],
    problem: Callable[[dict[str, Any], list[str], int], list[str]],
) -> str:
    notes: list[str] = []

    Cells = Callable[[dict[str, Any]], list[str]]

    def pick(kind: str, cells: Cells, width: int) -> list[list[str]]:
        return [
            [r["name"], *cells(r)] if r.get("status", "ok") == "ok"
            else [r.get("name", "-"), *problem(r, notes, width)]
            for r in rows if r.get("kind") == kind
        ]  # fmt: skip

    return "\n".join(
        [
            section(f"{TITLE}: JavaScript", ["what", "files", "gzip KiB"],
                    pick("size", lambda r: [str(r["files"]), fmt(r["gzip_kb"], 1)], 2), []),
            section(f"{TITLE}: navigation", ["to", "runs", "median ms", "max ms"],
                    pick("nav", lambda r: [str(r["runs"]), fmt(r["median_ms"], 1),
                                           fmt(r["max_ms"], 1)], 3), []),
            section(f"{TITLE}: containers table",
                    ["page", "first row ms", "rows in DOM", "filter ms", "to last row ms"],
                    pick("table", lambda r: [fmt(r["first_row_ms"], 1), str(r["dom_rows"]),
                                             fmt(r["filter_ms"], 1), fmt(r["scroll_end_ms"], 1)],
                         4), []),
            section(f"{TITLE}: server CPU with open tabs",
                    ["tabs", "seconds", "srv CPU %", "beyond one tab"],
                    pick("tabs", lambda r: [fmt(r["seconds"], 0), fmt(r["cpu_percent"]),
                                            fmt(r["beyond_one_tab"])], 3), notes),
        ]
    )  # fmt: skip
