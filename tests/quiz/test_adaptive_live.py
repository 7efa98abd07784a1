"""The adaptive posterior's live set (adaptive_live.py): particles pruned after each round,
kept in the quiz item between picks so a cold process computes the survivors only.

- Pruning must not drop a particle that matters: against the same posterior without pruning,
  where the cost budget cuts (N=4, M=10 and N=8, M=20).
- The state changes the cost, never the faces: warm, cold from the kept state and cold from
  scratch give the same faces; a missing, foreign or broken state is recomputed.
- Both session stores keep it (DynamoDB against moto's server over HTTP), small."""

from __future__ import annotations

import dataclasses
import uuid

import boto3
import numpy as np
import orjson
import pytest
import test_adaptive_final_state as final_state_tests

from idealtype.api.index_cache import IndexCache
from idealtype.index_format import normalize_rows
from idealtype.quiz.pool import Pool
from idealtype.quiz.service import QuizService
from idealtype.quiz.strategies import RoundRecord, get_strategy, round_rng
from idealtype.quiz.strategies.adaptive_live import live_from_state, live_state, prune
from idealtype.quiz.strategies.adaptive_model import adaptive_model
from idealtype.quiz.strategies.adaptive_rank import STATE_FORMAT, rank_basis, recommend_from
from idealtype.quiz.strategies.posterior import CACHE, posterior
from idealtype.sessions import SessionStore
from idealtype.sessions.dynamodb import DynamoDBSessionStore, create_table
from idealtype.sessions.sqlite import SQLiteSessionStore

# The final state's tests' JSON round trip (their 600-person index is in conftest.py).
through_json = final_state_tests.through_json


def play(pool: Pool, choices: int, rounds: int, seed: int, people: int = 3,
         beta: float = np.inf) -> tuple[list[RoundRecord], list]:
    """A quiz of a simulated person whose ideal blends `people` people (β = ∞: picks the
    nearest face; else Luce choices), each pick handing the strategy the state the previous
    one kept, through JSON. Returns the history and the states after each pick."""
    index = pool.index
    rng = np.random.default_rng(seed)
    ideal = normalize_rows(index.centroids[rng.choice(pool.celeb_rows, people)].sum(0, keepdims=True))[0]
    strategy = get_strategy("adaptive")
    history: list[RoundRecord] = []
    states, state = [], None
    for r in range(rounds):
        shown, state = strategy.next_round_state(pool, history, choices, round_rng(seed, r), state)
        state = through_json(state)
        states.append(state)
        x = index.embeddings[list(shown)] @ ideal
        if np.isinf(beta):
            pick = int(np.argmax(x))
        else:
            p = np.exp(beta * (x - x.max()))
            pick = int(rng.choice(len(shown), p=p / p.sum()))
        history.append(RoundRecord(tuple(shown), shown[pick]))
    return history, states


def test_prune_keeps_what_is_close_and_the_heaviest_within_the_budget():
    cfg = get_strategy("adaptive").cfg
    rng = np.random.default_rng(0)
    score = np.exp(-rng.uniform(0, 60, size=30_000))
    score[123] = 1.0
    # Early (within budget): only the hopeless go.
    keep = prune(score, 1, 4, cfg)
    assert keep.tolist() == np.flatnonzero(score >= np.exp(-cfg.prune_gap)).tolist()
    # Later in a big quiz: the heaviest, down to the budget...
    rounds_done, choices = 4, 8
    cap = cfg.forced_likelihood_budget // ((rounds_done + 1) * (choices - 1))
    assert cfg.support < cap < len(score)
    keep = prune(score, rounds_done, choices, cfg)
    assert cfg.support <= len(keep) <= cap and 123 in keep
    assert score[keep].min() >= np.delete(score, keep).max()
    # ... but never fewer than the posterior's support, whatever the budget.
    assert cfg.forced_likelihood_budget // (20 * 7) < cfg.support
    keep = prune(score, 19, 8, cfg)
    assert len(keep) == cfg.support and 123 in keep
    assert score[keep].min() >= np.delete(score, keep).max()
    # Nearly everything close: nothing goes (not worth re-laying out the particles).
    flat = np.ones(30_000)
    flat[:100] = 1e-30
    assert len(prune(flat, 1, 4, cfg)) == 30_000


@pytest.mark.parametrize("choices,rounds", [(4, 10), (8, 20)])
@pytest.mark.parametrize("seed,people,beta", [(1, 1, np.inf), (2, 3, np.inf), (3, 3, 20.0),
                                              (4, 2, 20.0)])
def test_pruning_drops_no_particle_that_matters(facelike_pool, seed, people, beta, choices,
                                                rounds):
    """Against the posterior of every particle (no pruning), where the cost budget cuts: the
    recommendations are the same. At N=4 M=10 (the goals' shape) the particles pruned also
    held < 1% of its mass and none > 1e-3 on its own. At N=8 M=20 the budget cuts to the
    posterior's support from round 6 on and 14 more rounds of 8 faces favour some particles
    it dropped (here up to ~11% of the mass, on LFW up to ~50%), which the paired LFW
    evaluation found to cost no precision (README, "A smaller budget for forced rounds")."""
    pool = facelike_pool
    strategy = get_strategy("adaptive")
    cfg = strategy.cfg
    everything = dataclasses.replace(cfg, prune_gap=np.inf, likelihood_budget=10**12,
                                     forced_likelihood_budget=10**12)
    model = adaptive_model(pool, cfg)
    history, _ = play(pool, choices, rounds, seed, people, beta)
    CACHE.clear()
    pruned = posterior(model, history, pool.index.embeddings, cfg)
    CACHE.clear()
    full = posterior(model, history, pool.index.embeddings, everything)
    assert full.live is None and pruned.live is not None
    # Pruning did cut (the test is about that case): fewer than half the particles live.
    assert len(pruned.live) < len(model.log_prior) / 2
    if choices == 4:
        lost = ~np.isin(full.ids, pruned.live)
        assert full.weights[lost].sum() < 0.01 and (full.weights[lost].max(initial=0) < 1e-3)
    rows = pool.celeb_rows
    assert (recommend_from(model, rank_basis(model, pruned, rows, cfg), rows, 7, cfg)[0].tolist()
            == recommend_from(model, rank_basis(model, full, rows, cfg), rows, 7, cfg)[0].tolist())


def test_configurations_that_prune_differently_do_not_share_cached_likelihoods(facelike_pool):
    """The likelihood cache is per process: a variant that prunes otherwise (here: not at
    all) must compute its own live set, not reuse the one the served config left there."""
    pool = facelike_pool
    cfg = get_strategy("adaptive").cfg
    everything = dataclasses.replace(cfg, prune_gap=np.inf, likelihood_budget=10**12,
                                     forced_likelihood_budget=10**12)
    model = adaptive_model(pool, cfg)
    history, _ = play(pool, 8, 20, seed=2)
    CACHE.clear()
    assert posterior(model, history, pool.index.embeddings, cfg).live is not None
    assert posterior(model, history, pool.index.embeddings, everything).live is None
    assert posterior(model, history, pool.index.embeddings, cfg).live is not None


def test_faces_are_the_same_warm_cold_from_the_state_and_from_scratch(facelike_pool):
    pool = facelike_pool
    strategy = get_strategy("adaptive")
    model = adaptive_model(pool, strategy.cfg)
    history, states = play(pool, 8, 16, seed=7)  # warm: one request after the other
    for r in (3, 9, 15):
        CACHE.clear()
        cold, state = strategy.next_round_state(pool, history[:r], 8, round_rng(7, r), states[r - 1])
        CACHE.clear()
        scratch, fresh = strategy.next_round_state(pool, history[:r], 8, round_rng(7, r), None)
        assert list(history[r].shown) == cold == scratch
        assert through_json(state) == through_json(fresh) == states[r]
        assert live_from_state(model, strategy.cfg, state, history[:r])[0] == r
    # Late in the quiz the kept set is a small part of the particles, and small in the item.
    kept = live_from_state(model, strategy.cfg, states[15], history[:16])[1]
    assert len(kept) < len(model.log_prior) / 2
    assert max(len(orjson.dumps(s)) for s in states) < 8_000


def test_the_kept_live_set_is_what_a_cold_process_uses(facelike_pool):
    """A valid state with another live set changes the posterior: the state is read (and the
    faces do not depend on it only because the real state is the recomputed one)."""
    pool = facelike_pool
    strategy = get_strategy("adaptive")
    model = adaptive_model(pool, strategy.cfg)
    history, _ = play(pool, 4, 6, seed=8)
    CACHE.clear()
    honest = posterior(model, history, pool.index.embeddings, strategy.cfg)
    # Everything but the 50 heaviest particles: the posterior must move elsewhere.
    heaviest = honest.ids[np.argsort(-honest.weights[: len(honest.ids)])[:50]]
    other = np.setdiff1d(np.arange(len(model.log_prior)), heaviest)
    forged = through_json(live_state(model, strategy.cfg, history[:5], other))
    CACHE.clear()
    moved = posterior(model, history, pool.index.embeddings, strategy.cfg,
                      kept=live_from_state(model, strategy.cfg, forged, history))
    assert not np.isin(moved.ids, heaviest).any()


def broken_live_states(state: dict) -> list:
    return [
        None,
        {},
        {**state, "format": "live/0"},
        {**state, "model": state["model"].replace("|", "-other|", 1)},  # another index version
        {**state, "rule": "0" * 16},  # another pruning rule (e.g. a budget changed)
        {key: value for key, value in state.items() if key != "rule"},
        {**state, "history": "0" * 16},  # another quiz
        {**state, "rounds": state["rounds"] + 5},  # more rounds than the quiz has
        {**state, "rounds": "3"},
        {**state, "live": "not base64!"},
        {**state, "live": state["live"][:12]},
        {key: value for key, value in state.items() if key != "live"},
    ]


def test_missing_foreign_or_broken_live_states_are_recomputed(facelike_pool):
    pool = facelike_pool
    strategy = get_strategy("adaptive")
    model = adaptive_model(pool, strategy.cfg)
    history, _ = play(pool, 8, 12, seed=9)
    _, other_states = play(pool, 8, 12, seed=10)
    # A foreign state that would change the posterior if it were used: every particle but
    # this quiz's heaviest, under the other quiz's name.
    CACHE.clear()
    honest = posterior(model, history[:11], pool.index.embeddings, strategy.cfg)
    heaviest = honest.ids[np.argsort(-honest.weights[: len(honest.ids)])[:50]]
    other = np.setdiff1d(np.arange(len(model.log_prior)), heaviest)
    foreign = through_json(live_state(model, strategy.cfg, history[:10], other))
    # What a process with no state shows (the played round was computed warm, whose
    # likelihoods can differ from a cold recomputation's in the last bits: the BLAS rounds a
    # round's anchor cosines differently in a product of one round's rows than of eleven's).
    CACHE.clear()
    fresh, _ = strategy.next_round_state(pool, history[:11], 8, round_rng(9, 11))
    for state in broken_live_states(foreign) + [other_states[10]]:
        assert live_from_state(model, strategy.cfg, state, history[:11]) is None, state
        CACHE.clear()
        faces, _ = strategy.next_round_state(pool, history[:11], 8, round_rng(9, 11), state)
        assert faces == fresh


def check_service_keeps_the_live_set(service: QuizService, store: SessionStore) -> None:
    quiz = service.create(choices=8, rounds=12, strategy="adaptive", seed=21)
    sid = quiz.session.session_id
    index = service.indexes.current()
    pool = service.indexes.pool(index, None)
    model = adaptive_model(pool, get_strategy("adaptive").cfg)
    while not quiz.session.done:
        n = quiz.session.open_round
        # Every pick is a cold one: another process, nothing cached but the item.
        CACHE.clear()
        service.recent.drop(sid)
        quiz = service.pick(sid, n, quiz.session.shown[n][(3 * n) % 8])
        stored = store.get(sid)
        history = service._history(stored, index)
        if not stored.done:
            kept = live_from_state(model, get_strategy("adaptive").cfg, stored.strategy_state,
                                   history[:-1])
            assert kept is not None and kept[0] == n + 1
            # The faces shown are the ones a process without the state shows.
            CACHE.clear()
            assert list(history[-1].shown) == get_strategy("adaptive").next_round(
                pool, history[:-1], 8, round_rng(21, n + 1))
    assert stored.strategy_state["format"] == STATE_FORMAT  # replaced by the result's state
    CACHE.clear()
    expected = get_strategy("adaptive").rank(pool, history, 7)
    result = service.result(sid, 7)
    np.testing.assert_array_equal(np.sort(result.celeb_rows), np.sort(expected[0]))


def test_service_keeps_the_live_set_in_the_sqlite_item(facelike_store, tmp_path):
    store = SQLiteSessionStore(tmp_path / "s.db")
    check_service_keeps_the_live_set(QuizService(IndexCache(facelike_store), store, 3600), store)


def test_service_keeps_the_live_set_in_the_dynamodb_item(facelike_store, moto_endpoint):
    table = f"sessions-{uuid.uuid4().hex[:8]}"
    create_table(table)
    store = DynamoDBSessionStore(table)
    check_service_keeps_the_live_set(QuizService(IndexCache(facelike_store), store, 3600), store)
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    assert len(items) == 1 and len(items[0]["data"]["S"]) < 64_000
