"""The Grafana dashboard in ``deploy/grafana``: its queries name metrics SkyPort exports
(from a real host sample) and are PromQL that ``promtool`` accepts."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from skyport.metrics.host import host_collector
from skyport.metrics.hub import MetricsHub
from skyport.metrics.prometheus import render_prometheus
from skyport.testing import require_backend

DASHBOARD = Path(__file__).resolve().parents[1] / "deploy" / "grafana" / "skyport-host.json"
GRAFANA_VARIABLES = {"$__rate_interval": "5m", '"$instance"': '".+"'}
"""What Grafana puts in place of its variables before a query reaches Prometheus."""


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def queries(dashboard: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


async def exported_names() -> set[str]:
    hub = MetricsHub([host_collector()], interval=1.0)
    text = render_prometheus(await hub.snapshot(), hub.expositions).decode()
    return {s.name for f in text_string_to_metric_families(text) for s in f.samples}


async def test_every_query_names_metrics_skyport_exports(dashboard: dict[str, Any]) -> None:
    exported = await exported_names()
    variables = [v["definition"] for v in dashboard["templating"]["list"]]

    named = {m for q in queries(dashboard) + variables for m in re.findall(r"skyport_\w+", q)}

    assert named, "the dashboard queries no SkyPort metric"
    assert named <= exported, f"not exported: {sorted(named - exported)}"


def test_every_panel_queries_the_declared_data_source(dashboard: dict[str, Any]) -> None:
    (source,) = dashboard["__inputs"]
    assert source["pluginId"] == "prometheus"
    for panel in dashboard["panels"]:
        assert panel["targets"], f"panel {panel['title']!r} has no query"
        for item in (panel, *panel["targets"]):
            assert item["datasource"]["uid"] == "${" + source["name"] + "}"


def test_queries_are_valid_promql(dashboard: dict[str, Any], tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    require_backend(promtool is not None, "promtool is not installed (Debian: prometheus)")
    assert promtool is not None
    rules = []
    for index, query in enumerate(queries(dashboard)):
        for variable, value in GRAFANA_VARIABLES.items():
            query = query.replace(variable, value)
        rules.append({"record": f"skyport:dashboard_query_{index}", "expr": query})
    file = tmp_path / "rules.yaml"
    file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))

    checked = subprocess.run(
        [promtool, "check", "rules", str(file)], capture_output=True, text=True, timeout=60
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
