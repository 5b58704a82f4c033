"""campaigns: what each campaign added to an order's award; the products of the campaigns' collections

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06

`orders.campaigns` keeps, when an order's award is fixed, the campaigns that added to it and what each
added (JSON `[[key, points], ...]`; NULL: none), so the order's ledger reason names them and nothing later
(a campaign edited or ended) changes what the order earned. `collection_products` lists the products of the
collections campaigns are limited to, as Shopify listed them at the last refresh (when the programme is
saved, and daily), read in bulk for a batch of orders.
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('campaigns', sa.Text(), nullable=True))
    op.create_table(
        'collection_products',
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('collection_id', sa.BigInteger(), nullable=False),
        sa.Column('product_id', sa.BigInteger(), nullable=False),
        sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_collection_products_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('shop_id', 'collection_id', 'product_id', name=op.f('pk_collection_products')),
    )


def downgrade() -> None:
    op.drop_table('collection_products')
    with op.batch_alter_table('orders') as batch:
        batch.drop_column('campaigns')
