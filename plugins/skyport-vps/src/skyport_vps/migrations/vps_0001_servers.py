"""Servers reached over SSH, with their encrypted credentials (SkyPort 0.1.0).

Revision ID: vps_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "vps_0001"
down_revision = None
branch_labels = ("vps",)
depends_on = None

skyport_legacy_id = "vps:0001_servers"


def upgrade() -> None:
    op.create_table(
        "vps_servers",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("port", sa.Integer, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("auth", sa.String(16), nullable=False),
        sa.Column("secret", sa.Text, nullable=True),
        sa.Column("key_file", sa.String(1024), nullable=True),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("jump", sa.String(64), nullable=True),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("host_key", sa.Text, nullable=True),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("updated", sa.Float, nullable=False),
    )
