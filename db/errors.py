"""Errors of the database adapter."""
from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError


class DatabaseNotMigrated(RuntimeError):
    """The database schema is not at the revision this code expects."""


class CommitTimeout(SQLAlchemyError):
    """The batch holding this row was not written in time."""
