"""OutputHandover: a blocking thread's output to an async reader, with back-pressure."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from skyport.api import OutputHandover


async def test_chunks_arrive_in_order_and_the_end_stays_ended() -> None:
    handover = OutputHandover(asyncio.get_running_loop())

    def produce() -> None:
        for chunk in (b"one", b"two", b""):
            assert handover.put(chunk)

    thread = threading.Thread(target=produce)
    thread.start()
    assert [await handover.get() for _ in range(3)] == [b"one", b"two", b""]
    assert await handover.get() == b""  # and again: nothing waits forever
    await asyncio.to_thread(thread.join, 5)


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():  # noqa: ASYNC110 - set by a plain thread
            await asyncio.sleep(0.01)


async def test_a_full_queue_makes_the_thread_wait_until_read_or_closed() -> None:
    handover = OutputHandover(asyncio.get_running_loop(), max_chunks=2)
    results: list[bool] = []
    thread = threading.Thread(
        target=lambda: results.extend(handover.put(b"x") for _ in range(4)), daemon=True
    )
    thread.start()
    try:
        await until(lambda: len(results) == 2)
        await asyncio.sleep(0.2)
        assert results == [True, True]  # two queued, the third waits for a reader
        assert await handover.get() == b"x"
        await until(lambda: len(results) == 3)
        await asyncio.sleep(0.2)
        assert results == [True, True, True]  # the fourth waits now
    finally:
        handover.close()
    await asyncio.to_thread(thread.join, 5)
    assert results == [True, True, True, False]
