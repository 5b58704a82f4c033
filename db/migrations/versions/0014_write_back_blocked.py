"""shops.write_back_error: why no balance of the shop can be written back (its token is not usable)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05

A shop still installed whose Admin API token cannot be used (a custom app's token revoked, an OAuth token
past refreshing) cannot have any balance written back. Its waiting write-backs are kept (they used to be
dropped as if the shop had uninstalled) and the reason is recorded here, listed as a failure until a
write-back succeeds again.
"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shops') as batch:
        batch.add_column(sa.Column('write_back_error', sa.Text(), nullable=True))
        batch.add_column(sa.Column('write_back_error_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('shops') as batch:
        batch.drop_column('write_back_error_at')
        batch.drop_column('write_back_error')
