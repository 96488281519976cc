"""``skyport nodes``: the servers of the cluster, up or down, and what each manages."""

from __future__ import annotations

import time

from skyport.cli.common import api
from skyport.cli.output import JsonFlag, human_duration, print_json, print_table


def nodes(*, json: JsonFlag = False) -> None:
    """List the nodes sharing the database (up, or down since their last heartbeat).

    Any command takes ``--node NAME`` to act on that node's resources (its Docker
    engine, its PM2 processes) through whichever node answers, and listings take
    ``--node all`` to span every node.
    """
    with api() as client:
        listed = client.get("/api/nodes")
    if json:
        print_json(listed)
        return
    now = time.time()
    print_table(
        listed,
        [
            ("NAME", lambda n: n["name"] + (" (this)" if n.get("this") else "")),
            ("STATE", lambda n: n["state"]),
            ("URL", lambda n: n["url"]),
            ("VERSION", lambda n: n["version"]),
            ("HEARTBEAT", lambda n: f"{human_duration(now - n['heartbeat_at'])} ago"),
            ("LEADS", lambda n: ", ".join(n["roles"]) or "-"),
            ("MANAGES", lambda n: "; ".join(n["manages"].values()) or "-"),
        ],
        empty="no nodes: start `skyport serve` on a PostgreSQL database to make one",
    )
