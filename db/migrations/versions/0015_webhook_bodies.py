"""webhook_bodies: each inbox row's body in a table of its own, the inbox rows narrow

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

A webhook's body (5-30 KB) sat beside its state columns. On SQLite a body that large lives in overflow
pages, and every UPDATE that changes the row's size (the claim sets lease_owner and lease_until, the
processed mark clears them) rewrote the whole record with its overflow chain: twice per webhook. The bodies
move to `webhook_bodies` (one row per inbox row, deleted with it), existing ones included.

On SQLite, dropping the column rebuilds webhook_inbox (batch mode: copy, drop, rename). Alembic's engine
(db/migrations/env.py) leaves foreign keys off, so dropping the old table does not cascade to the bodies
just copied; the migration checks that before it starts. The two partial indexes are dropped and created
again around the rebuild, so their WHERE clauses are kept as declared.
"""
from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

UNPROCESSED = 'processed_at IS NULL AND failed_at IS NULL'
FAILED = 'failed_at IS NOT NULL'


def upgrade() -> None:
    _foreign_keys_off_on_sqlite()
    op.create_table(
        'webhook_bodies',
        sa.Column('inbox_id', sa.Integer(), nullable=False),
        sa.Column('body', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['inbox_id'], ['webhook_inbox.id'], ondelete='CASCADE',
                                name=op.f('fk_webhook_bodies_inbox_id_webhook_inbox')),
        sa.PrimaryKeyConstraint('inbox_id', name=op.f('pk_webhook_bodies')),
    )
    op.execute('INSERT INTO webhook_bodies (inbox_id, body) SELECT id, body FROM webhook_inbox')
    with _rebuilding_inbox():
        with op.batch_alter_table('webhook_inbox') as batch:
            batch.drop_column('body')


def downgrade() -> None:
    _foreign_keys_off_on_sqlite()
    with op.batch_alter_table('webhook_inbox') as batch:
        batch.add_column(sa.Column('body', sa.LargeBinary(), nullable=True))
    op.get_bind().execute(sa.text(
        'UPDATE webhook_inbox SET body = COALESCE('
        '(SELECT body FROM webhook_bodies WHERE webhook_bodies.inbox_id = webhook_inbox.id), :empty)'),
        {'empty': b'{}'})
    with _rebuilding_inbox():
        with op.batch_alter_table('webhook_inbox') as batch:
            batch.alter_column('body', existing_type=sa.LargeBinary(), nullable=False)
    op.drop_table('webhook_bodies')


def _foreign_keys_off_on_sqlite() -> None:
    """SQLite's table rebuild drops webhook_inbox: with foreign keys on, that would delete every body."""
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite' and bind.exec_driver_sql('PRAGMA foreign_keys').scalar():
        raise RuntimeError('migration 0015 must run with SQLite foreign keys off (as db/migrations/env.py does)')


class _rebuilding_inbox:
    """Around a batch change of webhook_inbox: on SQLite (where it rebuilds the table) its partial
    indexes are dropped before and created after, with their WHERE clauses."""

    def __enter__(self):
        self.sqlite = op.get_bind().dialect.name == 'sqlite'
        if self.sqlite:
            op.drop_index('ix_webhook_inbox_unprocessed', table_name='webhook_inbox')
            op.drop_index('ix_webhook_inbox_failed', table_name='webhook_inbox')

    def __exit__(self, kind, *_):
        if self.sqlite and kind is None:
            op.create_index('ix_webhook_inbox_unprocessed', 'webhook_inbox', ['id'],
                            sqlite_where=sa.text(UNPROCESSED))
            op.create_index('ix_webhook_inbox_failed', 'webhook_inbox', ['failed_at'],
                            sqlite_where=sa.text(FAILED))
