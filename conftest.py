"""Every test in the repository gets SkyPort's shared fixtures, and the example plugin on demand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["skyport.testing"]

EXAMPLE_PLUGIN = Path(__file__).resolve().parent / "tests" / "plugins" / "skyport-hello"


@pytest.fixture(scope="session")
def example_plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plugin ``skyport-hello``, really installed (built from its folder) into a
    directory of its own, so that it is found through its entry point only by the tests that
    ask for it, never by a developer's ``skyport`` in the workspace."""
    site = tmp_path_factory.mktemp("example-plugin-site")
    subprocess.run(
        [
            "uv",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(site),
            "--python",
            sys.executable,
            str(EXAMPLE_PLUGIN),
        ],
        check=True,
    )
    return site


@pytest.fixture
def example_plugin(example_plugin_site: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Puts the installed example plugin on the import path of this test (and its children)."""
    monkeypatch.syspath_prepend(str(example_plugin_site))
    monkeypatch.setenv("PYTHONPATH", str(example_plugin_site))
    return example_plugin_site
