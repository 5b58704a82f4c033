"""refunds.(shop_id, shopify_order_id) references orders: a refund's order row exists

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23

A refund may arrive before its order, but its event creates the order's row (empty) first, and the history
import writes the order before its refunds. A worker's batch relies on it: when its event creates an
order's row, no other transaction can have committed a refund of that order, so a hint read at the batch's
start (no refund) still holds. The key makes that premise the database's. Orders missing for refunds
recorded before (none are expected) are created empty, as their events would create them now.
"""
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("INSERT INTO orders (shop_id, shopify_order_id) "
               "SELECT DISTINCT r.shop_id, r.shopify_order_id FROM refunds r WHERE NOT EXISTS ("
               "SELECT 1 FROM orders o WHERE o.shop_id = r.shop_id AND o.shopify_order_id = r.shopify_order_id)")
    with op.batch_alter_table('refunds') as batch:
        batch.create_foreign_key(op.f('fk_refunds_shop_id_orders'), 'orders', ['shop_id', 'shopify_order_id'],
                                 ['shop_id', 'shopify_order_id'])


def downgrade() -> None:
    with op.batch_alter_table('refunds') as batch:
        batch.drop_constraint(op.f('fk_refunds_shop_id_orders'), type_='foreignkey')
