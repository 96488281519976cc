"""The deploy plugin's tables, all in one place (SQLAlchemy Core).

An app is a name with its live release; each deploy is a release (and, while
it runs, a job whose progress goes to ``deploy.jobs:<release id>``). The
revisions in ``migrations/`` create them; a test checks the two agree.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

apps = sa.Table(
    "deploy_apps",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    # deploying, live, failed or removing
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("target", sa.String(8), nullable=False),
    sa.Column("deployer", sa.String(64), nullable=False),
    sa.Column("port", sa.Integer, nullable=True),
    # the release numbers answering now, and the one kept (stopped) for a rollback
    sa.Column("live", sa.Integer, nullable=True),
    sa.Column("previous", sa.Integer, nullable=True),
    # the values given with --set/--env-file so far (JSON), encrypted: later deploys keep them
    sa.Column("env", sa.Text, nullable=True),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
    # the cluster node it runs on (nodes share the database; "" before deploy_0002)
    sa.Column("node", sa.String(64), nullable=False, server_default=""),
)

releases = sa.Table(
    "deploy_releases",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("app", sa.String(40), nullable=False, index=True),
    sa.Column("number", sa.Integer, nullable=False),
    # running, live, previous, failed or retired
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("source", sa.String(1024), nullable=False),
    # the detection (JSON: type, evidence, plan), once made
    sa.Column("detection", sa.Text, nullable=True),
    sa.Column("resource_id", sa.String(255), nullable=False),
    sa.Column("port", sa.Integer, nullable=True),
    # the environment's names (JSON list; the values are the app's, encrypted)
    sa.Column("env_keys", sa.Text, nullable=False),
    sa.Column("steps", sa.Text, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("username", sa.String(64), nullable=False),
    # the node running it (cluster.node_name, else the host name): its restart ends them
    sa.Column("server", sa.String(255), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("finished", sa.Float, nullable=True),
    sa.UniqueConstraint("app", "number", name="uq_deploy_releases_app_number"),
)
