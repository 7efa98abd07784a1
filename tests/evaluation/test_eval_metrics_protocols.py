from __future__ import annotations

import math

import numpy as np
import pytest

from idealtype.evaluation.metrics import hit_at, precision_at, summarize, wilson_interval
from idealtype.evaluation.protocols import liked_count, make_population
from idealtype.quiz.strategies.base import information_bound


def test_information_bound_matches_the_formula():
    # ⌈log_N(G/7)⌉ for the LFW gallery (4,600 people).
    assert information_bound(4600, 4) == 5
    assert information_bound(4600, 2) == 10
    assert information_bound(4600, 6) == 4
    assert information_bound(7, 4) == 0
    assert information_bound(28, 4) == 1  # exactly 4 = 28/7: one round suffices


def test_wilson_interval_contains_the_rate_and_shrinks_with_n():
    lo, hi = wilson_interval(45, 50)
    assert lo < 0.9 < hi <= 1
    lo2, hi2 = wilson_interval(450, 500)
    assert lo < lo2 < 0.9 < hi2 < hi
    assert wilson_interval(0, 20)[0] == 0.0 and wilson_interval(20, 20)[1] == 1.0


def test_summarize_uses_wilson_for_hits_and_normal_ci_for_fractions():
    hits = summarize(np.array([1.0] * 9 + [0.0]))
    assert hits["mean"] == pytest.approx(0.9)
    assert (hits["ci_low"], hits["ci_high"]) == pytest.approx(wilson_interval(9, 10))
    frac = summarize(np.array([0.2, 0.4, 0.6]))
    half = 1.959964 * 0.2 / math.sqrt(3)
    assert frac["ci_low"] == pytest.approx(0.4 - half)


def test_hit_and_precision():
    assert hit_at(np.array([1, 7, 8, 0]), 7).tolist() == [1, 1, 0, 0]
    assert precision_at(np.array([3, 1, 9, 4, 5, 6, 7, 8]), np.array([1, 3, 8]), 7) == 2 / 7


def test_populations_are_reproducible_and_well_formed():
    rng = np.random.default_rng(0)
    centroids = rng.standard_normal((300, 16)).astype(np.float32)
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    rows = np.arange(0, 300, 2)  # a pool: every other celebrity
    target = make_population("target", centroids, rows, 50, seed=1)
    assert np.isin(target.targets, rows).all()
    np.testing.assert_allclose(target.ideals, centroids[target.targets])
    typ = make_population("type", centroids, rows, 50, seed=1)
    again = make_population("type", centroids, rows, 50, seed=1)
    np.testing.assert_array_equal(typ.ideals, again.ideals)
    assert np.allclose(np.linalg.norm(typ.ideals, axis=1), 1, atol=1e-5)
    for ideal, liked, comps in zip(typ.ideals, typ.liked, typ.components):
        assert len(set(comps)) == 3 and np.isin(comps, rows).all()
        assert len(liked) == liked_count(len(rows)) == 2
        sims = centroids[rows] @ ideal
        assert set(liked) == set(rows[np.argsort(-sims)[:2]])
    with pytest.raises(ValueError):
        make_population("nope", centroids, rows, 5, seed=0)
