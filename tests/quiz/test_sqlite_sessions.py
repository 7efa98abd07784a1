from __future__ import annotations

import time

import pytest

from idealtype.sessions import QuizSession, SessionConflict, SessionNotFound
from idealtype.sessions import sqlite as sqlite_store
from idealtype.sessions.sqlite import SQLiteSessionStore


def session(session_id: str, expires_in: int = 3600) -> QuizSession:
    now = time.time()
    return QuizSession(session_id=session_id, index_version="v", strategy="random", choices=2,
                       rounds=3, pool={"gender": "female"}, seed=3, created_at=now,
                       expires_at=int(now) + expires_in, shown=[["a", "b"]])


def test_roundtrip_and_conditional_replace(tmp_path):
    store = SQLiteSessionStore(tmp_path / "s.db")
    original = session("q1")
    store.create(original)
    with pytest.raises(SessionConflict):
        store.create(session("q1"))
    got = store.get("q1")
    assert got == original
    got.picks.append("a")
    got.revision = 1
    store.replace(got, expected_revision=0)
    with pytest.raises(SessionConflict):
        store.replace(got, expected_revision=0)
    # A second store on the same file (another process) sees the write.
    assert SQLiteSessionStore(tmp_path / "s.db").get("q1").picks == ["a"]


def test_expired_sessions_are_gone(tmp_path):
    store = SQLiteSessionStore(tmp_path / "s.db")
    store.create(session("old", expires_in=-1))
    with pytest.raises(SessionNotFound):
        store.get("old")
    with pytest.raises(SessionNotFound):
        store.get("never")


def test_wal_is_checkpointed_off_the_request_path(tmp_path):
    # Commits only append to the WAL; the background thread copies them into the database
    # file (the writers' own auto-checkpoint is far away at this size).
    path = tmp_path / "s.db"
    store = SQLiteSessionStore(path)
    start_size = path.stat().st_size
    for n in range(300):
        store.create(session(f"q{n}"))
    deadline = time.monotonic() + 10 * sqlite_store.CHECKPOINT_EVERY_SECONDS
    while path.stat().st_size <= start_size + 50_000 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.stat().st_size > start_size + 50_000, "no checkpoint reached the database"
    assert store.get("q299").session_id == "q299"
    store.close()
    store._checkpointer.join(timeout=5)
    assert not store._checkpointer.is_alive()


def test_fields_of_a_newer_release_are_dropped_not_refused(tmp_path):
    # A rollback must not break quizzes written by the newer code: extra keys are ignored.
    store = SQLiteSessionStore(tmp_path / "s.db")
    original = session("q1")
    store.create(original)
    db = store._connect()
    (data,) = db.execute("SELECT data FROM sessions WHERE session_id = 'q1'").fetchone()
    newer = data[:-1] + ', "hint_from_a_newer_release": {"x": [1, 2]}}'
    db.execute("UPDATE sessions SET data = ? WHERE session_id = 'q1'", (newer,))
    got = store.get("q1")
    assert got == original
    assert "hint_from_a_newer_release" not in got.to_json()
