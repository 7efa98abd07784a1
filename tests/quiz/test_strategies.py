from __future__ import annotations

import numpy as np
import pytest

from idealtype.quiz.pool import Pool
from idealtype.quiz.strategies import RoundRecord, available, get_strategy, register, round_rng
from idealtype.quiz.strategies.base import STRATEGIES, Strategy, distinct, sample_unused, without


def play(strategy: Strategy, pool: Pool, choices: int, rounds: int, seed: int,
         choose=lambda shown: shown[0]) -> list[RoundRecord]:
    history: list[RoundRecord] = []
    while not strategy.is_done(pool, history, rounds):
        shown = strategy.next_round(pool, history, choices, round_rng(seed, len(history)))
        history.append(RoundRecord(tuple(shown), choose(shown)))
    return history


@pytest.mark.parametrize("name", ["random", "cluster"])
@pytest.mark.parametrize("choices", [2, 4, 8])
def test_rounds_show_distinct_unseen_people_from_the_pool(index, name, choices):
    pool = Pool(index, {"gender": "female"})
    history = play(get_strategy(name), pool, choices, rounds=20, seed=7)
    assert len(history) == 20
    seen: list[int] = []
    for record in history:
        assert len(record.shown) == choices
        people = [int(index.image_celeb[row]) for row in record.shown]
        assert len(set(people)) == choices
        assert all(index.celebs[c]["tags"]["gender"] == "female" for c in people)
        seen += people
    assert len(seen) == len(set(seen)), "a person appeared twice in one quiz"


def test_round_rng_depends_only_on_seed_and_round():
    def draws(seed: int, round_index: int) -> list[float]:
        return round_rng(seed, round_index).random(4).tolist()

    assert draws(2**53 - 1, 19) == draws(2**53 - 1, 19)
    streams = {tuple(draws(seed, r)) for seed in (0, 1, 2**40, 2**53 - 1) for r in range(20)}
    assert len(streams) == 80  # every (seed, round) its own stream
    # ... and a full numpy Generator (the adaptive strategy draws dirichlet, choice with p).
    rng = round_rng(5, 3)
    assert isinstance(rng, np.random.Generator)
    assert rng.dirichlet(np.ones(3)).shape == (3,)
    assert rng.choice(10, size=3, replace=False, p=np.full(10, 0.1)).shape == (3,)
    # Uniform enough to sample faces with: first draws of 4000 rounds spread over 10 bins.
    firsts = [round_rng(seed, r).random() for seed in range(200) for r in range(20)]
    counts = np.bincount((np.array(firsts) * 10).astype(int), minlength=10)
    assert counts.min() > 320 and counts.max() < 480, counts


@pytest.mark.parametrize("name", ["random", "cluster"])
def test_same_seed_and_picks_replay_the_same_quiz(pool, name):
    strategy = get_strategy(name)
    first = play(strategy, pool, 4, 10, seed=123, choose=lambda s: s[-1])
    again = play(strategy, pool, 4, 10, seed=123, choose=lambda s: s[-1])
    other = play(strategy, pool, 4, 10, seed=124, choose=lambda s: s[-1])
    assert first == again
    assert first != other


def test_cluster_strategy_draws_each_face_from_a_different_cluster(index, pool):
    n_clusters = len(np.unique(index.clusters))
    assert n_clusters >= 6
    history = play(get_strategy("cluster"), pool, 6, rounds=10, seed=3)
    shown_per_cluster = np.zeros(n_clusters, dtype=int)
    for record in history:
        clusters = [int(index.clusters[index.image_celeb[row]]) for row in record.shown]
        assert len(set(clusters)) == 6
        for c in clusters:
            shown_per_cluster[c] += 1
    # Least-shown clusters first: coverage stays balanced (60 faces over the clusters).
    assert shown_per_cluster.max() - shown_per_cluster.min() <= 1


def test_random_strategy_covers_the_pool_uniformly(pool):
    counts = np.zeros(pool.index.n_celebs, dtype=int)
    strategy = get_strategy("random")
    for seed in range(300):
        for row in strategy.next_round(pool, [], 8, round_rng(seed, 0)):
            counts[pool.index.image_celeb[row]] += 1
    # 2400 draws over 400 people: mean 6; a uniform sampler never leaves most people unseen.
    assert (counts > 0).mean() > 0.95
    assert counts.max() < 25


def test_sample_unused_respects_avoid_set_and_reports_exhaustion():
    rng = np.random.default_rng(0)
    candidates = np.arange(10)
    got = sample_unused(candidates, 3, {0, 1, 2, 3, 4, 5, 6}, rng)
    assert sorted(got) == [7, 8, 9]
    with pytest.raises(ValueError):
        sample_unused(candidates, 4, {0, 1, 2, 3, 4, 5, 6}, rng)
    big = np.arange(100_000)
    picked = sample_unused(big, 8, set(range(0, 100_000, 2)), rng)
    assert len(set(picked)) == 8 and all(p % 2 == 1 for p in picked)


def test_set_helpers_agree_with_numpy_set_routines():
    rng = np.random.default_rng(3)
    for size, avoid_size in [(0, 3), (1, 0), (5, 5), (300, 40), (900, 1)]:
        rows = rng.integers(0, 200, size)  # repeats, avoided values above and below every row
        avoid = {int(v) for v in rng.integers(-5, 260, avoid_size)}
        expected = rows[~np.isin(rows, list(avoid))] if avoid else rows
        assert without(rows, avoid).tolist() == expected.tolist()
        assert distinct(rows).tolist() == np.unique(rows).tolist()
    assert without(np.array([7, 3, 9, 3]), {3}).tolist() == [7, 9]  # order kept


def test_registry_lists_builtin_strategies_and_accepts_new_ones(pool):
    assert {"random", "cluster"} <= set(available())

    @register
    class FirstPeople(Strategy):
        name = "test-first-people"

        def next_round(self, pool, history, choices, rng):
            return [pool.index.celebs[c]["rows"][0] for c in range(choices)]

    try:
        strategy = get_strategy("test-first-people")
        assert strategy.next_round(pool, [], 3, round_rng(0, 0)) == [0, 3, 6]
        with pytest.raises(ValueError):
            register(FirstPeople)
    finally:
        del STRATEGIES["test-first-people"]
    with pytest.raises(KeyError):
        get_strategy("test-first-people")


def test_default_is_done_counts_picked_rounds_only():
    strategy = get_strategy("random")
    history = [RoundRecord((1, 2), 1), RoundRecord((3, 4), 3), RoundRecord((5, 6), None)]
    assert not strategy.is_done(None, history, 3)
    assert strategy.is_done(None, history, 2)
