"""SQLite session store: the embedded default (one file, no server)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from .base import SessionConflict, SessionNotFound, SessionStore
from .model import QuizSession

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY,
    revision   INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    data       TEXT NOT NULL
)
"""
PURGE_EVERY_SECONDS = 600


class SQLiteSessionStore(SessionStore):
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.location = str(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection per thread: sqlite3 connections must not be shared across threads,
        # and uvicorn/the test client run sync endpoints in a thread pool.
        self._local = threading.local()
        self._last_purge = 0.0
        with self._connect() as db:
            db.execute(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            # WAL + NORMAL: readers don't block the writer and a commit costs no fsync, which
            # keeps a pick in the sub-millisecond range; a crash may lose the last pick only.
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def create(self, session: QuizSession) -> None:
        db = self._connect()
        self._purge_expired(db)
        try:
            db.execute(
                "INSERT INTO sessions (session_id, revision, expires_at, data) VALUES (?,?,?,?)",
                (session.session_id, session.revision, session.expires_at, session.to_json()),
            )
        except sqlite3.IntegrityError:
            raise SessionConflict(f"session {session.session_id} already exists") from None

    def get(self, session_id: str) -> QuizSession:
        row = self._connect().execute(
            "SELECT data FROM sessions WHERE session_id = ? AND expires_at > ?",
            (session_id, int(time.time())),
        ).fetchone()
        if row is None:
            raise SessionNotFound(session_id)
        return QuizSession.from_json(row[0])

    def replace(self, session: QuizSession, expected_revision: int) -> None:
        # A single UPDATE ... WHERE revision = ? is atomic in SQLite: of two writers that read
        # the same revision, exactly one matches the row.
        cursor = self._connect().execute(
            "UPDATE sessions SET revision = ?, expires_at = ?, data = ? "
            "WHERE session_id = ? AND revision = ?",
            (session.revision, session.expires_at, session.to_json(), session.session_id,
             expected_revision),
        )
        if cursor.rowcount != 1:
            raise SessionConflict(f"session {session.session_id} changed concurrently")

    def _purge_expired(self, db: sqlite3.Connection) -> None:
        now = time.time()
        if now - self._last_purge > PURGE_EVERY_SECONDS:
            self._last_purge = now
            db.execute("DELETE FROM sessions WHERE expires_at <= ?", (int(now),))

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
