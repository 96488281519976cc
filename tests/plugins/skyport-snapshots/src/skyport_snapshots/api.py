"""The routes, mounted under ``/api/snapshots``."""

from __future__ import annotations

from typing import Any

from litestar import delete, get, post
from litestar.params import FromPath, JSONBody

from skyport_snapshots.store import NewSnapshot, Snapshot, Store


def routes(store: Store) -> list[Any]:
    @get("/list")
    async def list_snapshots() -> list[Snapshot]:
        """Every snapshot, newest first (``snapshots:read``)."""
        return store.all()

    @post("/list", status_code=201)
    async def take(data: JSONBody[NewSnapshot]) -> Snapshot:
        """Take a snapshot (``snapshots:write``)."""
        return store.take(data)

    @post("/list/{name:str}/verify", status_code=200)
    async def verify(name: FromPath[str]) -> Snapshot:
        return store.verify(name)

    @delete("/list/{name:str}", opt={"scope": "snapshots:admin"})
    async def remove(name: FromPath[str]) -> None:
        store.delete(name)

    return [list_snapshots, take, verify, remove]
