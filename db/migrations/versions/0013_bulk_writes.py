"""bulk_writes: balance write-backs by bulk mutation, with the state a crashed job resumes from

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05

Above a threshold of waiting customers, a shop's balances are written by one bulk mutation (Shopify runs one
at a time per shop and app). Its row says where it stands, so the next job resumes it instead of starting a
second; its lines (one per customer: the customer_sync.changed_at seen and the JSONL line) map Shopify's
result lines back to customers, whose waiting rows are deleted only when unchanged since.
"""
from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

ACTIVE = sa.text("status <> 'done'")


def upgrade() -> None:
    op.create_table(
        'bulk_writes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('bulk_operation_id', sa.String(length=255), nullable=True),
        sa.Column('lines', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('bytes', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
        sa.Column('written', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('rejected', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('starting_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('preparing', 'starting', 'running', 'done')",
                           name=op.f('ck_bulk_writes_status_known')),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_bulk_writes_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_writes')),
    )
    op.create_index('ix_bulk_writes_shop', 'bulk_writes', ['shop_id', 'id'], unique=False)
    op.create_index('uq_bulk_writes_one_active', 'bulk_writes', ['shop_id'], unique=True,
                    sqlite_where=ACTIVE, postgresql_where=ACTIVE)
    op.create_table(
        'bulk_write_lines',
        sa.Column('write_id', sa.Integer(), nullable=False),
        sa.Column('line', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('variables', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['write_id'], ['bulk_writes.id'],
                                name=op.f('fk_bulk_write_lines_write_id_bulk_writes'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_bulk_write_lines_customer_id_customers'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('write_id', 'line', name=op.f('pk_bulk_write_lines')),
    )
    # one line per customer and operation: two lines of one customer could run in either order
    op.create_index('uq_bulk_write_lines_customer', 'bulk_write_lines', ['write_id', 'customer_id'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_bulk_write_lines_customer', table_name='bulk_write_lines')
    op.drop_table('bulk_write_lines')
    op.drop_index('uq_bulk_writes_one_active', table_name='bulk_writes')
    op.drop_index('ix_bulk_writes_shop', table_name='bulk_writes')
    op.drop_table('bulk_writes')
