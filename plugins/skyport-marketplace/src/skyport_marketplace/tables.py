"""The marketplace's tables, all in one place (SQLAlchemy Core).

Catalog sources added through the API, installed apps and the jobs that
install, update and remove them live in the database, so every server of a
cluster sees them, and so do the catalogs as last read from their sources:
one node reads them, every node serves them (see :mod:`skyport_marketplace.kept`).
The revisions in ``migrations/`` create them; a test checks the two agree.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

sources = sa.Table(
    "marketplace_sources",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
)

catalogs = sa.Table(
    "marketplace_catalogs",
    metadata,
    # a source's name (from the settings or marketplace_sources), format and location
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("url", sa.String(2048), nullable=False),
    # the last successful read (None: none yet) and the last try
    sa.Column("refreshed", sa.Float, nullable=True),
    sa.Column("attempted", sa.Float, nullable=False),
    # why the last try failed (the body of the read before is still served)
    sa.Column("error", sa.Text, nullable=True),
    # the templates of the last successful read: a KeptCatalog, JSON, zlib-compressed
    sa.Column("body", sa.LargeBinary, nullable=True),
)

installs = sa.Table(
    "marketplace_installs",
    metadata,
    sa.Column("name", sa.String(63), primary_key=True),
    sa.Column("app_id", sa.String(128), nullable=False),
    sa.Column("title", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    # installing, installed, updating, removing or failed
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("deployer", sa.String(64), nullable=False, default=""),
    sa.Column("resource_id", sa.String(255), nullable=False, default=""),
    # the template as installed (JSON): what update and uninstall work from
    sa.Column("template", sa.Text, nullable=False),
    # the settings' values (JSON) without the secret ones, which are encrypted in "secrets"
    sa.Column("values", sa.Text, nullable=False),
    sa.Column("secrets", sa.Text, nullable=True),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
    # the cluster node it runs on (nodes share the database; "" before marketplace_0002)
    sa.Column("node", sa.String(64), nullable=False, server_default=""),
)

jobs = sa.Table(
    "marketplace_jobs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("target", sa.String(128), nullable=False),
    sa.Column("username", sa.String(64), nullable=False),
    # the node running it (cluster.node_name, else the host name): its restart ends them
    sa.Column("server", sa.String(255), nullable=False),
    # running, done or failed
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("steps", sa.Text, nullable=False, default="[]"),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("result", sa.Text, nullable=True),
    sa.Column("created", sa.Float, nullable=False, index=True),
    sa.Column("finished", sa.Float, nullable=True),
)
