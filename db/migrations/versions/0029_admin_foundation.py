"""the merchant's admin: the shop's facts, customers' names and tags, who saved a programme, the audit log

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06

- shops: the name, IANA time zone, currency and primary locale Shopify gives (read at install, on
  `shop/update` and daily): report days, birthdays and schedules follow the shop's clock, amounts its
  currency, the admin its language.
- customers: first and last name and tags, as customers/create|update and orders give them: support finds a
  customer by name and sees their tags (protected customer data: README, docs/privacy.md).
- programme_settings.actor: the staff member who saved a version (the session token's `sub`).
- audit_events: every change a person makes (a programme version, an adjustment, a voucher cancelled, a
  birthday corrected, failed work retried), with who, when, why and the diff; never updated.
"""
from alembic import op
import sqlalchemy as sa

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

ACTIONS = ("programme_saved", "points_adjusted", "action_awarded", "voucher_cancelled", "birthday_corrected",
           "failed_work_retried", "email_text_saved")


def upgrade() -> None:
    with op.batch_alter_table('shops') as batch:
        batch.add_column(sa.Column('name', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('iana_timezone', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('currency_code', sa.String(length=3), nullable=True))
        batch.add_column(sa.Column('primary_locale', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('facts_read_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('customers') as batch:
        batch.add_column(sa.Column('first_name', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('last_name', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('tags', sa.Text(), nullable=True))
    with op.batch_alter_table('programme_settings') as batch:
        batch.add_column(sa.Column('actor', sa.String(length=255), nullable=True))
    op.create_table(
        'audit_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=255), nullable=True),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('subject', sa.String(length=255), nullable=True),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('details', sa.Text(), nullable=True),
        sa.CheckConstraint("action IN (%s)" % ", ".join(f"'{a}'" for a in ACTIONS),
                           name=op.f('ck_audit_events_action_known')),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_audit_events_customer_id_customers'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_audit_events_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    )
    op.create_index('ix_audit_events_shop_at', 'audit_events', ['shop_id', 'at'])
    op.create_index('ix_audit_events_shop_action_at', 'audit_events', ['shop_id', 'action', 'at'])
    op.create_index('ix_audit_events_customer', 'audit_events', ['customer_id'])


def downgrade() -> None:
    op.drop_index('ix_audit_events_customer', table_name='audit_events')
    op.drop_index('ix_audit_events_shop_action_at', table_name='audit_events')
    op.drop_index('ix_audit_events_shop_at', table_name='audit_events')
    op.drop_table('audit_events')
    with op.batch_alter_table('programme_settings') as batch:
        batch.drop_column('actor')
    with op.batch_alter_table('customers') as batch:
        batch.drop_column('tags')
        batch.drop_column('last_name')
        batch.drop_column('first_name')
    with op.batch_alter_table('shops') as batch:
        for column in ('facts_read_at', 'primary_locale', 'currency_code', 'iana_timezone', 'name'):
            batch.drop_column(column)
