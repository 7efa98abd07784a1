"""The enumerated posterior (posterior_enum.py): its table of blends, weights equal to a direct
computation from 512-d blend vectors, and that completing a blend finds the missing person."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from idealtype.blobstore import LocalBlobStore
from idealtype.evaluation.facelike_gallery import make_facelike_index
from idealtype.index_format import load_index, normalize_rows
from idealtype.quiz.pool import Pool
from idealtype.quiz.strategies import RoundRecord
from idealtype.quiz.strategies.adaptive_config import DEFAULT
from idealtype.quiz.strategies.adaptive_model import adaptive_model
from idealtype.quiz.strategies.posterior import posterior
from idealtype.quiz.strategies.posterior_enum import (
    PAIR,
    SINGLE,
    TRIPLE,
    History,
    blend_table,
    completions,
    enumerated_posterior,
)


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    store = LocalBlobStore(tmp_path_factory.mktemp("facelike-enum"))
    make_facelike_index(store, 300, seed=5)
    return Pool(load_index(store))


def random_rounds(pool, ideal, rounds, choices, seed):
    """Rounds of random people's typical faces; the face closest to `ideal` is picked."""
    rng = np.random.default_rng(seed)
    model = adaptive_model(pool, DEFAULT)
    people = rng.permutation(pool.celeb_rows)[: rounds * choices].reshape(rounds, choices)
    out = []
    for group in people:
        shown = tuple(int(model.face_of[p]) for p in group)
        sims = pool.index.embeddings[list(shown)] @ ideal
        out.append(RoundRecord(shown, shown[int(np.argmax(sims))]))
    return out


def test_blend_table_lists_each_single_pair_and_triple_once():
    table, kind = blend_table(6)
    assert (kind == SINGLE).sum() == 6 and (kind == PAIR).sum() == 15 and (kind == TRIPLE).sum() == 20
    people = [frozenset(int(p) for p in row if p < 6) for row in table]
    assert len(set(people)) == len(people)
    assert all(len(group) == [1, 2, 3][k] for group, k in zip(people, kind))


@pytest.mark.parametrize("first_pass", [True, False])
def test_weights_equal_a_direct_computation_over_blend_vectors(pool, first_pass):
    cfg = replace(DEFAULT, enum_candidates=6, enum_seeds=2, enum_completions=3,
                  enum_first_pass=first_pass)
    index = pool.index
    ideal = normalize_rows(index.centroids[pool.celeb_rows[[3, 40, 77]]].sum(0, keepdims=True))[0]
    rounds = random_rounds(pool, ideal, 8, 4, seed=1)
    model = adaptive_model(pool, cfg)
    post = enumerated_posterior(model, posterior(model, rounds, index.embeddings, cfg, False),
                                rounds, index.embeddings, cfg)
    # Direct: each hypothesis as an explicit unit vector, Luce choices marginalized over β.
    vectors = np.einsum("hj,hjd->hd", post.coefs, model.anchor_vectors[post.components])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    a = len(model.anchors)
    sizes = (post.coefs > 0).sum(1)
    class_size = {1: a, 2: a * (a - 1) / 2, 3: a * (a - 1) * (a - 2) / 6}
    class_mass = {1: cfg.single_prior_mass, 2: cfg.pair_prior_mass,
                  3: 1 - cfg.single_prior_mass - cfg.pair_prior_mass}
    log_prior = np.array([math.log(class_mass[s] / class_size[s]) for s in sizes])
    joint = []
    for beta in cfg.betas:
        loglik = np.zeros(len(vectors))
        for record in rounds:
            sims = index.embeddings[list(record.shown)].astype(np.float64) @ vectors.T
            p = np.exp(beta * (sims - sims.max(0)))
            p = (1 - cfg.lapse) * p / p.sum(0) + cfg.lapse / len(record.shown)
            loglik += np.log(p[record.shown.index(record.picked)])
        joint.append(loglik + log_prior)
    joint = np.array(joint)
    direct = np.exp(joint - joint.max()).sum(0)
    assert np.allclose(post.weights, direct / direct.sum(), rtol=2e-3, atol=1e-7)
    assert post.single.tolist() == (sizes == 1).tolist()


@pytest.mark.parametrize("blend", [(10, 120, 250), (1, 2, 3), (50, 60, 70)])
def test_completing_a_blend_ranks_the_person_it_misses_near_the_top(pool, blend):
    """Every person shown once (75 rounds of 4 of 300): among the 298 others, the missing
    member of the blend is one of the 10 best completions (chance: 1 in 30)."""
    index = pool.index
    p, q, r = (int(x) for x in pool.celeb_rows[list(blend)])
    ideal = normalize_rows(index.centroids[[p, q, r]].sum(0, keepdims=True))[0]
    rounds = random_rounds(pool, ideal, 75, 4, seed=2)
    model = adaptive_model(pool, DEFAULT)
    position = {int(c): i for i, c in enumerate(model.anchors)}
    found = completions(model, History(model, rounds, index.embeddings),
                        [[position[p], position[q]]], beta=64.0, lapse=DEFAULT.lapse, count=10,
                        exclude=np.array([position[p], position[q]]))
    assert position[r] in found.tolist()
