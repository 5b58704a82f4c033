"""ledger_entries kind `bonus`: points given for something other than an order, available at once

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06

Sign-up points, birthday points, points for an action (a review, a Flow action), a referral reward: each is
one `bonus` entry (pending 0, available > 0) under its own idempotency key, counted in lifetime points like
an order's earn. The kind list and the sign rules are CHECK constraints, so both are replaced (SQLite
rebuilds the table for that and loses its trigger: the immutability trigger of 0001 is made again).
"""
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('earn', 'mature', 'claw_back', 'void', 'expire', 'redeem', 'recredit', 'adjust')"
NEW_KINDS = "kind IN ('earn', 'mature', 'claw_back', 'void', 'expire', 'redeem', 'recredit', 'adjust', 'bonus')"
OLD_SIGNS = ("(kind = 'earn' AND pending > 0 AND available = 0)"
             " OR (kind = 'mature' AND pending < 0 AND available = -pending)"
             " OR (kind IN ('claw_back', 'void') AND pending <= 0 AND available <= 0 AND pending + available < 0)"
             " OR (kind IN ('expire', 'redeem') AND pending = 0 AND available < 0)"
             " OR (kind = 'recredit' AND pending = 0 AND available > 0)"
             " OR (kind = 'adjust' AND pending = 0 AND available <> 0)")
NEW_SIGNS = OLD_SIGNS.replace("(kind = 'recredit' AND", "(kind IN ('recredit', 'bonus') AND")


IMMUTABLE_COLUMNS = "kind, pending, available, idempotency_key, order_id, shop_id, effective_at"


def _replace(kinds: str, signs: str) -> None:
    with op.batch_alter_table('ledger_entries') as batch:
        batch.drop_constraint(op.f('ck_ledger_entries_kind_known'), type_='check')
        batch.drop_constraint(op.f('ck_ledger_entries_signs_match_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_ledger_entries_kind_known'), kinds)
        batch.create_check_constraint(op.f('ck_ledger_entries_signs_match_kind'), signs)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS ledger_entries_immutable")
        op.execute(f"CREATE TRIGGER ledger_entries_immutable BEFORE UPDATE OF {IMMUTABLE_COLUMNS} ON ledger_entries "
                   "BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END")


def upgrade() -> None:
    _replace(NEW_KINDS, NEW_SIGNS)


def downgrade() -> None:
    op.execute("DELETE FROM ledger_entries WHERE kind = 'bonus'")
    _replace(OLD_KINDS, OLD_SIGNS)
