"""SQLite session store: the embedded default (one file, no server).

Durability: WAL journal with synchronous=NORMAL. A commit appends to the WAL without fsync, so
a pick costs no disk flush; an application crash loses nothing committed, a power loss or OS
crash may lose the last picks since the latest WAL sync (never corrupts the file). For quiz
picks that is enough: the user re-picks the round. The fsyncs happen at WAL checkpoints, which
a background thread runs (every CHECKPOINT_EVERY_SECONDS), so no request waits for the disk;
SQLite's own auto-checkpoint in the writing connection stays on as a backstop, at a size the
background thread normally never lets the WAL reach."""

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
CHECKPOINT_EVERY_SECONDS = 1.0
# Backstop: a writer checkpoints itself (with fsync, on the request path) past this many WAL
# pages (4 KiB each), e.g. if the checkpoint thread is starved.
WAL_AUTOCHECKPOINT_PAGES = 20_000


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
        self._stop = threading.Event()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, name=f"wal-checkpoint:{self.path.name}", daemon=True
        )
        self._checkpointer.start()

    def _connect(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            # WAL + NORMAL (see the module docstring): readers don't block the writer and a
            # commit costs no fsync.
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
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

    def _checkpoint_loop(self) -> None:
        # PASSIVE: copies committed WAL frames into the database without blocking readers or
        # writers (sqlite3 releases the GIL meanwhile), then the next writer restarts the WAL.
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            while not self._stop.wait(CHECKPOINT_EVERY_SECONDS):
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    continue  # busy or transient: the next round (or the backstop) catches up
        finally:
            db.close()

    def close(self) -> None:
        self._stop.set()
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
