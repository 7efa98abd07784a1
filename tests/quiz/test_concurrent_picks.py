"""Two (or eight) concurrent submissions of one round: exactly one is accepted, the others get
409 — with each session store (DynamoDB through moto's server over HTTP)."""

from __future__ import annotations

import threading
import uuid

import pytest

from idealtype.api.index_cache import IndexCache
from idealtype.quiz.errors import QuizError
from idealtype.quiz.service import QuizService
from idealtype.sessions.base import SessionStore
from idealtype.sessions.dynamodb import DynamoDBSessionStore, create_table
from idealtype.sessions.sqlite import SQLiteSessionStore


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request, tmp_path) -> SessionStore:
    if request.param == "sqlite":
        return SQLiteSessionStore(tmp_path / "s.db")
    request.getfixturevalue("moto_endpoint")
    table = f"race-{uuid.uuid4().hex[:8]}"
    create_table(table)
    return DynamoDBSessionStore(table)


def race(service: QuizService, session_id: str, faces: list[str]) -> list[object]:
    barrier = threading.Barrier(len(faces))
    outcomes: list[object] = []

    def submit(image_id: str) -> None:
        barrier.wait()
        try:
            service.pick(session_id, 0, image_id)
            outcomes.append("ok")
        except QuizError as err:
            outcomes.append((err.status, err.code))

    threads = [threading.Thread(target=submit, args=(face,)) for face in faces]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_concurrent_picks_of_one_round_accept_exactly_one(index_store, store):
    service = QuizService(IndexCache(index_store), store, 3600)
    for _ in range(5):  # several races; each must have exactly one winner
        quiz = service.create(choices=8, rounds=10, strategy="random")
        sid, faces = quiz.session.session_id, quiz.session.shown[0]
        outcomes = race(service, sid, faces)
        assert outcomes.count("ok") == 1, outcomes
        losers = [o for o in outcomes if o != "ok"]
        assert len(losers) == 7
        assert all(o in ((409, "round_conflict"), (409, "round_replayed")) for o in losers)
        stored = service.get(sid).session
        assert len(stored.picks) == 1 and len(stored.shown) == 2 and stored.revision == 1
