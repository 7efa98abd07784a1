"""The adaptive strategy's final state: the last pick computes what the result needs from the
posterior and the quiz item keeps it, so the result request skips the posterior. A result
from the kept state must equal one recomputed from the history; a missing, foreign or broken
state must be recomputed. Both session stores (DynamoDB against moto's server over HTTP)."""

from __future__ import annotations

import base64
import uuid

import boto3
import numpy as np
import orjson
import pytest

from idealtype.api.index_cache import IndexCache
from idealtype.index_format import normalize_rows
from idealtype.quiz.pool import Pool
from idealtype.quiz.service import QuizService
from idealtype.quiz.strategies import RoundRecord, get_strategy, round_rng
from idealtype.quiz.strategies.adaptive_rank import STATE_FORMAT
from idealtype.quiz.strategies.posterior import CACHE
from idealtype.sessions import SessionStore
from idealtype.sessions.dynamodb import DynamoDBSessionStore, create_table
from idealtype.sessions.sqlite import SQLiteSessionStore


def played(pool: Pool, rounds: int, seed: int) -> list[RoundRecord]:
    """A quiz of a simulated person who picks the face nearest a blend of two people."""
    index = pool.index
    people = pool.celeb_rows[[seed, seed + 200]]
    ideal = normalize_rows(index.centroids[people].sum(0, keepdims=True))[0]
    strategy = get_strategy("adaptive")
    history: list[RoundRecord] = []
    for r in range(rounds):
        shown = strategy.next_round(pool, history, 4, round_rng(seed, r))
        history.append(RoundRecord(tuple(shown), shown[int(np.argmax(index.embeddings[shown] @ ideal))]))
    return history


def through_json(state):
    """What a session store gives back."""
    return orjson.loads(orjson.dumps(state))


def by_similarity(ranked):
    """A strategy's ranking as the service lists it: by each person's own cosine."""
    rows, cosines = ranked
    order = np.argsort(-cosines, kind="stable")
    return rows[order], cosines[order]


def assert_same_result(a, b):
    """The same people in the same order, with the same cosines up to float32's last bit: a
    result from the state kept after a warm pick and one recomputed cold come from products
    the BLAS may round differently (posterior.multiply_round_likelihoods; seen with
    OpenBLAS on an AVX2-only core, ~6e-8)."""
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_allclose(a[1], b[1], rtol=1e-6, atol=0)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("tags", [None, {"gender": "female"}])
def test_result_from_the_final_state_equals_the_recomputed_one(facelike_pool, seed, tags):
    pool = Pool(facelike_pool.index, tags)
    strategy = get_strategy("adaptive")
    history = played(pool, 8, seed)
    CACHE.clear()
    state = through_json(strategy.final_state(pool, history))
    assert state["format"] == STATE_FORMAT and facelike_pool.index.version in state["model"]
    CACHE.clear()
    recomputed = strategy.rank(pool, history, 7)
    for k in (1, 7, 20):
        assert_same_result(strategy.rank(pool, history, k, state=state),
                           strategy.rank(pool, history, k))
    # The state belongs to its quiz's picks: another quiz's state (same model) is not used.
    other = played(pool, 8, seed + 10)
    other_state = through_json(strategy.final_state(pool, other))
    assert other_state["model"] == state["model"] and other_state["history"] != state["history"]
    assert_same_result(strategy.rank(pool, history, 7, state=other_state), recomputed)
    assert strategy.rank(pool, other, 7)[0].tolist() != recomputed[0].tolist()


def broken_states(state: dict) -> list[dict | None]:
    return [
        None,
        {},
        {**state, "format": STATE_FORMAT + 1},
        {**state, "model": state["model"].replace("|", "-other|", 1)},  # another index version
        {**state, "ids": "not base64!"},
        {**state, "ids": state["ids"][:8]},  # fewer ids than weights
        {**state, "people": state["people"][:-8]},
        {**state, "ids": "/////w=="},  # particle -1
        {key: value for key, value in state.items() if key != "pi"},
    ]


def test_missing_foreign_or_broken_states_are_recomputed(facelike_pool):
    strategy = get_strategy("adaptive")
    history = played(facelike_pool, 6, 3)
    other = played(facelike_pool, 6, 13)
    # Each broken variant starts from another quiz's state: if it were used, the result would
    # be that quiz's.
    foreign = through_json(strategy.final_state(facelike_pool, other))
    expected = strategy.rank(facelike_pool, history, 7)
    assert strategy.rank(facelike_pool, other, 7)[0].tolist() != expected[0].tolist()
    for state in broken_states(foreign):
        assert_same_result(strategy.rank(facelike_pool, history, 7, state=state), expected)


def finish_quiz(service: QuizService, seed: int) -> str:
    quiz = service.create(choices=4, rounds=6, strategy="adaptive", seed=seed)
    sid = quiz.session.session_id
    while not quiz.session.done:
        n = quiz.session.open_round
        quiz = service.pick(sid, n, quiz.session.shown[n][n % 4])
    return sid


def check_service_keeps_and_uses_the_state(service: QuizService, store: SessionStore) -> None:
    sid = finish_quiz(service, 5)
    stored = store.get(sid)
    assert stored.strategy_state is not None and stored.strategy_state["format"] == STATE_FORMAT
    index = service.indexes.current()
    pool = service.indexes.pool(index, None)
    history = service._history(stored, index)
    CACHE.clear()
    expected = by_similarity(get_strategy("adaptive").rank(pool, history, 7))
    result = service.result(sid, 7)
    assert_same_result((result.celeb_rows, result.cosines), expected)
    # The result is made from the stored state: the same state with one person made certain
    # (P = 1 that the ideal is them: the person bonus) recommends that person...
    outsider = next(row for row in pool.celeb_rows.tolist() if row not in expected[0].tolist())
    forged = {**stored.strategy_state,
              "people": base64.b64encode(np.array([outsider], np.int32).tobytes()).decode(),
              "person": base64.b64encode(np.array([1.0]).tobytes()).decode()}
    stored.strategy_state, stored.revision = forged, stored.revision + 1
    store.replace(stored, stored.revision - 1)
    assert outsider in service.result(sid, 7).celeb_rows.tolist()
    # ...while another quiz's state (made for other picks) is not used...
    other = store.get(finish_quiz(service, 6))
    stored.strategy_state, stored.revision = other.strategy_state, stored.revision + 1
    store.replace(stored, stored.revision - 1)
    borrowed = service.result(sid, 7)
    assert_same_result((borrowed.celeb_rows, borrowed.cosines), expected)
    # ...and an item without one (written before it existed) or with a broken one gets the
    # recomputed result too.
    for state in (None, {**other.strategy_state, "model": "another index|pool|model"}):
        stored.strategy_state, stored.revision = state, stored.revision + 1
        store.replace(stored, stored.revision - 1)
        again = service.result(sid, 7)
        assert_same_result((again.celeb_rows, again.cosines), expected)


def test_service_keeps_the_final_state_in_the_sqlite_item(facelike_store, tmp_path):
    store = SQLiteSessionStore(tmp_path / "s.db")
    check_service_keeps_and_uses_the_state(QuizService(IndexCache(facelike_store), store, 3600),
                                           store)


def test_service_keeps_the_final_state_in_the_dynamodb_item(facelike_store, moto_endpoint):
    table = f"sessions-{uuid.uuid4().hex[:8]}"
    create_table(table)
    store = DynamoDBSessionStore(table)
    check_service_keeps_and_uses_the_state(QuizService(IndexCache(facelike_store), store, 3600),
                                           store)
    # Still one item per quiz, well under DynamoDB's 400 KB item limit.
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    assert len(items) == 2 and all(len(item["data"]["S"]) < 64_000 for item in items)


def test_other_strategies_keep_no_state(facelike_store, tmp_path):
    store = SQLiteSessionStore(tmp_path / "s.db")
    service = QuizService(IndexCache(facelike_store), store, 3600)
    quiz = service.create(choices=4, rounds=2, strategy="random", seed=1)
    for n in range(2):
        quiz = service.pick(quiz.session.session_id, n, quiz.session.shown[n][0])
    assert quiz.session.done and store.get(quiz.session.session_id).strategy_state is None


def test_service_finishes_a_quiz_early_and_keeps_its_final_state(facelike_store, tmp_path):
    """A 20-round quiz whose picks single out one person ends early: the pick that finishes
    it says done, stores the result's state, and the result recommends that person."""
    store = SQLiteSessionStore(tmp_path / "s.db")
    service = QuizService(IndexCache(facelike_store), store, 3600)
    index = service.indexes.current()
    target = 200
    quiz = service.create(choices=4, rounds=20, strategy="adaptive", seed=3)
    sid = quiz.session.session_id
    while not quiz.session.done:
        n = quiz.session.open_round
        faces = quiz.session.shown[n]
        sims = [index.embeddings[index.image_row[f]] @ index.centroids[target] for f in faces]
        quiz = service.pick(sid, n, faces[int(np.argmax(sims))])
    stored = store.get(sid)
    assert stored.done and len(stored.picks) < 20
    assert stored.strategy_state["format"] == STATE_FORMAT
    assert target in service.result(sid, 7).celeb_rows
