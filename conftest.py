"""Every test in the repository gets SkyPort's shared fixtures, and the example plugin on demand."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["skyport.testing"]

EXAMPLE_PLUGIN = Path(__file__).resolve().parent / "tests" / "plugins" / "skyport-hello"


@pytest.fixture(scope="session")
def example_plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plugin ``skyport-hello``, really installed (built from its folder) into a
    directory of its own, so that it is found through its entry point only by the tests that
    ask for it, never by a developer's ``skyport`` in the workspace."""
    from skyport.testing import install_distribution  # after pytest_plugins loaded it

    return install_distribution(EXAMPLE_PLUGIN, tmp_path_factory.mktemp("example-plugin-site"))


@pytest.fixture
def example_plugin(example_plugin_site: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Puts the installed example plugin on the import path of this test (and its children)."""
    monkeypatch.syspath_prepend(str(example_plugin_site))
    monkeypatch.setenv("PYTHONPATH", str(example_plugin_site))
    return example_plugin_site


OLD_DATA_DIR = Path(__file__).resolve().parent / "tests" / "fixtures" / "datadir-0.1.0"


@pytest.fixture
def data_dir_from_0_1_0(tmp_path: Path) -> dict[str, Any]:
    """The test's data dir (``SKYPORT_DATA_DIR``) holds what SkyPort 0.1.0 left there.

    Returns the fixture's facts (passwords, the API token, the SSH key in the vps
    inventory, …): see tests/fixtures/make_datadir_0_1_0.py.
    """
    data = Path(os.environ["SKYPORT_DATA_DIR"])
    shutil.copytree(OLD_DATA_DIR, data, ignore=shutil.ignore_patterns("fixture.json"))
    return json.loads((OLD_DATA_DIR / "fixture.json").read_text())  # type: ignore[no-any-return]
