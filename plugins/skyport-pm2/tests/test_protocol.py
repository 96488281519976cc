"""The AMP framing and the axon RPC client, against the pm2 the tests install."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from skyport_pm2 import amp
from skyport_pm2.rpc import NotConnected, RpcClient, RpcError

from .conftest import WAIT, pm2_binary


def test_amp_messages_survive_any_split_of_the_stream() -> None:
    first = amp.encode({"type": "call", "method": "ping", "args": [{}]}, "1:1")
    second = amp.encode("log:out", {"data": "héllo\n"}, b"\x00raw")
    stream = first + second
    assert first[0] == 0x12 and second[0] == 0x13
    for cut in range(len(stream) + 1):
        parser = amp.Parser()
        messages = [*parser.feed(stream[:cut]), *parser.feed(stream[cut:])]
        assert messages == [
            [{"type": "call", "method": "ping", "args": [{}]}, "1:1"],
            ["log:out", {"data": "héllo\n"}, b"\x00raw"],
        ]


def test_amp_rejects_a_stream_that_is_not_amp() -> None:
    with pytest.raises(amp.FramingError):
        list(amp.Parser().feed(b"\x52garbage"))


def installed_version() -> str:
    binary = Path(os.path.realpath(pm2_binary() or ""))
    return str(json.loads((binary.parent.parent / "package.json").read_text())["version"])


def test_rpc_client_speaks_to_the_installed_daemon(pm2_home: Path) -> None:
    async def scenario() -> None:
        client = RpcClient(str(pm2_home / "rpc.sock"), timeout=WAIT)
        try:
            assert await client.call("ping") == {"msg": "pong"}
            assert await client.call("getVersion") == installed_version()
            # several requests in flight on one connection, answered by id
            answers = await asyncio.gather(
                *(client.call("getMonitorData", {}) for _ in range(10)), client.call("ping")
            )
            assert all(isinstance(a, list) for a in answers[:10]) and answers[10]["msg"] == "pong"
            with pytest.raises(RpcError, match="9999 : id unknown"):
                await client.call("stopProcessId", 9999)
            with pytest.raises(RpcError, match="does not exist"):
                await client.call("noSuchMethod", {})
        finally:
            await client.close()

    asyncio.run(scenario())


def test_rpc_client_says_when_no_daemon_listens(tmp_path: Path) -> None:
    async def scenario() -> None:
        client = RpcClient(str(tmp_path / "rpc.sock"), timeout=WAIT)
        with pytest.raises(NotConnected, match="not running"):
            await client.call("ping")

    asyncio.run(scenario())
