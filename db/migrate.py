"""Alembic from code: upgrade to head, and refuse to run on a database that is not at head."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from db.errors import DatabaseNotMigrated
from db.engine import reading

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> AlembicConfig:
    """An Alembic config pointing at our migrations and the given database."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str) -> None:
    """Bring the database to the latest revision."""
    command.upgrade(alembic_config(database_url), "head")


def check_at_head(engine: Engine) -> None:
    """Raise DatabaseNotMigrated with the command to run when the schema is behind (or ahead)."""
    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    with reading(engine) as conn:  # a read: a starting web process must not queue for SQLite's write lock
        current = MigrationContext.configure(conn).get_current_revision()
    if current != head:
        raise DatabaseNotMigrated(
            f"database {engine.url.render_as_string(hide_password=True)} is at revision {current or 'none'}, "
            f"this code needs {head}: run `make migrate` (or `loyalty db upgrade`) first"
        )
