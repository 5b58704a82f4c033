"""webhook_bodies.body compressed with lz4 on PostgreSQL

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06

PostgreSQL compresses a value over 2 KB before storing it out of line (TOAST), with pglz unless told
otherwise. For the 5-30 KB JSON bodies of webhooks pglz cost the server more CPU per webhook than any other
part of recording it: inserting 4,000 real-shaped bodies (11.7 KB median) took 460-500 µs of backend CPU
each with pglz, 260-320 µs with lz4 (3.7 KB stored against 3.3 KB), and 330-410 µs not compressed at all
(10.6 KB of table and WAL). lz4 needs PostgreSQL 14 built with it (Debian's and the usual hosted ones are);
without it the column keeps the default. Only values written from now on are compressed this way: old
ones stay readable as they are. Nothing to do on SQLite, which stores bodies as given.
"""
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if _lz4_available():
        op.execute('ALTER TABLE webhook_bodies ALTER COLUMN body SET COMPRESSION lz4')


def downgrade() -> None:
    if _lz4_available():
        op.execute('ALTER TABLE webhook_bodies ALTER COLUMN body SET COMPRESSION DEFAULT')


def _lz4_available() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return False
    return bool(bind.exec_driver_sql(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'").scalar())
