"""import_runs: history imports and reconciliations, with the progress a crashed run resumes from

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24

A run commits its progress (lines and bytes of the JSONL read, orders applied, last order id) in the same
transaction as the ledger entries of each chunk, so a run that dies resumes exactly after its last commit.
At most one history import per shop is running at a time (a partial unique index).
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    op.create_table(
        'import_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('source', sa.Text(), nullable=True),
        sa.Column('bulk_operation_id', sa.String(length=255), nullable=True),
        sa.Column('lines_done', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
        sa.Column('bytes_done', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
        sa.Column('orders_done', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('orders_credited', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('points_credited', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
        sa.Column('last_order_id', sa.BigInteger(), nullable=True),
        sa.Column('watermark', sa.DateTime(timezone=True), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('history', 'reconcile')", name=op.f('ck_import_runs_kind_known')),
        sa.CheckConstraint("status IN ('running', 'completed', 'failed')", name=op.f('ck_import_runs_status_known')),
        sa.CheckConstraint('lines_done >= 0 AND bytes_done >= 0 AND orders_done >= 0',
                           name=op.f('ck_import_runs_progress_not_negative')),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_import_runs_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_runs')),
    )
    op.create_index('ix_import_runs_shop', 'import_runs', ['shop_id', 'kind', 'id'], unique=False)
    op.create_index('uq_import_runs_one_running', 'import_runs', ['shop_id', 'kind'], unique=True,
                    sqlite_where=RUNNING, postgresql_where=RUNNING)


def downgrade() -> None:
    op.drop_index('uq_import_runs_one_running', table_name='import_runs')
    op.drop_index('ix_import_runs_shop', table_name='import_runs')
    op.drop_table('import_runs')
