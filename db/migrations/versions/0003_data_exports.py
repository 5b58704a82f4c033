"""data exports answering customers/data_request

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

The export is kept in the database (not on a web host's ephemeral disk) until the merchant retrieves it
with `loyalty privacy export`; shop/redact removes it with the shop.
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'data_exports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('data_request_id', sa.BigInteger(), nullable=True),
        sa.Column('shopify_customer_id', sa.BigInteger(), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_data_exports_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_exports')),
        sa.UniqueConstraint('shop_id', 'data_request_id', name='uq_data_exports_shop_request'),
    )


def downgrade() -> None:
    op.drop_table('data_exports')
