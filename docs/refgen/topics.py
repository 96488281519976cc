"""The WebSocket reference: the sockets, the ``/ws`` protocol and every declared topic."""

from __future__ import annotations

import inspect

from refgen.markdown import code, prose, table
from skyport import realtime
from skyport.broker import TopicSpec


def topic_name(spec: TopicSpec) -> str:
    """``docker.logs:<…>`` for a family of topics, the topic itself otherwise."""
    return f"{spec.prefix}<…>" if spec.prefix.endswith(":") else spec.prefix


def page(topics: list[TopicSpec], sockets: dict[str, str]) -> str:
    declared = sorted(topics, key=lambda s: (s.owner, s.prefix))
    return "\n".join(
        [
            "# WebSocket topics",
            "",
            "Generated from the running application: the WebSocket routes, and the topics "
            "the core and each installed plugin declare on the broker "
            "(`skyport.add_topic(...)`, in their `startup` hook or while their routes are "
            "registered).",
            "",
            "## Sockets",
            "",
            table(("path", "scope"), ((code(p), code(s)) for p, s in sorted(sockets.items()))),
            "## The `/ws` protocol",
            "",
            prose(inspect.getdoc(realtime) or ""),
            "## Topics",
            "",
            "A name ending in `:<…>` is a family: subscribe to `docker.logs:<container id>`, "
            "`pm2.logs:<process name>`, … *On demand* topics are produced only while "
            "someone is subscribed.",
            "",
            table(
                ("topic", "scope", "declared by", "produced"),
                (
                    (
                        code(topic_name(spec)),
                        code(spec.scope),
                        spec.owner or "core",
                        "on demand" if spec.starter else "as it happens",
                    )
                    for spec in declared
                ),
            ),
        ]
    )
