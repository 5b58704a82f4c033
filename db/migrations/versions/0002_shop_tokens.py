"""shop tokens: refresh token and expiries on shops, OAuth state nonces

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

Expiring offline tokens last an hour and come with a refresh token that rotates on every use, so a shop
row now keeps both tokens (encrypted) and when each expires. NULL expiries mean a token that does not
expire (a custom app's pasted token, or a non-expiring offline token).

`oauth_states` holds the `state` nonce of an install in progress: single use, ten minutes of life.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite cannot ALTER much, Alembic rebuilds the table there; PostgreSQL alters in place.
    with op.batch_alter_table('shops', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refresh_token', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('access_token_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('refresh_token_expires_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('oauth_states',
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('shop_domain', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('nonce', name=op.f('pk_oauth_states'))
    )


def downgrade() -> None:
    op.drop_table('oauth_states')
    with op.batch_alter_table('shops', schema=None) as batch_op:
        batch_op.drop_column('refresh_token_expires_at')
        batch_op.drop_column('access_token_expires_at')
        batch_op.drop_column('refresh_token')
