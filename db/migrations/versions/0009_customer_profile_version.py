"""customers.profile_updated_at: customer webhooks applied in Shopify's order, not delivery order

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23

A customers/update delivered after a newer one must not put the old email back on the account.
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customers') as batch:
        batch.add_column(sa.Column('profile_updated_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('customers') as batch:
        batch.drop_column('profile_updated_at')
