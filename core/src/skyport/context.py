"""The ``skyport`` object every context-taking hook receives.

One :class:`PluginContext` per plugin: it carries that plugin's settings and
logger, plus the services the core shares with every plugin (database,
publisher of WebSocket topics, resource grants, audit log, the registry of
what all plugins contributed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement

    from skyport.audit import AuditLog
    from skyport.auth.grants import ResourceGrants
    from skyport.broker import Broker, TopicStarter, ViewFactory
    from skyport.cluster.leader import Leadership, Work
    from skyport.config import Settings
    from skyport.registry import Registry
    from skyport.secretbox import SecretBox
    from skyport.store import Database


@dataclass
class CoreServices:
    """What the core shares with all plugins; built once by ``create_app``."""

    settings: Settings
    database: Database
    broker: Broker
    grants: ResourceGrants
    audit: AuditLog
    registry: Registry
    leadership: Leadership
    node_resources: dict[str, str] = field(default_factory=dict)
    """What this node drives itself, by plugin (shown by ``GET /api/nodes``)."""


@dataclass
class PluginContext:
    """The running system as one plugin sees it."""

    name: str
    """The plugin's name: URL prefix, CLI command and config section."""
    settings: Any
    """The plugin's validated settings (the type from ``register_config``), or None."""
    services: CoreServices
    logger: logging.Logger
    state: dict[str, Any] = field(default_factory=dict)
    """Free room for the plugin's long-lived objects (clients, tasks)."""
    key: bytes = field(default=b"", repr=False)
    """This plugin's own 256-bit secret, derived for it alone from the server's master
    secret (HKDF): derive what else it needs from it (``skyport.api.hkdf(key, purpose)``)."""
    previous_secrets_keys: tuple[bytes, ...] = field(default=(), repr=False)
    """Keys that sealed this plugin's secrets in earlier releases (read, never written)."""

    @property
    def config(self) -> Settings:
        """The whole settings tree (read it, do not change it)."""
        return self.services.settings

    @property
    def database(self) -> Database:
        return self.services.database

    @property
    def node_name(self) -> str:
        """This node's name (``cluster.node_name``, else the host name): nodes share the
        database, so tag the rows of what runs on one node (a deployed app) with it."""
        from skyport.cluster.member import node_name

        return node_name(self.config)

    def on_this_node(self, column: ColumnElement[str]) -> ColumnElement[bool]:
        """A ``where`` condition on a table's node column: this node's rows, and rows that
        name no node (written before the plugin recorded nodes)."""
        return column.in_(("", self.node_name))

    def check_node(self, what: str, node: str) -> None:
        """A 404 naming the node that ``what`` (``"app 'shop'"``) is on, if not this one."""
        if node not in ("", self.node_name):
            from litestar.exceptions import NotFoundException

            raise NotFoundException(
                f"{what} is on node {node}: ask that node (--node {node})", extra={"node": node}
            )

    @property
    def registry(self) -> Registry:
        """Everything all plugins contributed (collectors, deployers, terminals …)."""
        return self.services.registry

    @property
    def grants(self) -> ResourceGrants:
        """Per-resource grants: ``await skyport.grants.allows(user, "vps", "web-1")``."""
        return self.services.grants

    @property
    def secrets(self) -> SecretBox:
        """This plugin's box for secrets at rest: ``skyport.secrets.encrypt(key_text)``."""
        from skyport.auth.keys import hkdf
        from skyport.secretbox import SecretBox

        box = self.state.get("_secretbox")
        if box is None:
            if not self.key:
                raise RuntimeError("no key: the app was built without one")
            box = SecretBox(hkdf(self.key, "secrets"), previous=self.previous_secrets_keys)
            self.state["_secretbox"] = box
        return box

    @property
    def audit(self) -> AuditLog:
        return self.services.audit

    def publish(self, topic: str, data: Any) -> None:
        """Send ``data`` to every WebSocket client subscribed to ``topic``.

        Safe to call from any thread. Name topics ``<plugin>.<what>`` or
        ``<plugin>.<what>:<id>``.
        """
        self.services.broker.publish(topic, data)

    def lead(self, role: str, work: Work) -> None:
        """Run ``work`` (an async callable) on one node of the cluster at a time.

        Call it in ``startup``. The node that takes role ``<plugin>.<role>`` runs
        ``work`` until it returns or the node stops or dies, when another node takes
        the role over (a PostgreSQL advisory lock; on SQLite the server runs it).
        ``work`` usually loops: ``while True: refresh(); await asyncio.sleep(600)``.
        """
        self.services.leadership.add(f"{self.name}.{role}", work)

    def manages(self, what: str) -> None:
        """Say what this plugin drives on this node (its Docker engine, its PM2 home):
        ``GET /api/nodes`` shows it beside the node."""
        self.services.node_resources[self.name] = what

    def add_topic(
        self,
        prefix: str,
        *,
        scope: str,
        starter: TopicStarter | None = None,
        view: ViewFactory | None = None,
        cluster: bool = True,
    ) -> None:
        """Declare WebSocket topics starting with ``prefix`` and the scope they need.

        ``starter(topic)`` (optional, async) is called when the first client
        subscribes to a topic; the async callable it returns is called when the
        last one leaves — use it to follow logs only while someone watches.
        ``view(principal)`` (optional, async) is called when a client subscribes:
        the function it returns gets each message and gives what that client may
        see of it (None: nothing) — use it to honour resource grants.

        In a cluster, what is published on a topic reaches the clients of every
        node (a view then sees a message from another node as JSON gives it:
        dicts and lists), and its starter runs on every node while a client of
        any node follows it. ``cluster=False`` keeps a topic to this node's
        clients: for streams of this node's own resources (a container's logs),
        which clients of other nodes reach with ``/ws?node=NAME``.
        """
        self.services.broker.add_topic(
            prefix, scope=scope, starter=starter, owner=self.name, view=view, cluster=cluster
        )
