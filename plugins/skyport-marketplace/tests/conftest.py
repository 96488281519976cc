"""Fixtures for the marketplace's tests: the real public catalogs, laid out as their stores are.

The catalogs live outside the repository (``shared/data/catalogs`` beside the
checkout, with their sources and licences in its ``SOURCES.md``): found
through ``SKYPORT_TEST_CATALOGS`` or by looking in each parent folder of the
repository for ``shared/data/catalogs``. Their files are flat
(``owner_repo__path__inside.yml``); :func:`store_trees` lays each
repository's files out again as folders, as a store is published.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from skyport.testing import require_backend

REPO = Path(__file__).resolve().parents[3]


def find_catalogs() -> Path | None:
    """The folder of saved public catalogs, if this machine has it."""
    configured = os.environ.get("SKYPORT_TEST_CATALOGS")
    if configured:
        return Path(configured) if Path(configured).is_dir() else None
    for parent in REPO.parents:
        candidate = parent / "shared" / "data" / "catalogs"
        if candidate.is_dir():
            return candidate
    return None


@pytest.fixture(scope="session")
def catalogs() -> Path:
    found = find_catalogs()
    require_backend(
        found is not None,
        "no saved catalogs (shared/data/catalogs beside the repository, or SKYPORT_TEST_CATALOGS)",
    )
    assert found is not None
    return found


def store_trees(folder: Path, target: Path) -> dict[str, Path]:
    """Lay ``owner_repo__a__b.yml`` out as ``target/owner_repo/a/b.yml``: repository -> folder."""
    trees: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        repository, sep, rest = path.name.partition("__")
        if sep and path.is_file():
            destination = target / repository / rest.replace("__", "/")
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(path.read_bytes())
            trees[repository] = target / repository
    return trees


@pytest.fixture(scope="session")
def stores(catalogs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each saved repository as a folder laid out like the store (``Apps/<App>/…``)."""
    return store_trees(catalogs, tmp_path_factory.mktemp("stores"))
