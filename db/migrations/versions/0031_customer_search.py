"""support's customer search: by name, email prefix, Shopify id or order number, from indexes

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06

- customers.name_key ("first last") and surname_key ("last first"): the name folded (lower-case, accents
  dropped: loyalty.domain.customer_search.name_keys), written with the name; filled here for the rows that
  have one. A prefix of either is found by a range (`key >= p AND key < p || U+10FFFF`) on
  (shop_id, key, id), which a btree answers on SQLite and PostgreSQL alike (LIKE 'p%' uses no index on
  SQLite). On PostgreSQL the keys and customers.email are in the "C" collation, so the range holds exactly
  the keys with that prefix whatever the database's default collation (email equality is unchanged; the
  unique index on (shop_id, email) is rebuilt in that collation and answers the email prefix).
- orders (shop_id, name): an order number (`#1001`) names its customer.
"""
from alembic import op
import sqlalchemy as sa

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None

KEY = sa.String(length=511).with_variant(sa.String(length=511, collation="C"), "postgresql")
CHUNK = 5000


def upgrade() -> None:
    from loyalty.domain.customer_search import name_keys

    with op.batch_alter_table('customers') as batch:
        batch.add_column(sa.Column('name_key', KEY, nullable=True))
        batch.add_column(sa.Column('surname_key', KEY, nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute('ALTER TABLE customers ALTER COLUMN email TYPE VARCHAR(320) COLLATE "C"')
    bind, last = op.get_bind(), 0
    while True:  # existing names (written since 0029), a chunk at a time, folded in Python as the app does
        rows = bind.execute(sa.text(
            "SELECT id, first_name, last_name FROM customers WHERE id > :last "
            "AND (first_name IS NOT NULL OR last_name IS NOT NULL) ORDER BY id LIMIT :n"),
            {"last": last, "n": CHUNK}).all()
        if not rows:
            break
        bind.execute(sa.text("UPDATE customers SET name_key = :n, surname_key = :s WHERE id = :id"),
                     [dict(zip(("n", "s"), name_keys(r.first_name, r.last_name)), id=r.id) for r in rows])
        last = rows[-1].id
    op.create_index('ix_customers_name_key', 'customers', ['shop_id', 'name_key', 'id'])
    op.create_index('ix_customers_surname_key', 'customers', ['shop_id', 'surname_key', 'id'])
    op.create_index('ix_orders_shop_name', 'orders', ['shop_id', 'name'])


def downgrade() -> None:
    op.drop_index('ix_orders_shop_name', table_name='orders')
    op.drop_index('ix_customers_surname_key', table_name='customers')
    op.drop_index('ix_customers_name_key', table_name='customers')
    if op.get_bind().dialect.name == "postgresql":
        op.execute('ALTER TABLE customers ALTER COLUMN email TYPE VARCHAR(320) COLLATE "default"')
    with op.batch_alter_table('customers') as batch:
        batch.drop_column('surname_key')
        batch.drop_column('name_key')
