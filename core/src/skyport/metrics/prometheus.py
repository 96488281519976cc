"""Prometheus text exposition of the hub's latest snapshots (``GET /metrics``).

A collector with a ``prometheus`` function names its own metrics (the ``host``
collector's follow node_exporter: :mod:`skyport.metrics.host_prometheus`). For the
others every numeric leaf becomes a gauge named ``skyport_<collector>_<path>``
(snake_case; other characters become ``_``), made to pass ``promtool check
metrics``: ``per_sec`` is spelt ``per_second``, and a name that would end in a
suffix Prometheus keeps for counters, summaries and histograms (``_total``,
``_count``, ``_sum``, ``_bucket``) gets ``_value`` added;
booleans are 0/1, strings and nulls are left out. A list of numbers is
labelled by ``index``; a list of objects by its first identifying field
(:data:`skyport.metrics.IDENTITY_KEYS`) whose values are unique in the list,
else by ``index``, and each object is walked further under that label.
Two more gauges describe the collectors themselves:
``skyport_metrics_up{collector}`` (1 when the last sample succeeded) and
``skyport_metrics_last_sample_timestamp_seconds{collector}``; and three the
WebSocket fan-out (:func:`broker_families`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import msgspec
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from skyport.broker import BrokerStats
from skyport.metrics import IDENTITY_KEYS

PREFIX = "skyport"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The media type of :func:`render_prometheus`'s output."""

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_INVALID = re.compile(r"[^a-z0-9_]+")
_REPEATED = re.compile(r"__+")
_ABBREVIATED = re.compile(r"_per_(?:s|sec)(?=_|$)")
_RESERVED_SUFFIXES = ("_total", "_count", "_sum", "_bucket")

Exposition = Callable[[Any], Iterable[Metric]]
"""A collector's own metric families for one sample (``MetricsCollector.prometheus``)."""


def render_prometheus(
    latest: Mapping[str, Any],
    expositions: Mapping[str, Exposition] | None = None,
    extra: Iterable[Metric] = (),
) -> bytes:
    """Encode :meth:`MetricsHub.latest() <skyport.metrics.hub.MetricsHub.latest>`.

    ``expositions`` maps a collector's name to its own ``prometheus`` function;
    ``extra`` families are added as they are.
    """
    expositions = expositions or {}
    families = _Families()
    own: list[Metric] = list(extra)
    collectors: Mapping[str, Any] = latest.get("collectors") or {}
    errors: Mapping[str, Any] = latest.get("errors") or {}
    timestamps: Mapping[str, Any] = latest.get("timestamps") or {}
    for name, data in collectors.items():
        labels = {"collector": str(name)}
        up = data is not None and name not in errors
        families.add(
            f"{PREFIX}_metrics_up",
            labels,
            1.0 if up else 0.0,
            "1 when the collector's last sample succeeded",
        )
        if timestamps.get(name) is not None:
            families.add(
                f"{PREFIX}_metrics_last_sample_timestamp_seconds",
                labels,
                float(timestamps[name]),
                "Unix time of the collector's last good sample",
            )
        if data is None:
            continue
        if name in expositions:
            own.extend(expositions[name](data))
        else:
            _walk(families, f"{PREFIX}_{snake_case(str(name))}", msgspec.to_builtins(data), {})
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot([*families, *own]))
    return generate_latest(registry)


def broker_families(stats: BrokerStats) -> list[Metric]:
    """The WebSocket fan-out's clients now, and its dropped frames and evicted clients."""
    clients = GaugeMetricFamily(
        f"{PREFIX}_websocket_clients", "WebSocket clients following at least one topic"
    )
    clients.add_metric([], stats.clients)
    dropped = CounterMetricFamily(
        f"{PREFIX}_websocket_frames_dropped",
        "Frames dropped from a slow WebSocket client's full mailbox (the oldest, for a newer)",
    )
    dropped.add_metric([], stats.frames_dropped)
    evicted = CounterMetricFamily(
        f"{PREFIX}_websocket_clients_evicted",
        "WebSocket clients disconnected for taking no frame while their mailbox overflowed",
    )
    evicted.add_metric([], stats.clients_evicted)
    return [clients, dropped, evicted]


def snake_case(key: str) -> str:
    """``rxBytes/s`` → ``rx_bytes_s``: a valid metric-name fragment."""
    name = _INVALID.sub("_", _CAMEL.sub("_", key).lower())
    return _REPEATED.sub("_", name).strip("_") or "value"


class _Snapshot(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        yield from self._families


class _Families:
    """Gauge families by name, each sample's label set kept once."""

    def __init__(self) -> None:
        self._by_name: dict[str, GaugeMetricFamily] = {}
        self._seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()

    def __iter__(self) -> Iterator[Metric]:
        return iter(self._by_name.values())

    def add(self, name: str, labels: dict[str, str], value: float, doc: str = "") -> None:
        key = (name, tuple(sorted(labels.items())))
        if key in self._seen:
            return
        self._seen.add(key)
        family = self._by_name.get(name)
        if family is None:
            family = GaugeMetricFamily(name, doc or name.replace("_", " "))
            self._by_name[name] = family
        family.add_sample(name, dict(labels), value)


def gauge_name(path: str) -> str:
    """The gauge for a numeric leaf at ``path`` (already snake_case), as promtool wants it."""
    name = _ABBREVIATED.sub("_per_second", path)
    return f"{name}_value" if name.endswith(_RESERVED_SUFFIXES) else name


def _walk(families: _Families, name: str, value: Any, labels: dict[str, str]) -> None:
    if isinstance(value, bool):
        families.add(gauge_name(name), labels, 1.0 if value else 0.0)
    elif isinstance(value, int | float):
        families.add(gauge_name(name), labels, float(value))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _walk(families, f"{name}_{snake_case(str(key))}", item, labels)
    elif isinstance(value, list | tuple):
        _walk_list(families, name, value, labels)


def _walk_list(
    families: _Families, name: str, items: list[Any] | tuple[Any, ...], labels: dict[str, str]
) -> None:
    key = _identifying_key(items)
    label = _free_label(key or "index", name, labels)
    for position, item in enumerate(items):
        if key is not None:
            inner = {**labels, label: str(item[key])}
            rest = {k: v for k, v in item.items() if k != key}
            _walk(families, name, rest, inner)
        else:
            _walk(families, name, item, {**labels, label: str(position)})


def _free_label(label: str, name: str, labels: dict[str, str]) -> str:
    """``label``, or for a nested list ``<field>_<label>`` so the outer one stays."""
    if label not in labels:
        return label
    candidate = f"{name.rsplit('_', 1)[-1]}_{label}"
    if not candidate[0].isalpha():
        candidate = f"l_{candidate}"
    base, suffix = candidate, 2
    while candidate in labels:
        candidate, suffix = f"{base}_{suffix}", suffix + 1
    return candidate


def _identifying_key(items: list[Any] | tuple[Any, ...]) -> str | None:
    """The first identity field present in every object, with distinct values."""
    if not items or not all(isinstance(item, Mapping) for item in items):
        return None
    for key in IDENTITY_KEYS:
        if all(key in item and item[key] is not None for item in items):
            values = {str(item[key]) for item in items}
            if len(values) == len(items):
                return key
    return None
