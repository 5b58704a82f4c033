"""ledger kind `bonus`; vouchers that cost no points (gifts), free shipping and store credit; new email kinds

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06

Sign-up points, birthday points, points for an action (a review, a Flow action), a referral reward: each is
one `bonus` entry (pending 0, available > 0) under its own idempotency key, counted in lifetime points like
an order's earn. The kind list and the sign rules are CHECK constraints, so both are replaced (SQLite
rebuilds the table for that and loses its trigger: the immutability trigger of 0001 is made again).

A voucher may now cost 0 points (a birthday gift, a referred friend's first-order code) and be worth 0 (a
free shipping code); its kinds add `free_shipping` and `store_credit`. Emails gain the kinds of the new
rules: points awarded (sign-up, action, referral), a birthday gift, a tier change, a referred friend's code,
a referral reward, store credit issued.
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


OLD_VOUCHER_KINDS = "kind IN ('discount', 'gift_card', 'donation')"
NEW_VOUCHER_KINDS = "kind IN ('discount', 'gift_card', 'donation', 'free_shipping', 'store_credit')"
OLD_EMAILS = "kind IN ('points_available', 'threshold_reached', 'voucher_created', 'points_expiring', 'birthday')"
NEW_EMAILS = OLD_EMAILS.replace("'birthday')", "'birthday', 'points_awarded', 'birthday_gift', 'tier_changed', "
                                              "'referral_friend', 'referral_reward', 'store_credit_issued')")


def _vouchers(kinds: str, positive: str) -> None:
    with op.batch_alter_table('vouchers') as batch:
        batch.drop_constraint(op.f('ck_vouchers_kind_known'), type_='check')
        batch.drop_constraint(op.f('ck_vouchers_positive'), type_='check')
        batch.create_check_constraint(op.f('ck_vouchers_kind_known'), kinds)
        batch.create_check_constraint(op.f('ck_vouchers_positive'), positive)


def _emails(kinds: str) -> None:
    with op.batch_alter_table('notifications') as batch:
        batch.drop_constraint(op.f('ck_notifications_kind_known'), type_='check')
        batch.create_check_constraint(op.f('ck_notifications_kind_known'), kinds)


def upgrade() -> None:
    _replace(NEW_KINDS, NEW_SIGNS)
    _vouchers(NEW_VOUCHER_KINDS, "points >= 0 AND amount >= 0")
    _emails(NEW_EMAILS)


def downgrade() -> None:
    op.execute("DELETE FROM ledger_entries WHERE kind = 'bonus'")
    _replace(OLD_KINDS, OLD_SIGNS)
    op.execute("DELETE FROM vouchers WHERE kind IN ('free_shipping', 'store_credit') OR points = 0 OR amount = 0")
    _vouchers(OLD_VOUCHER_KINDS, "points > 0 AND amount > 0")
    op.execute("DELETE FROM notifications WHERE kind NOT IN ('points_available', 'threshold_reached', "
               "'voucher_created', 'points_expiring', 'birthday')")
    _emails(OLD_EMAILS)
