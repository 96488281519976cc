"""Helpers for the marketplace's tests and benchmark: the saved public catalogs.

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

STORES = {
    # saved repository: the format of the store it is
    "IceWhaleTech_CasaOS-AppStore": "casaos",
    "getumbrel_umbrel-apps": "umbrel",
    "getumbrel_umbrel-community-app-store": "umbrel",
}


def find_catalogs(start: Path) -> Path | None:
    """The folder of saved public catalogs for the checkout at ``start``, if there is one."""
    configured = os.environ.get("SKYPORT_TEST_CATALOGS")
    if configured:
        return Path(configured) if Path(configured).is_dir() else None
    for parent in start.resolve().parents:
        candidate = parent / "shared" / "data" / "catalogs"
        if candidate.is_dir():
            return candidate
    return None


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


def portainer_files(folder: Path) -> list[Path]:
    """The saved Portainer template files (not their schemas, not the stores' files)."""
    return sorted(
        p
        for p in folder.glob("*.json")
        if "template" in p.name.lower()
        and "schema" not in p.name.lower()
        and p.name.split("__")[0] not in STORES
    )
