"""``skyport plugins``: what the server loaded, what failed and why."""

from __future__ import annotations

from skyport.cli.common import api
from skyport.cli.output import JsonFlag, print_json, print_table


def plugins(*, json: JsonFlag = False) -> None:
    """List the server's plugins: loaded, failed (with the reason) or disabled."""
    with api() as client:
        records = client.get("/api/plugins")
    if json:
        print_json(records)
        return
    print_table(
        records,
        [
            ("NAME", lambda r: r["name"] + (" (built in)" if r.get("builtin") else "")),
            ("STATUS", lambda r: r["status"]),
            ("VERSION", lambda r: r.get("version") or "-"),
            ("DISTRIBUTION", lambda r: r.get("distribution") or "-"),
            ("DETAILS", lambda r: r.get("error") or r.get("summary") or ""),
        ],
        empty="no plugins",
    )
