"""Documentation section: how long ``mkdocs build --strict`` of the whole site takes.

The site is built from ``mkdocs.yml`` as ``tests/test_docs_site.py`` builds it (the
references generated from the code by ``docs/hooks.py`` at build time), beside the floor:
a one-page site on the same Material theme, what any MkDocs Material site costs. Goal:
the whole site in under 60 s.

Run: ``uv run python -m bench.docs_bench``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNS = 5
ONE_PAGE = "site_name: Floor\ntheme: {name: material, font: false}\nplugins: [search]\n"


def build_seconds(config: Path, folder: Path) -> float:
    """Wall time of one strict build of ``config`` into a fresh folder."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-f", str(config),
         "--site-dir", str(folder / f"site-{time.monotonic_ns()}")],
        cwd=config.parent, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="skyport-docs-bench-") as scratch:
        work = Path(scratch)
        floor_dir = work / "floor"
        (floor_dir / "docs").mkdir(parents=True)
        (floor_dir / "docs" / "index.md").write_text("# Floor\n\nOne page.\n")
        (floor_dir / "mkdocs.yml").write_text(ONE_PAGE)
        ours, floor = [], []
        for _ in range(RUNS):  # alternate, so a busy moment hits both
            ours.append(build_seconds(REPO / "mkdocs.yml", work))
            floor.append(build_seconds(floor_dir / "mkdocs.yml", work))
    pages = len(list((REPO / "docs").rglob("*.md")))
    site, one = statistics.median(ours), statistics.median(floor)
    print(f"docs: mkdocs build --strict, median of {RUNS} (min-max)")
    print(f"  SkyPort site ({pages} written pages + references)  {site:6.2f} s"
          f"  ({min(ours):.2f}-{max(ours):.2f})   goal < 60 s")  # fmt: skip
    print(f"  one-page Material site (floor)      {one:6.2f} s"
          f"  ({min(floor):.2f}-{max(floor):.2f})   ratio {site / one:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
