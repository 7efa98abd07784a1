"""Displays that also ask about the liked set (research variant `adaptive-liked`): the score is
the mutual information between the pick and each candidate's membership, and the variant
plays whole quizzes with other faces than the served displays."""

from __future__ import annotations

import numpy as np
import pytest

from idealtype.blobstore import LocalBlobStore
from idealtype.evaluation.facelike_gallery import make_facelike_index
from idealtype.evaluation.strategies import resolve
from idealtype.index_format import load_index, normalize_rows
from idealtype.quiz.pool import Pool
from idealtype.quiz.strategies import RoundRecord, round_rng
from idealtype.quiz.strategies.adaptive_display import appeal, liked_information, pick_probabilities


def plain_liked_information(sims, liked, beta, lapse):
    """sims (K, n, R), liked (C, R) -> mean over c of I(pick; m_c) (nats), from the joint
    P(i, b) = E_r P(i | r)·P(m_c = b | r) and the definition Σ P log P / (P(i) P(b))."""
    z = np.exp(beta * (sims - sims.max(1, keepdims=True)))
    p = (1 - lapse) * z / z.sum(1, keepdims=True) + lapse / sims.shape[1]  # (K, n, R)
    out = np.zeros(len(sims))
    for k in range(len(sims)):
        total = 0.0
        for c in range(len(liked)):
            for member in (liked[c], 1 - liked[c]):
                joint = (p[k] * member).mean(1)  # (n,)
                total += (joint * np.log(joint / (p[k].mean(1) * member.mean()))).sum()
        out[k] = total / len(liked)
    return out


@pytest.mark.parametrize("beta", [8.0, 32.0])
@pytest.mark.parametrize("size", [2, 4])
def test_liked_information_is_the_mean_mutual_information_with_each_membership(beta, size):
    rng = np.random.default_rng(size)
    sims = (rng.uniform(-0.3, 0.9, size=(12, 1)) + rng.normal(0, 0.2, size=(12, 128))).astype(np.float32)
    # Each face's person is liked under about the half of the hypotheses it appeals to most,
    # so a pick tells about the memberships of the people in its set.
    liked = 1 / (1 + np.exp(-(sims - np.median(sims, axis=1, keepdims=True)) / 0.05))
    liked = np.clip(liked, 1e-3, 1 - 1e-3).astype(np.float32)
    sets = np.array([rng.choice(12, size, replace=False) for _ in range(30)])
    expected = plain_liked_information(sims.astype(np.float64)[sets], liked.astype(np.float64), beta, 0.05)
    assert expected.max() - expected.min() > 0.01  # sets differ: a wrong formula cannot pass
    z = appeal(sims[sets], sims[sets].max(1, keepdims=True), beta)
    got = liked_information(*pick_probabilities(z[:, :-1], z[:, -1], 0.05), liked)
    np.testing.assert_allclose(got, expected, atol=2e-5)
    # Sets sharing their first faces (the greedy steps) broadcast the shared part.
    z = appeal(sims, sims[sets[0, :-1]].max(0), beta)
    first = np.concatenate([sets[:1, :-1].repeat(30, 0), sets[:, -1:]], axis=1)
    np.testing.assert_allclose(
        liked_information(*pick_probabilities(z[sets[0, :-1]][None], z[sets[:, -1]], 0.05), liked),
        plain_liked_information(sims.astype(np.float64)[first], liked.astype(np.float64), beta, 0.05),
        atol=2e-5)


def test_memberships_nobody_is_unsure_of_carry_no_information():
    rng = np.random.default_rng(0)
    z = rng.uniform(0.1, 1.0, size=(20, 4, 64)).astype(np.float32)
    certain = np.zeros((5, 64), dtype=np.float32)
    certain[:2] = 1.0  # liked under every hypothesis, or under none
    p_fixed, p_added = pick_probabilities(z[:, :-1], z[:, -1], 0.05)
    np.testing.assert_allclose(liked_information(p_fixed, p_added, certain), 0.0, atol=1e-6)


@pytest.fixture(scope="module")
def facelike_pool(tmp_path_factory) -> Pool:
    store = LocalBlobStore(tmp_path_factory.mktemp("facelike-liked"))
    make_facelike_index(store, 900, seed=5)
    return Pool(load_index(store))


def play(strategy, pool: Pool, seed: int, rounds: int = 8) -> list[RoundRecord]:
    ideal = normalize_rows(pool.index.centroids[[seed, seed + 300]].sum(0, keepdims=True))[0]
    history: list[RoundRecord] = []
    for r in range(rounds):
        shown = strategy.next_round(pool, history, 4, round_rng(seed, r))
        picked = shown[int(np.argmax(pool.index.embeddings[shown] @ ideal))]
        history.append(RoundRecord(tuple(shown), picked))
    return history


def test_the_variant_plays_quizzes_of_its_own(facelike_pool):
    served, liked = resolve("adaptive"), resolve("adaptive-liked")
    differ = 0
    for seed in range(3):
        history = play(liked, facelike_pool, seed)
        people = [int(facelike_pool.index.image_celeb[row]) for r in history for row in r.shown]
        assert len(set(people)) == len(people)  # nobody shown twice
        assert len(liked.rank(facelike_pool, history, 7)[0]) == 7
        differ += history != play(served, facelike_pool, seed)
    assert differ  # the liked-set score changes which faces are shown
