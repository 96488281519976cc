"""An installed app remembers the cluster node it runs on: each node lists and changes
its own.

Revision ID: marketplace_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "marketplace_0002"
down_revision = "marketplace_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("marketplace_installs") as table:
        table.add_column(sa.Column("node", sa.String(64), nullable=False, server_default=""))
