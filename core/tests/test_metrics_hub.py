"""The metrics hub: scheduling, listeners, failures, on-demand snapshots."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from types import MappingProxyType
from typing import Any

import msgspec
import pytest

from skyport.metrics import DETAILS_TOPIC
from skyport.metrics.demand import Demand
from skyport.metrics.history import MetricsHistory, average
from skyport.metrics.host import host_collector
from skyport.metrics.hub import TOPIC, MetricsHub
from skyport.types import MetricsCollector

FAST = 0.02


class Reading(msgspec.Struct):
    value: int
    label: str = "x"


class Counting:
    """A sync collector that counts its calls."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls = 0
        self.delay = delay

    def __call__(self) -> Reading:
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        return Reading(self.calls)


async def until(condition: Callable[[], bool], limit: float = 10.0) -> None:
    """Poll until ``condition()`` holds; ``limit`` (seconds) only guards against hanging."""
    async with asyncio.timeout(limit):
        while True:
            if condition():
                return
            await asyncio.sleep(0.005)


async def settled(counter: Counting, quiet: float) -> int:
    """The call count once no call has happened for ``quiet`` seconds."""
    while True:
        before = counter.calls
        await asyncio.sleep(quiet)
        if counter.calls == before:
            return before


def collector(name: str, collect: Any, interval: float | None = FAST) -> MetricsCollector:
    return MetricsCollector(name=name, collect=collect, interval=interval)


@pytest.fixture
async def hubs() -> AsyncIterator[list[MetricsHub]]:
    """Hubs to stop after the test, whatever happens."""
    created: list[MetricsHub] = []
    yield created
    for hub in created:
        await hub.stop()


async def started(hubs: list[MetricsHub], *args: Any, **kwargs: Any) -> MetricsHub:
    hub = MetricsHub(*args, **kwargs)
    hubs.append(hub)
    await hub.start()
    return hub


async def test_idle_without_listeners_or_history(hubs: list[MetricsHub]) -> None:
    counter = Counting()
    hub = await started(hubs, [collector("c", counter)], keep_sampling=False)

    await asyncio.sleep(FAST * 10)

    assert counter.calls == 0
    assert not hub.sampling and hub.listeners == 0


async def test_samples_while_someone_listens(hubs: list[MetricsHub]) -> None:
    counter = Counting()
    hub = await started(hubs, [collector("c", counter)], keep_sampling=False)

    hub.add_listener()
    await until(lambda: counter.calls >= 3)
    hub.remove_listener()
    stopped_at = await settled(counter, FAST * 5)
    await asyncio.sleep(FAST * 10)

    assert counter.calls == stopped_at
    assert not hub.sampling


async def test_sampling_resumes_when_a_listener_returns(hubs: list[MetricsHub]) -> None:
    counter = Counting()
    hub = await started(hubs, [collector("c", counter)], keep_sampling=False)
    with hub.listening():
        await until(lambda: counter.calls >= 1)
    idle_at = await settled(counter, FAST * 5)

    with hub.listening():
        await until(lambda: counter.calls >= idle_at + 2)

    assert hub.listeners == 0


async def test_two_listeners_keep_it_going_until_the_last_leaves(hubs: list[MetricsHub]) -> None:
    hub = await started(hubs, [collector("c", Counting())], keep_sampling=False)
    hub.add_listener()
    hub.add_listener()
    hub.remove_listener()
    assert hub.sampling and hub.listeners == 1
    hub.remove_listener()
    hub.remove_listener()  # one too many is harmless
    assert not hub.sampling and hub.listeners == 0


async def test_broker_starter_adds_and_releases_one_listener(hubs: list[MetricsHub]) -> None:
    hub = await started(hubs, [collector("c", Counting())], keep_sampling=False)

    release = await hub.listen(TOPIC)
    assert hub.listeners == 1 and hub.sampling
    await release()
    await release()

    assert hub.listeners == 0 and not hub.sampling


async def test_keep_sampling_samples_without_listeners(hubs: list[MetricsHub]) -> None:
    counter = Counting()
    hub = await started(hubs, [collector("c", counter)], keep_sampling=True)

    await until(lambda: counter.calls >= 3)

    assert hub.listeners == 0 and hub.sampling


async def test_history_turns_on_keep_sampling_and_is_fed(hubs: list[MetricsHub]) -> None:
    counter = Counting()
    history = MetricsHistory(FAST)
    hub = await started(hubs, [collector("c", counter)], history=history)

    await until(lambda: counter.calls >= 3)

    assert hub.keep_sampling
    points = history.query("c", 1)
    assert len(points) >= 2
    assert [p.data["value"] for p in points] == sorted(p.data["value"] for p in points)
    assert points[-1].data == {"value": points[-1].data["value"], "label": "x"}


async def test_each_collector_keeps_its_own_interval(hubs: list[MetricsHub]) -> None:
    fast, slow = Counting(), Counting()
    await started(
        hubs,
        [collector("fast", fast, FAST), collector("slow", slow, FAST * 20)],
        keep_sampling=True,
    )

    await until(lambda: fast.calls >= 12)

    assert 1 <= slow.calls < fast.calls


async def test_hub_interval_is_the_default(hubs: list[MetricsHub]) -> None:
    hub = MetricsHub(
        [collector("a", Counting(), None), collector("b", Counting(), 3.0)], interval=4
    )
    assert {d["name"]: d["interval"] for d in hub.describe()} == {"a": 4, "b": 3.0}


async def test_stuck_sync_collector_delays_no_one(hubs: list[MetricsHub]) -> None:
    release = threading.Event()
    stuck_calls = 0

    def stuck() -> dict[str, int]:
        nonlocal stuck_calls
        stuck_calls += 1
        release.wait(30)
        return {"ok": 1}

    fast = Counting()
    hub = await started(
        hubs, [collector("stuck", stuck), collector("fast", fast)], keep_sampling=True
    )
    try:
        await until(lambda: "stuck" in hub.latest()["errors"])
        await until(lambda: fast.calls >= 10)
        latest = hub.latest()
        assert "no result within" in latest["errors"]["stuck"]
        assert latest["collectors"]["stuck"] is None
        assert latest["collectors"]["fast"]["value"] >= 1
        assert "fast" not in latest["errors"]
        # The thread cannot be stopped: later samples wait for it, never pile up.
        assert stuck_calls == 1
    finally:
        release.set()

    await until(lambda: hub.latest()["collectors"]["stuck"] == {"ok": 1})
    assert "stuck" not in hub.latest()["errors"]


async def test_stuck_async_collector_is_cancelled_at_the_timeout(hubs: list[MetricsHub]) -> None:
    cancelled = asyncio.Event()

    async def hang() -> dict[str, int]:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return {}

    fast = Counting()
    hub = await started(
        hubs, [collector("hang", hang), collector("fast", fast)], keep_sampling=True
    )

    await asyncio.wait_for(cancelled.wait(), 10)
    await until(lambda: fast.calls >= 3)

    assert "no result within" in hub.latest()["errors"]["hang"]


async def test_async_collector_is_awaited_on_the_loop(hubs: list[MetricsHub]) -> None:
    threads: set[int] = set()

    async def sample() -> Reading:
        threads.add(threading.get_ident())
        await asyncio.sleep(0)
        return Reading(7)

    hub = await started(hubs, [collector("a", sample)], keep_sampling=True)
    await until(lambda: hub.latest()["collectors"]["a"] is not None)

    assert threads == {threading.get_ident()}
    assert hub.latest()["collectors"]["a"] == {"value": 7, "label": "x"}


async def test_failing_collector_logs_once_per_streak(
    hubs: list[MetricsHub], caplog: pytest.LogCaptureFixture
) -> None:
    calls = 0

    def flaky() -> dict[str, int]:
        nonlocal calls
        calls += 1
        if calls <= 3 or 6 <= calls <= 8:
            raise RuntimeError(f"boom {calls}")
        return {"calls": calls}

    fast = Counting()
    caplog.set_level(logging.INFO, logger="skyport.metrics.hub")
    hub = await started(
        hubs, [collector("flaky", flaky), collector("fast", fast)], keep_sampling=True
    )

    await until(lambda: calls >= 2)
    assert hub.latest()["errors"]["flaky"].startswith("RuntimeError: boom")
    await until(lambda: calls >= 10)
    await until(lambda: "flaky" not in hub.latest()["errors"])

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    recoveries = [r for r in caplog.records if "recovered" in r.getMessage()]
    assert len(warnings) == 2
    assert all("flaky" in r.getMessage() for r in warnings)
    assert len(recoveries) == 2
    assert fast.calls > 0 and "fast" not in hub.latest()["errors"]


async def test_error_keeps_the_last_good_snapshot(hubs: list[MetricsHub]) -> None:
    fail = False

    def sample() -> dict[str, int]:
        if fail:
            raise OSError("gone")
        return {"v": 1}

    hub = await started(hubs, [collector("c", sample)], keep_sampling=True)
    await until(lambda: hub.latest()["collectors"]["c"] == {"v": 1})
    good_ts = hub.latest()["timestamps"]["c"]
    fail = True

    await until(lambda: "c" in hub.latest()["errors"])

    latest = hub.latest()
    assert latest["collectors"]["c"] == {"v": 1}
    assert latest["timestamps"]["c"] >= good_ts
    assert latest["errors"]["c"] == "OSError: gone"


async def test_publishes_each_sample(hubs: list[MetricsHub]) -> None:
    messages: list[tuple[str, Any]] = []
    counter = Counting()
    await started(
        hubs,
        [collector("c", counter)],
        keep_sampling=True,
        publish=lambda topic, data: messages.append((topic, data)),
    )

    await until(lambda: len(messages) >= 3)

    assert {topic for topic, _ in messages} == {"metrics"}
    first, second = messages[0][1], messages[1][1]
    assert set(first) == {"collector", "ts", "data"}
    assert first["collector"] == "c"
    assert first["data"] == {"value": 1, "label": "x"}
    assert second["ts"] >= first["ts"]


async def test_failing_publish_does_not_stop_sampling(hubs: list[MetricsHub]) -> None:
    def publish(topic: str, data: Any) -> None:
        raise RuntimeError("broker down")

    counter = Counting()
    hub = await started(hubs, [collector("c", counter)], keep_sampling=True, publish=publish)

    await until(lambda: counter.calls >= 3)

    assert hub.latest()["errors"] == {}


async def test_latest_is_plain_builtins_with_timestamps(hubs: list[MetricsHub]) -> None:
    hub = await started(
        hubs,
        [
            collector("struct", lambda: Reading(1)),
            collector("mapping", lambda: MappingProxyType({"a": 1})),
            collector("never", Counting(), 3600),
        ],
        keep_sampling=True,
    )
    await until(lambda: hub.latest()["collectors"]["mapping"] is not None)
    await until(lambda: hub.latest()["collectors"]["struct"] is not None)
    before = time.time()

    latest = hub.latest()

    assert set(latest) == {"ts", "collectors", "timestamps", "errors"}
    assert latest["ts"] >= before
    assert latest["collectors"]["struct"] == {"value": 1, "label": "x"}
    assert latest["collectors"]["mapping"] == {"a": 1}
    assert latest["timestamps"]["struct"] <= latest["ts"]
    msgspec.json.encode(latest)


async def test_sync_collector_returning_a_coroutine_is_an_error(hubs: list[MetricsHub]) -> None:
    async def inner() -> dict[str, int]:
        return {}

    hub = MetricsHub([collector("c", lambda: inner())])
    hubs.append(hub)

    latest = await hub.snapshot()

    assert "async def" in latest["errors"]["c"]


async def test_snapshot_refreshes_once_for_concurrent_callers() -> None:
    counter = Counting(delay=0.05)
    hub = MetricsHub([collector("c", counter, 0.5)], keep_sampling=False)

    results = await asyncio.gather(*(hub.snapshot() for _ in range(10)))

    assert counter.calls == 1
    assert all(r["collectors"]["c"] == {"value": 1, "label": "x"} for r in results)


async def test_snapshot_refreshes_at_most_once_per_interval() -> None:
    counter = Counting()
    hub = MetricsHub([collector("c", counter, 0.2)], keep_sampling=False)

    await hub.snapshot()
    await hub.snapshot()
    assert counter.calls == 1
    await asyncio.sleep(0.2)
    latest = await hub.snapshot()

    assert counter.calls == 2
    assert latest["collectors"]["c"]["value"] == 2


async def test_snapshot_does_not_retry_a_failure_within_the_interval() -> None:
    calls = 0

    def broken() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("no")

    hub = MetricsHub([collector("c", broken, 5.0)])

    first = await hub.snapshot()
    second = await hub.snapshot()

    assert calls == 1
    assert first["errors"] == second["errors"] == {"c": "ValueError: no"}


async def test_snapshot_only_reads_while_sampling(hubs: list[MetricsHub]) -> None:
    counter = Counting()
    hub = await started(hubs, [collector("c", counter, 3600)], keep_sampling=True)
    await until(lambda: counter.calls == 1)

    for _ in range(5):
        await hub.snapshot()

    assert counter.calls == 1


async def test_stop_ends_sampling(hubs: list[MetricsHub]) -> None:
    counter = Counting()
    hub = await started(hubs, [collector("c", counter)], keep_sampling=True)
    await until(lambda: counter.calls >= 2)

    await hub.stop()
    stopped_at = counter.calls
    await asyncio.sleep(FAST * 10)

    assert counter.calls == stopped_at
    assert not hub.sampling


async def test_duplicate_collector_names_are_refused() -> None:
    with pytest.raises(ValueError, match="two metrics collectors are named 'c'"):
        MetricsHub([collector("c", Counting()), collector("c", Counting())])


async def test_host_collector_through_the_hub(hubs: list[MetricsHub]) -> None:
    messages: list[Any] = []
    hub = await started(
        hubs,
        [host_collector()],
        interval=0.05,
        keep_sampling=False,
        publish=lambda topic, data: messages.append(data),
    )

    with hub.listening():
        await until(lambda: len(messages) >= 2)

    host = hub.latest()["collectors"]["host"]
    assert host["memory"]["total"] > 0
    assert host["cpu"]["count"] == len(host["cpu"]["per_core"])
    assert messages[-1]["collector"] == "host"


class Detailed:
    """A collector that reads its details only while they are wanted."""

    def __init__(self) -> None:
        self.details = Demand(linger=600)
        self.calls = 0

    def __call__(self) -> dict[str, Any]:
        self.calls += 1
        return {"call": self.calls, "detail": self.calls if self.details.wanted else None}

    def collector(self, interval: float = 60.0) -> MetricsCollector:
        return MetricsCollector(name="d", collect=self, interval=interval, details=self.details)


async def test_asking_for_details_samples_afresh_once() -> None:
    source = Detailed()
    hub = MetricsHub([source.collector()], keep_sampling=False)
    assert (await hub.snapshot())["collectors"]["d"] == {"call": 1, "detail": None}

    answers = await asyncio.gather(*(hub.snapshot(details=["d"]) for _ in range(5)))

    assert source.calls == 2
    assert all(a["collectors"]["d"] == {"call": 2, "detail": 2} for a in answers)
    assert (await hub.snapshot(details=["d"]))["collectors"]["d"]["call"] == 2  # still wanted


async def test_details_of_a_collector_without_them_are_refused() -> None:
    hub = MetricsHub([collector("plain", Counting())], keep_sampling=False)

    for name in ("plain", "absent"):
        with pytest.raises(LookupError, match=name):
            await hub.snapshot(details=[name])


async def test_the_details_topic_wants_details_while_followed() -> None:
    source = Detailed()
    source.details.linger = 0
    hub = MetricsHub([source.collector()], keep_sampling=False)

    release = await hub.listen_details(f"{DETAILS_TOPIC}d")
    assert source.details.wanted
    await release()

    assert not source.details.wanted
    with pytest.raises(LookupError):
        await hub.listen_details(f"{DETAILS_TOPIC}nope")


# -- history ---------------------------------------------------------------

T0 = 1_700_000_040.0  # a minute boundary


def test_history_fine_ring_holds_an_hour_of_samples() -> None:
    history = MetricsHistory(2.0)
    for i in range(2000):
        history.record("c", T0 + i * 2, {"i": i})
    now = T0 + 1999 * 2

    points = history.query("c", 60, now=now)

    assert len(points) == 1800  # ceil(3600 / 2)
    assert points[0].data == {"i": 200} and points[-1].data == {"i": 1999}
    assert [p.ts for p in points] == sorted(p.ts for p in points)


def test_history_query_returns_only_the_requested_minutes() -> None:
    history = MetricsHistory(1.0)
    for i in range(600):
        history.record("c", T0 + i, {"i": i})

    points = history.query("c", 2, now=T0 + 599)

    assert [p.data["i"] for p in points] == list(range(479, 600))


def test_history_uses_each_collectors_interval() -> None:
    history = MetricsHistory(2.0)
    history.track("slow", 10.0)
    for i in range(1000):
        history.record("slow", T0 + i, {"i": i})

    assert len(history.query("slow", 60, now=T0 + 999)) == 360


def test_history_beyond_an_hour_is_one_average_per_minute() -> None:
    history = MetricsHistory(30.0)
    for minute in range(3):
        for half in range(2):
            ts = T0 + minute * 60 + half * 30
            history.record("c", ts, {"cpu": minute * 10 + half * 2, "host": f"h{half}"})

    points = history.query("c", 120, now=T0 + 150)

    assert [p.ts for p in points] == [T0, T0 + 60, T0 + 120]
    assert [p.data["cpu"] for p in points] == [1.0, 11.0, 21.0]
    assert [p.data["host"] for p in points] == ["h1", "h1", "h1"]


def test_history_coarse_ring_holds_a_day() -> None:
    history = MetricsHistory(60.0)
    for minute in range(1500):
        history.record("c", T0 + minute * 60, {"m": minute})

    points = history.query("c", 2000, now=T0 + 1499 * 60)

    assert len(points) == 1441  # 1440 complete minutes plus the current one
    assert points[0].data == {"m": 59} and points[-1].data == {"m": 1499}


def test_history_raw_points_encode_to_the_same_json() -> None:
    history = MetricsHistory(1.0)
    history.record("c", T0, {"a": [1, 2], "b": "x"})
    history.record("c", T0 + 61, {"a": [3, 4], "b": "y"})

    for minutes in (5, 90):
        raw = history.query("c", minutes, now=T0 + 61, raw=True)
        decoded = history.query("c", minutes, now=T0 + 61)
        assert all(isinstance(p.data, msgspec.Raw) for p in raw)
        assert msgspec.json.encode(raw) == msgspec.json.encode(decoded)


def test_history_unknown_collector_is_empty() -> None:
    history = MetricsHistory()
    history.track("known")

    assert "known" in history and "other" not in history
    assert history.collectors == ["known"]
    assert history.query("other", 10) == []
    assert history.query("known", 10) == []


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        ([1, 2, 3], 2.0),
        ([5, 5], 5),
        ([{"a": 1, "b": [1, 3]}, {"a": 3, "b": [3, 5]}], {"a": 2.0, "b": [2.0, 4.0]}),
        ([{"a": 1}, {"b": 2}], {"b": 2}),
        ([[1, 2], [1, 2, 3]], [1, 2, 3]),
        ([True, False], False),
        (["x", "x"], "x"),
        ([None, 1], 1),
        (
            [
                [{"pid": 1, "cpu": 10}, {"pid": 2, "cpu": 0}],
                [{"pid": 1, "cpu": 20}, {"pid": 2, "cpu": 2}],
            ],
            [{"pid": 1, "cpu": 15.0}, {"pid": 2, "cpu": 1.0}],
        ),
        (
            [[{"pid": 1, "cpu": 10}], [{"pid": 2, "cpu": 20}]],
            [{"pid": 2, "cpu": 20}],
        ),
    ],
)
def test_history_average(samples: list[Any], expected: Any) -> None:
    assert average(samples) == expected


async def test_snapshot_right_after_start_waits_for_the_first_sample() -> None:
    def slow() -> dict[str, int]:
        time.sleep(0.3)
        return {"value": 1}

    hub = MetricsHub(
        [MetricsCollector(name="slow", collect=slow)], interval=1.0, keep_sampling=True
    )
    await hub.start()
    try:
        snapshot = await hub.snapshot()
    finally:
        await hub.stop()
    assert snapshot["collectors"]["slow"] == {"value": 1}
