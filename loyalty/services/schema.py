"""The database schema, for the operator: migrate it to the revision this code expects."""
from __future__ import annotations

from db.migrate import upgrade
from loyalty.services.context import Context


def upgrade_schema(ctx: Context) -> None:
    """Migrate the process's database (DATABASE_URL) to the latest revision (Alembic; safe to run again)."""
    upgrade(ctx.config.database_url)
