"""The blend sampler the adaptive result ranks from (blend_gibbs.py): its samples must explain
the picks and point to the ideal, blend distinct people, and be a function of the seed."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from idealtype.quiz.strategies import blend_gibbs
from idealtype.quiz.strategies.adaptive import AdaptiveStrategy
from idealtype.quiz.strategies.adaptive_config import DEFAULT
from idealtype.quiz.strategies.adaptive_rank import most_probable_people
from idealtype.quiz.strategies.base import NONE_OF_THESE, RoundRecord, information_bound, round_rng
from idealtype.quiz.strategies.blend_gibbs import blend_samples, gibbs_blends, pick_differences


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def test_pick_differences_are_the_other_faces_minus_the_pick():
    emb = np.arange(8 * 3, dtype=np.float32).reshape(8, 3)
    rounds = [RoundRecord((0, 1, 2, 3), 2), RoundRecord((4, 5, 6, 7), NONE_OF_THESE),
              RoundRecord((7, 6, 5, 4), 7, True), RoundRecord((1, 2, 3, 0))]
    diffs = pick_differences(rounds, emb)
    assert diffs.shape == (2, 3, 3) and diffs.dtype == np.float32
    np.testing.assert_array_equal(diffs[0], emb[[0, 1, 3]] - emb[2])
    np.testing.assert_array_equal(diffs[1], emb[[6, 5, 4]] - emb[7])
    assert pick_differences(rounds[1:2], emb).shape == (0, 0, 3)


def quiz(seed: int, rounds: int = 14):
    """60 people in 16-d, an ideal blended from three of them, and a perfect chooser's picks
    among 4 random faces per round."""
    rng = np.random.default_rng(seed)
    people = unit(rng.normal(size=(60, 16)))
    ideal = unit(people[[3, 17, 42]].sum(0))
    faces = unit(rng.normal(size=(rounds * 4, 16)))
    history = [RoundRecord(tuple(range(4 * r, 4 * r + 4)),
                           4 * r + int(np.argmax(faces[4 * r:4 * r + 4] @ ideal)))
               for r in range(rounds)]
    return people, ideal, faces, history


def agreement(blends: np.ndarray, faces: np.ndarray, history: list[RoundRecord]) -> float:
    """Share of (blend, round) pairs where the blend's favourite face is the one picked."""
    hits = [r.shown[int(np.argmax(faces[list(r.shown)] @ b))] == r.picked
            for b in blends for r in history]
    return float(np.mean(hits))


def test_samples_explain_the_picks_and_point_to_the_ideal():
    for seed in range(3):
        people, ideal, faces, history = quiz(seed)
        diffs = pick_differences(history, faces)
        samples = gibbs_blends(people, diffs, 60.0, 0.05, (2, 3), 8, 6, 3,
                               np.random.default_rng(seed))
        prior = gibbs_blends(people, diffs[:0], 60.0, 0.05, (2, 3), 8, 6, 3,
                             np.random.default_rng(seed))
        assert samples.shape == prior.shape == (2 * 8 * 3, 16)
        np.testing.assert_allclose(np.linalg.norm(samples, axis=1), 1, atol=1e-5)
        # Random blends of the same people agree with 0.23-0.32 of the picks (seeds 0-2);
        # the samples with 0.81-0.92, and sit 0.5-0.85 closer to the ideal in cosine.
        assert agreement(prior, faces, history) < 0.45
        assert agreement(samples, faces, history) > 0.75
        assert (samples @ ideal).mean() > (prior @ ideal).mean() + 0.4


def test_a_blend_never_holds_the_same_person_twice():
    people = np.eye(4, dtype=np.float32)[:3]  # three orthogonal people
    diffs = unit(np.random.default_rng(0).normal(size=(5, 3, 4))) * 0.1
    triples = gibbs_blends(people, diffs, 20.0, 0.05, (3,), 4, 3, 2, np.random.default_rng(0))
    np.testing.assert_allclose(triples, np.tile(unit(np.array([1, 1, 1, 0.0])), (8, 1)), atol=1e-6)
    pairs = gibbs_blends(people, diffs, 20.0, 0.05, (2,), 4, 3, 2, np.random.default_rng(0))
    # Each pair is two different people: two coordinates of 1/√2, never one of 1.
    np.testing.assert_allclose(np.sort(pairs, axis=1)[:, -2:], 2 ** -0.5, atol=1e-6)


def test_over_many_candidates_each_step_takes_its_products_in_d_dimensions(monkeypatch):
    """Where a G × G table would cost more than the steps' own products (the cheating reference
    samples the whole pool), each step takes them with the blend itself: the same numbers as
    the tables give, and samples that still explain the picks."""
    rng = np.random.default_rng(0)
    people = np.vstack([unit(rng.normal(size=(30, 16))), np.zeros((1, 16), np.float32)])
    flat = rng.normal(size=(9, 16)).astype(np.float32)
    others = rng.integers(0, 31, size=(7, 2))  # row 30: nobody
    dc = flat @ people[:30].T
    direct = blend_gibbs.step_products(people, flat, dc, direct=True)(others)
    tables = blend_gibbs.step_products(people, flat, dc, direct=False)(others)
    for mine, theirs in zip(direct, tables, strict=True):
        np.testing.assert_allclose(mine, theirs, atol=1e-5)
    used = []
    real = blend_gibbs.step_products
    monkeypatch.setattr(blend_gibbs, "step_products",
                        lambda *a, direct: used.append(direct) or real(*a, direct=direct))
    people, ideal, faces, history = quiz(0)
    diffs = pick_differences(history, faces)
    # 4 sweeps × 3 slots × 4 chains = 48 < 60 candidates: the direct products.
    samples = gibbs_blends(people, diffs, 60.0, 0.05, (3,), 4, 4, 2, np.random.default_rng(0))
    prior = gibbs_blends(people, diffs[:0], 60.0, 0.05, (3,), 4, 4, 2, np.random.default_rng(0))
    assert used == [True]
    assert agreement(samples, faces, history) > 0.75 > agreement(prior, faces, history)
    assert (samples @ ideal).mean() > (prior @ ideal).mean() + 0.4


def test_the_samples_are_a_function_of_the_seed():
    people, _, faces, history = quiz(7)
    diffs = pick_differences(history, faces)
    draw = [gibbs_blends(people, diffs, 60.0, 0.05, (2, 3), 4, 4, 2, np.random.default_rng(s))
            for s in (1, 1, 2)]
    np.testing.assert_array_equal(draw[0], draw[1])
    assert not np.array_equal(draw[0], draw[2])


def test_the_budget_sets_how_many_of_the_closest_are_candidates_above_a_floor(monkeypatch):
    """Candidates: the closest rows, as many as the exp budget pays for, at most
    cfg.gibbs_candidates and at least `least` (the budget gives way), never more than exist;
    the result's and the display's runs (other chains and sweeps) each pay their own way."""
    taken = []
    monkeypatch.setattr(blend_gibbs, "gibbs_blends",
                        lambda candidates, *args: taken.append(candidates) or candidates[:1])
    rng = np.random.default_rng(3)
    people = unit(rng.normal(size=(150, 16)))
    closeness = rng.normal(size=150).astype(np.float32)
    diffs = rng.normal(size=(10, 3, 16)).astype(np.float32)  # 10 rounds of N=4

    def count(budget: int, least: int, rows: int = 150, run=DEFAULT.result_gibbs) -> int:
        blend_samples(people[:rows], closeness[:rows], diffs, 20.0, DEFAULT,
                      replace(run, budget=budget, least=least), np.random.default_rng(0))
        return len(taken[-1])

    def per_candidate(run) -> int:  # 30 difference rows × sweeps × (2 + 3 people) × chains
        return 30 * run.sweeps * sum(DEFAULT.gibbs_counts) * run.chains

    for run in (DEFAULT.result_gibbs, replace(DEFAULT.display_gibbs, chains=4, sweeps=3)):
        assert count(50 * per_candidate(run), 32, run=run) == 50
        assert count(51 * per_candidate(run) - 1, 32, run=run) == 50  # whole candidates only
        assert count(10 * per_candidate(run), 32, run=run) == 32
    assert count(10**12, 32) == DEFAULT.gibbs_candidates
    assert count(10**3, 32, rows=20) == 20
    closest = np.sort(np.argsort(-closeness)[:50])
    count(50 * per_candidate(DEFAULT.result_gibbs), 32)
    np.testing.assert_array_equal(np.sort([int(np.flatnonzero((people == row).all(1))[0])
                                           for row in taken[-1]]), closest)


def test_rows_asked_for_first_join_the_sampler_however_far_from_the_mean():
    """The result passes the most probable single people as `first`: a person the posterior
    mean has drifted from still enters the blends when the picks point to them."""
    rng = np.random.default_rng(5)
    people = unit(rng.normal(size=(60, 64)))  # nearly orthogonal: a blend shows its members
    target = 42
    faces = unit(rng.normal(size=(40, 64)))
    history = [RoundRecord(tuple(range(4 * r, 4 * r + 4)),
                           4 * r + int(np.argmax(faces[4 * r:4 * r + 4] @ people[target])))
               for r in range(10)]
    diffs = pick_differences(history, faces)
    closeness = -(people @ people[target])  # the target is the farthest from the "mean"
    cfg = replace(DEFAULT, gibbs_candidates=20)

    def with_target(first):
        samples = blend_samples(people, closeness, diffs, 60.0, cfg,
                                replace(cfg.result_gibbs, budget=10**9, least=1),
                                np.random.default_rng(0), first=first)
        return float(((samples @ people[target]) > 0.45).mean())

    assert with_target(None) == 0.0  # not among the 20 closest: no blend can hold them
    assert with_target(np.array([target])) > 0.8  # pairs 0.71, triples 0.58 with them


def test_the_result_ranks_from_blend_samples_once_the_quiz_is_twice_the_bound_long(facelike_pool):
    """600 people, N=4: the information bound is 4 rounds. Up to 7 answered rounds the result
    is the particles' (as with the sampler off); from 8 on it is the samples'."""
    pool = facelike_pool
    assert information_bound(len(pool.celeb_rows), 4) == 4
    sampled, particles = AdaptiveStrategy(), AdaptiveStrategy(replace(DEFAULT, gibbs_candidates=0))
    ideal = pool.index.centroids[pool.celeb_rows[[5, 250]]].sum(0)
    history: list[RoundRecord] = []
    for r in range(10):
        shown = particles.next_round(pool, history, 4, round_rng(11, r))
        sims = pool.index.embeddings[shown] @ ideal
        history.append(RoundRecord(tuple(shown), shown[int(np.argmax(sims))]))
    for rounds in (3, 7):
        a, b = sampled.rank(pool, history[:rounds], 7), particles.rank(pool, history[:rounds], 7)
        np.testing.assert_array_equal(a[0], b[0])
    assert sampled.rank(pool, history, 7)[0].tolist() != particles.rank(pool, history, 7)[0].tolist()


def test_the_most_probable_people_are_only_those_with_some_probability():
    person = np.array([0.0, 0.5, 0.0, 0.2, 0.3, 0.0])
    assert sorted(most_probable_people(person, 4).tolist()) == [1, 3, 4]
    assert sorted(most_probable_people(person, 2).tolist()) == [1, 4]
