"""Session stores: SQLite file (embedded default) or DynamoDB, chosen by a location string."""

from __future__ import annotations

from .base import SessionConflict, SessionNotFound, SessionStore
from .model import QuizSession

__all__ = ["QuizSession", "SessionConflict", "SessionNotFound", "SessionStore",
           "open_session_store"]


def open_session_store(location: str) -> SessionStore:
    """`dynamodb://table` → DynamoDB; anything else is a SQLite file path."""
    if location.startswith("dynamodb://"):
        from .dynamodb import DynamoDBSessionStore

        table = location[len("dynamodb://"):].strip("/")
        if not table:
            raise ValueError(f"no table name in {location!r}")
        return DynamoDBSessionStore(table)
    from .sqlite import SQLiteSessionStore

    return SQLiteSessionStore(location)
