from __future__ import annotations

import math

import numpy as np

from idealtype.evaluation.users import (
    Chooser,
    forced_below_bar,
    lapsing,
    luce,
    noisy_perception,
    offered_none,
    perceived_embeddings,
)
from idealtype.quiz.strategies import NONE_OF_THESE


def faces(n=40, d=32, seed=0):
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_perfect_chooser_picks_the_most_similar_face():
    emb = faces()
    ideal = emb[3]
    chooser = Chooser(luce(math.inf), emb, seed=0)
    rng = np.random.default_rng(0)
    shown = [10, 3, 20, 30]
    assert all(chooser.choose(shown, ideal, rng) == 3 for _ in range(20))


def test_softmax_chooser_follows_the_luce_probabilities():
    emb = faces()
    ideal = emb[0]
    shown = [1, 2, 3, 4]
    beta = 5.0
    logits = beta * (emb[shown] @ ideal)
    expected = np.exp(logits - logits.max())
    expected /= expected.sum()
    chooser = Chooser(luce(beta), emb, seed=0)
    rng = np.random.default_rng(1)
    picks = [chooser.choose(shown, ideal, rng) for _ in range(4000)]
    freq = np.array([picks.count(s) for s in shown]) / len(picks)
    np.testing.assert_allclose(freq, expected, atol=0.03)


def test_lapsing_chooser_picks_at_random_a_fifth_of_the_time():
    emb = faces()
    ideal = emb[7]
    shown = [7, 8, 9, 11]
    chooser = Chooser(lapsing(math.inf, 0.2), emb, seed=0)
    rng = np.random.default_rng(2)
    picks = [chooser.choose(shown, ideal, rng) for _ in range(4000)]
    # 80% deliberate + 20% uniform over 4 faces -> 85% the best face.
    assert abs(picks.count(7) / 4000 - 0.85) < 0.025


def test_noisy_perception_keeps_faces_similar_but_not_identical():
    emb = faces(200, 512)
    seen = perceived_embeddings(emb, 0.5, seed=3)
    cos = np.einsum("ij,ij->i", emb, seen)
    assert 0.85 < cos.mean() < 0.93
    np.testing.assert_allclose(np.linalg.norm(seen, axis=1), 1, atol=1e-5)
    assert Chooser(noisy_perception(20.0), emb, seed=3).seen.shape == emb.shape
    np.testing.assert_array_equal(perceived_embeddings(emb, 0.5, 3), seen)


def test_a_person_offered_none_of_these_says_so_exactly_when_no_face_reaches_the_bar():
    emb = faces(200, 32)
    ideal = emb[5]
    chooser = Chooser(offered_none(math.inf, 0.1), emb, seed=0, pool_centroids=emb)
    bar = chooser.bar(ideal)
    sims = emb @ ideal
    assert (sims >= bar).sum() == 20  # the top 10% of the 200 people reach it
    rng = np.random.default_rng(0)
    for start in range(0, 196, 4):
        shown = list(range(start, start + 4))
        answer = chooser.choose(shown, ideal, rng)
        if sims[shown].max() < bar:
            assert answer == NONE_OF_THESE
        else:
            assert answer == shown[int(np.argmax(sims[shown]))]


def test_a_noisy_person_offered_none_follows_luce_with_the_bar_as_an_option():
    emb = faces(200, 32)
    ideal, shown, beta = emb[0], [1, 2, 3, 4], 8.0
    chooser = Chooser(offered_none(beta, 0.1), emb, seed=0, pool_centroids=emb)
    logits = beta * np.r_[emb[shown] @ ideal, chooser.bar(ideal)]
    expected = np.exp(logits - logits.max())
    expected /= expected.sum()
    rng = np.random.default_rng(1)
    answers = [chooser.choose(shown, ideal, rng) for _ in range(4000)]
    freq = np.array([answers.count(a) for a in [*shown, NONE_OF_THESE]]) / len(answers)
    np.testing.assert_allclose(freq, expected, atol=0.03)


def test_a_person_made_to_pick_below_their_bar_picks_at_random():
    emb = faces(200, 32)
    ideal = emb[9]
    chooser = Chooser(forced_below_bar(math.inf, 0.1), emb, seed=0, pool_centroids=emb)
    sims = emb @ ideal
    below = [int(i) for i in np.argsort(sims)[:4]]  # the four least similar people
    top = int(np.argmax(sims))
    rng = np.random.default_rng(3)
    picks = [chooser.choose(below, ideal, rng) for _ in range(2000)]
    assert set(picks) == set(below)  # any of them, never "none" (it is not offered)
    assert all(chooser.choose([*below[:3], top], ideal, rng) == top for _ in range(50))
