"""Remote engines added through the API (SkyPort 0.1.0).

Revision ID: docker_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "docker_0001"
down_revision = None
branch_labels = ("docker",)
depends_on = None

skyport_legacy_id = "docker:0001_engines"


def upgrade() -> None:
    op.create_table(
        "docker_engines",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("url", sa.String(512), nullable=False),
        sa.Column("tls_ca", sa.String(1024), nullable=True),
        sa.Column("tls_cert", sa.String(1024), nullable=True),
        sa.Column("tls_key", sa.String(1024), nullable=True),
    )
