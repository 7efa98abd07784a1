"""`reference-triples` (the cheating type-protocol ceiling) on a small facelike index: it finds a
planted triple's liked set from noiseless picks far better than the original method, its rounds
and ranking are reproducible, and the evaluation resolves it without serving it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from idealtype.blobstore import LocalBlobStore
from idealtype.evaluation.cheating_reference import ReferenceTriplesStrategy
from idealtype.evaluation.facelike_gallery import make_facelike_index
from idealtype.evaluation.protocols import type_population
from idealtype.evaluation.runner import run_cell
from idealtype.evaluation.strategies import resolve
from idealtype.evaluation.users import Chooser, luce
from idealtype.index_format import load_index
from idealtype.quiz.pool import Pool
from idealtype.quiz.strategies import RoundRecord, available, get_strategy, round_rng

PEOPLE = 700  # liked set = top 1% = 7 people, so precision@7 can reach 1


@pytest.fixture(scope="module")
def pool(tmp_path_factory) -> Pool:
    store = LocalBlobStore(tmp_path_factory.mktemp("facelike"))
    make_facelike_index(store, PEOPLE, seed=11)
    return Pool(load_index(store))


def test_reference_recovers_a_planted_triple_far_better_than_random(pool):
    users = 12
    population = type_population(pool.index.centroids, pool.celeb_rows, users, seed=3)
    chooser = Chooser(luce(math.inf), pool.index.embeddings, seed=3)
    reference = ReferenceTriplesStrategy(beta=math.inf)
    ours = run_cell(reference, pool, population, chooser, choices=4, rounds=10, seed=3)
    baseline = run_cell(get_strategy("random"), pool, population, chooser, choices=4, rounds=10, seed=3)
    ours_p, base_p = ours.precision[10].mean(), baseline.precision[10].mean()
    # A sampler that ignored the picks would rank people near random blends: about as bad as
    # (or worse than) the mean of random picks.
    assert ours_p >= 0.3, (ours_p, base_p)
    assert ours_p >= base_p + 0.2, (ours_p, base_p)


def test_reference_ranking_uses_the_picks(pool):
    """Same shown faces, picks replaced by the face least like the user: the liked set is lost."""
    population = type_population(pool.index.centroids, pool.celeb_rows, 1, seed=8)
    ideal, liked = population.ideals[0], population.liked[0]
    emb = pool.index.embeddings
    reference = ReferenceTriplesStrategy(beta=math.inf, chains=8, display_sweeps=8, display_keep=4,
                                         rank_sweeps=16, rank_keep=8)
    true_history, contrary = [], []
    for r in range(8):
        shown = reference.next_round(pool, true_history, 4, round_rng(5, r))
        sims = emb[list(shown)] @ ideal
        true_history.append(RoundRecord(tuple(shown), shown[int(np.argmax(sims))]))
        contrary.append(RoundRecord(tuple(shown), shown[int(np.argmin(sims))]))
    good = np.isin(reference.rank(pool, true_history, 7)[0], liked).sum()
    bad = np.isin(reference.rank(pool, contrary, 7)[0], liked).sum()
    assert good >= 3 and bad <= 1, (good, bad)


def test_reference_is_deterministic_given_the_rng(pool):
    reference = ReferenceTriplesStrategy(chains=6, display_sweeps=6, display_keep=3,
                                         rank_sweeps=8, rank_keep=4)
    ideal = pool.index.centroids[pool.celeb_rows[10]]
    history: list[RoundRecord] = []
    for r in range(4):
        shown = reference.next_round(pool, history, 4, round_rng(21, r))
        again = reference.next_round(pool, history, 4, round_rng(21, r))
        assert shown == again
        assert len({int(pool.index.image_celeb[s]) for s in shown}) == 4
        seen = {int(pool.index.image_celeb[row]) for h in history for row in h.shown}
        assert seen.isdisjoint(int(pool.index.image_celeb[s]) for s in shown)
        sims = pool.index.embeddings[list(shown)] @ ideal
        history.append(RoundRecord(tuple(shown), shown[int(np.argmax(sims))]))
    first_rows, first_scores = reference.rank(pool, history, 7)
    second_rows, second_scores = reference.rank(pool, history, 7)
    np.testing.assert_array_equal(first_rows, second_rows)
    np.testing.assert_array_equal(first_scores, second_scores)
    assert len(set(first_rows.tolist())) == 7 and np.isin(first_rows, pool.celeb_rows).all()
    assert ((first_scores >= -1) & (first_scores <= 1)).all()


def test_resolver_finds_the_reference_but_it_is_not_served():
    assert isinstance(resolve("reference-triples"), ReferenceTriplesStrategy)
    assert "reference-triples" not in available()
