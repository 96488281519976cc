"""API tokens remember the token that created them (revoking it revokes them too).

Revision ID: core_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "core_0002"
down_revision = "core_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as table:
        table.add_column(sa.Column("parent_id", sa.String(32), nullable=True))
