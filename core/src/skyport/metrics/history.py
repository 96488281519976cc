"""In-memory metrics history: the last hour in full, the last day per minute.

Each collector gets two rings. The fine ring holds every sample of the last
hour (``ceil(3600 / interval)`` of them). The coarse ring holds one point
per minute for a day: the average of that minute's samples, numeric leaf by
leaf (see :func:`average`). Samples are kept msgpack-encoded, a few KiB
each instead of tens of KiB as Python objects, and decoded on query.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

import msgspec

from skyport.metrics import IDENTITY_KEYS

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


class HistoryPoint(msgspec.Struct, frozen=True):
    """One sample (or one minute's average) of a collector, as plain builtins."""

    ts: float
    """Unix time of the sample; for a per-minute average, the minute's start."""
    data: Any


class _Series:
    """The rings of one collector."""

    def __init__(self, fine_size: int, coarse_size: int) -> None:
        self.fine: deque[tuple[float, bytes]] = deque(maxlen=fine_size)
        self.coarse: deque[tuple[float, bytes]] = deque(maxlen=coarse_size)
        self.minute: int | None = None
        self.pending: list[Any] = []


class MetricsHistory:
    """Per-collector rings of past snapshots, fed by the hub, read by the API.

    ``interval`` is the default sampling interval; :meth:`track` sets a
    collector's own. ``span`` and ``coarse_span`` are how far back the fine
    and the coarse ring reach (seconds), ``resolution`` the coarse step.
    Used from the event loop only (not thread-safe).
    """

    def __init__(
        self,
        interval: float = 2.0,
        *,
        span: float = 3600.0,
        coarse_span: float = 86400.0,
        resolution: float = 60.0,
    ) -> None:
        if interval <= 0 or span <= 0 or coarse_span <= 0 or resolution <= 0:
            raise ValueError("history interval, spans and resolution must be positive")
        self.interval = interval
        self.span = span
        self.coarse_span = coarse_span
        self.resolution = resolution
        self._series: dict[str, _Series] = {}

    def __contains__(self, collector: object) -> bool:
        return collector in self._series

    @property
    def collectors(self) -> list[str]:
        return sorted(self._series)

    def track(self, collector: str, interval: float | None = None) -> None:
        """Make room for ``collector`` sampled every ``interval`` seconds."""
        size = math.ceil(self.span / (interval or self.interval))
        series = self._series.get(collector)
        if series is None:
            coarse = math.ceil(self.coarse_span / self.resolution)
            self._series[collector] = _Series(size, coarse)
        elif series.fine.maxlen != size:
            series.fine = deque(series.fine, maxlen=size)

    def forget(self, collector: str) -> None:
        """Stop keeping ``collector``'s history (its plugin was left out)."""
        self._series.pop(collector, None)

    def record(self, collector: str, ts: float, data: Any) -> None:
        """Add one snapshot (plain builtins, as from ``msgspec.to_builtins``)."""
        if collector not in self._series:
            self.track(collector)
        series = self._series[collector]
        series.fine.append((ts, _encode(data)))
        minute = math.floor(ts / self.resolution)
        if series.minute is not None and minute != series.minute and series.pending:
            series.coarse.append(
                (series.minute * self.resolution, _encode(average(series.pending)))
            )
            series.pending = []
        series.minute = minute
        series.pending.append(data)

    def query(
        self, collector: str, minutes: float, *, now: float | None = None, raw: bool = False
    ) -> list[HistoryPoint]:
        """Points of the last ``minutes``, oldest first; ``[]`` for an unknown collector.

        Up to the fine ring's reach (an hour) every sample is returned; beyond
        it, one point per minute, the current partial minute included. With
        ``raw`` each point's ``data`` is the stored JSON as :class:`msgspec.Raw`
        (no decoding: msgspec's JSON encoder, and so Litestar, inlines it).
        """
        series = self._series.get(collector)
        if series is None or minutes <= 0:
            return []
        cutoff = (time.time() if now is None else now) - minutes * 60
        if minutes * 60 <= self.span:
            return _since(series.fine, cutoff, raw)
        points = _since(series.coarse, cutoff, raw)
        if series.pending and series.minute is not None:
            start = series.minute * self.resolution
            if start >= cutoff:
                current = average(series.pending)
                points.append(
                    HistoryPoint(start, msgspec.Raw(_encode(current)) if raw else current)
                )
        return points


def _since(ring: deque[tuple[float, bytes]], cutoff: float, raw: bool) -> list[HistoryPoint]:
    recent: list[HistoryPoint] = []
    for ts, blob in reversed(ring):
        if ts < cutoff:
            break
        recent.append(HistoryPoint(ts, msgspec.Raw(blob) if raw else _decode(blob)))
    recent.reverse()
    return recent


def average(samples: Sequence[Any]) -> Any:
    """Merge samples of one shape into one: numbers averaged, leaf by leaf.

    Mappings with the same keys and lists of the same length are merged
    element-wise; a list of objects only when the items line up (the same
    ``name``/``pid``/… at each position). Anything else that differs between
    samples (strings, booleans, shapes) takes the value of the last sample.
    """
    first, last = samples[0], samples[-1]
    if len(samples) == 1:
        return first
    if all(_is_number(s) for s in samples):
        if all(s == first for s in samples):
            return first
        return sum(samples) / len(samples)
    if all(isinstance(s, dict) for s in samples):
        if all(s.keys() == first.keys() for s in samples):
            return {key: average([s[key] for s in samples]) for key in first}
        return last
    if all(isinstance(s, list) for s in samples):
        if all(len(s) == len(first) for s in samples) and _aligned(samples):
            return [average(column) for column in zip(*samples, strict=True)]
        return last
    return first if all(s == first for s in samples) else last


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _identity(item: Any) -> tuple[Any, ...] | None:
    if not isinstance(item, dict):
        return None
    return tuple(item.get(key) for key in IDENTITY_KEYS)


def _aligned(lists: Sequence[list[Any]]) -> bool:
    reference = [_identity(item) for item in lists[0]]
    return all([_identity(item) for item in other] == reference for other in lists[1:])
