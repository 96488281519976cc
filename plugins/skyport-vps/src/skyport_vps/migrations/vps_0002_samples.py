"""Metrics of the servers sampled by one node of a cluster, read by every node.

``vps_samples``: the latest sample of each server (the encoded ``ServerMetrics``).
``vps_sampling``: one row, when the leading node last wrote a round of samples and when
a node last wanted some (the leader samples on demand when metrics history is off).

Revision ID: vps_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "vps_0002"
down_revision = "vps_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vps_samples",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("sampled_at", sa.Float, nullable=False),
    )
    sampling = op.create_table(
        "vps_sampling",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("sampled_at", sa.Float, nullable=True),
        sa.Column("wanted_at", sa.Float, nullable=True),
    )
    op.bulk_insert(sampling, [{"id": 1, "sampled_at": None, "wanted_at": None}])
