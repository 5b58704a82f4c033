"""email_texts: a merchant's own subject and body per email kind and language; the voucher_cancelled email

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07

A shop may replace the built-in subject and body of an email kind in a language (checked when saved:
loyalty.domain.email_texts). They live in a table of their own rather than in the programme document: they
are edited one at a time, in both languages whatever the programme's language, and changing a word of an
email must not make a new programme version (awards remember the version whose rules they used). No row:
the built-in text. The notifications outbox gains the `voucher_cancelled` kind (customer service cancelled
a voucher; its points came back).
"""
from alembic import op
import sqlalchemy as sa

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

OLD_EMAILS = ("kind IN ('points_available', 'threshold_reached', 'voucher_created', 'points_expiring', 'birthday', "
              "'points_awarded', 'birthday_gift', 'tier_changed', 'referral_friend', 'referral_reward', "
              "'store_credit_issued')")
NEW_EMAILS = OLD_EMAILS.replace("'store_credit_issued')", "'store_credit_issued', 'voucher_cancelled')")


def _emails(kinds: str) -> None:
    with op.batch_alter_table('notifications') as batch:
        batch.drop_constraint(op.f('ck_notifications_kind_known'), type_='check')
        batch.create_check_constraint(op.f('ck_notifications_kind_known'), kinds)


def upgrade() -> None:
    op.create_table(
        'email_texts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('subject', sa.Text(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_email_texts_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_email_texts')),
        sa.UniqueConstraint('shop_id', 'kind', 'language', name='uq_email_texts_shop_kind_language'),
    )
    _emails(NEW_EMAILS)


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE kind = 'voucher_cancelled'")
    _emails(OLD_EMAILS)
    op.drop_table('email_texts')
