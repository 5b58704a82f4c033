"""shops.shopify_shop_id: Shopify's numeric id of the shop, to bind webhook bodies to their shop

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

Shopify signs a webhook's body with the app's one secret for every shop, and the shop domain header is not
signed: the body names its shop (compliance topics' `shop_id`, app/uninstalled's `id`, an order status URL's
path), and the app compares it with this id. NULL until the app has read it from the Admin API (`shop { id }`
at install, or later when a client is at hand); while NULL, only the domains a body names are compared.
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shops') as batch:
        batch.add_column(sa.Column('shopify_shop_id', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('shops') as batch:
        batch.drop_column('shopify_shop_id')
