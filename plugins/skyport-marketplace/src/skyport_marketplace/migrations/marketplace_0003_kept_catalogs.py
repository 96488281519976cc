"""The catalogs as last read from their sources are kept in the database (they were kept on
disk by each node): one node of a cluster reads them, every node serves them.

Revision ID: marketplace_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "marketplace_0003"
down_revision = "marketplace_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "marketplace_catalogs",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("refreshed", sa.Float, nullable=True),
        sa.Column("attempted", sa.Float, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("body", sa.LargeBinary, nullable=True),
    )
