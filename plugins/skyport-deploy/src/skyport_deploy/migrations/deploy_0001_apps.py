"""Deployed apps and their releases.

Revision ID: deploy_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "deploy_0001"
down_revision = None
branch_labels = ("deploy",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deploy_apps",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("target", sa.String(8), nullable=False),
        sa.Column("deployer", sa.String(64), nullable=False),
        sa.Column("port", sa.Integer, nullable=True),
        sa.Column("live", sa.Integer, nullable=True),
        sa.Column("previous", sa.Integer, nullable=True),
        sa.Column("env", sa.Text, nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("updated", sa.Float, nullable=False),
    )
    op.create_table(
        "deploy_releases",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("app", sa.String(40), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("source", sa.String(1024), nullable=False),
        sa.Column("detection", sa.Text, nullable=True),
        sa.Column("resource_id", sa.String(255), nullable=False),
        sa.Column("port", sa.Integer, nullable=True),
        sa.Column("env_keys", sa.Text, nullable=False),
        sa.Column("steps", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("server", sa.String(255), nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("finished", sa.Float, nullable=True),
        sa.UniqueConstraint("app", "number", name="uq_deploy_releases_app_number"),
    )
    op.create_index("ix_deploy_releases_app", "deploy_releases", ["app"])
