"""The snapshots: the plugin's "backend", in memory (a real one would drive a backup tool)."""

from __future__ import annotations

import threading
import time

import msgspec
from litestar.exceptions import ClientException, NotFoundException

from skyport.api import PluginContext


class Snapshot(msgspec.Struct):
    name: str
    size: int
    """Bytes."""
    ratio: float
    """Compression, in percent of the original size."""
    took: float
    """Seconds the snapshot took."""
    taken: float
    """Unix time."""
    state: str
    """``taken`` or ``verified``."""


class NewSnapshot(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    size: int = 0


class Totals(msgspec.Struct):
    count: int
    size_bytes: int


class Store:
    """The snapshots by name; the routes and the metrics collector share it."""

    def __init__(self) -> None:
        self._snapshots: dict[str, Snapshot] = {}
        self._lock = threading.Lock()  # the collector runs in a worker thread

    @classmethod
    def of(cls, skyport: PluginContext) -> Store:
        store = skyport.state.get("store")
        if store is None:
            store = skyport.state["store"] = cls()
        return store

    def all(self) -> list[Snapshot]:
        with self._lock:
            return sorted(self._snapshots.values(), key=lambda s: s.taken, reverse=True)

    def take(self, new: NewSnapshot) -> Snapshot:
        with self._lock:
            if new.name in self._snapshots:
                raise ClientException(f"a snapshot {new.name!r} exists", status_code=409)
            snapshot = Snapshot(new.name, new.size, 42.5, 93.0, time.time(), "taken")
            self._snapshots[new.name] = snapshot
            return snapshot

    def verify(self, name: str) -> Snapshot:
        with self._lock:
            snapshot = self._get(name)
            snapshot.state = "verified"
            return snapshot

    def delete(self, name: str) -> None:
        with self._lock:
            self._get(name)
            del self._snapshots[name]

    def totals(self) -> Totals:
        with self._lock:
            return Totals(len(self._snapshots), sum(s.size for s in self._snapshots.values()))

    def _get(self, name: str) -> Snapshot:
        try:
            return self._snapshots[name]
        except KeyError:
            raise NotFoundException(f"no snapshot {name!r}") from None
