"""rewards done the Shopify way: percentage codes, a picked free item, the app's full-price collection

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06

A voucher may be a percentage off (`percentage`, 1-100; its `amount` is then 0) and a free item the customer
picked is a code for one product variant (`variant_id`, worth that variant's price). `shop_collections`
holds the collections the app made and maintains in a shop (`purpose` 'full_price': the smart collection of
full-price products that vouchers are limited to when the programme asks for it).
"""
from alembic import op
import sqlalchemy as sa

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('vouchers') as batch:
        batch.add_column(sa.Column('percentage', sa.Numeric(precision=5, scale=2), nullable=True))
        batch.add_column(sa.Column('variant_id', sa.BigInteger(), nullable=True))
        batch.create_check_constraint(op.f('ck_vouchers_percentage_range'),
                                      "percentage IS NULL OR (percentage > 0 AND percentage <= 100)")
    op.create_table(
        'shop_collections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=32), nullable=False),
        sa.Column('shopify_collection_id', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("purpose IN ('full_price')", name=op.f('ck_shop_collections_purpose_known')),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_shop_collections_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shop_collections')),
        sa.UniqueConstraint('shop_id', 'purpose', name=op.f('uq_shop_collections_shop_id')),
    )


def downgrade() -> None:
    op.drop_table('shop_collections')
    with op.batch_alter_table('vouchers') as batch:
        batch.drop_constraint(op.f('ck_vouchers_percentage_range'), type_='check')
        batch.drop_column('variant_id')
        batch.drop_column('percentage')
