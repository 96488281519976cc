"""API calls off the UI's thread: the result comes back to the UI, a failure to the status line."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from skyport.client import Client, ClientError

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from skyport.tui.app import SkyportTui

T = TypeVar("T")


def call_api(
    node: DOMNode,
    call: Callable[[Client], T],
    then: Callable[[T], object] | None = None,
    *,
    done: str | None = None,
) -> None:
    """Run ``call(client)`` in a worker thread of ``node`` (it ends with the node); then
    ``then(result)`` on the UI and ``done`` in the status line, or the failure there."""
    tui: SkyportTui = node.app  # type: ignore[assignment]
    client = tui.client
    if client is None:
        tui.report("not connected yet", problem=True)
        return

    def work() -> None:
        try:
            result = call(client)
        except ClientError as exc:
            tui.call_from_thread(tui.report, str(exc), True)
            return
        if then is not None:
            tui.call_from_thread(then, result)
        if done:
            tui.call_from_thread(tui.report, done)

    node.run_worker(work, thread=True, group="api")
