"""DynamoDB session store against moto's server over HTTP (the `moto_endpoint` fixture)."""

from __future__ import annotations

import time
import uuid

import boto3
import pytest

from idealtype.api.index_cache import IndexCache
from idealtype.blobstore import LocalBlobStore
from idealtype.quiz.service import QuizService
from idealtype.sessions import QuizSession, SessionConflict, SessionNotFound, open_session_store
from idealtype.sessions.dynamodb import DynamoDBSessionStore, create_table
from idealtype.synthetic import make_synthetic_index


@pytest.fixture
def table(moto_endpoint) -> str:
    name = f"sessions-{uuid.uuid4().hex[:8]}"
    create_table(name)
    return name


def session(session_id: str = "s1", expires_in: int = 3600) -> QuizSession:
    now = time.time()
    return QuizSession(session_id=session_id, index_version="v1", strategy="random",
                       choices=4, rounds=10, pool=None, seed=1, created_at=now,
                       expires_at=int(now) + expires_in, shown=[["a", "b", "c", "d"]])


def test_table_has_ttl_on_expires_at(table):
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=table)
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"
    assert ttl["TimeToLiveDescription"]["TimeToLiveStatus"] in ("ENABLED", "ENABLING")


def test_create_get_replace_roundtrip(table):
    store = open_session_store(f"dynamodb://{table}")
    assert isinstance(store, DynamoDBSessionStore)
    original = session()
    store.create(original)
    with pytest.raises(SessionConflict):
        store.create(session())
    got = store.get("s1")
    assert got == original
    got.picks.append("b")
    got.revision = 1
    store.replace(got, expected_revision=0)
    assert store.get("s1").picks == ["b"]
    stale = store.get("s1")
    stale.revision = 1
    with pytest.raises(SessionConflict):
        store.replace(stale, expected_revision=0)
    item = boto3.client("dynamodb").get_item(TableName=table, Key={"session_id": {"S": "s1"}})
    assert int(item["Item"]["expires_at"]["N"]) == got.expires_at
    with pytest.raises(SessionNotFound):
        store.get("nope")


def test_expired_items_are_not_served_before_ttl_deletes_them(table):
    store = DynamoDBSessionStore(table)
    store.create(session("old", expires_in=-5))
    with pytest.raises(SessionNotFound):
        store.get("old")


def test_whole_quiz_with_dynamodb_sessions(table, tmp_path):
    index_store = LocalBlobStore(tmp_path)
    make_synthetic_index(index_store, 60, 2, seed=4)
    service = QuizService(IndexCache(index_store), DynamoDBSessionStore(table), 3600)
    quiz = service.create(choices=4, rounds=3, strategy="cluster", seed=8)
    sid = quiz.session.session_id
    for n in range(3):
        quiz = service.pick(sid, n, quiz.session.shown[n][0])
    assert quiz.session.done
    result = service.result(sid, 7)
    assert len(result.celeb_rows) == 7
    assert len(DynamoDBSessionStore(table).get(sid).to_json()) < 4000
