"""Recommending from the posterior.

Rules (AdaptiveConfig.rank_rule):
- `membership`: expected membership in the person's liked set (the top 1% of the pool by
  cosine to w), E_p[P(c ∈ top1%(w_p))]. A posterior split between two looks then recommends
  people typical of each, not the blurry average nobody in either group resembles.
- `closeness`: cosine to the posterior mean direction (= expected cosine, up to scale).
- `people`: posterior probability that c *is* the ideal (single-person hypotheses), then
  closeness — the "posterior over people" baseline.
"""

from __future__ import annotations

import numpy as np

from .adaptive_config import AdaptiveConfig
from .adaptive_display import particle_vectors
from .adaptive_model import AdaptiveModel
from .posterior import Posterior


def top_particles(post: Posterior, cfg: AdaptiveConfig) -> tuple[np.ndarray, np.ndarray]:
    """The most probable particles covering `posterior_cover` of the mass (at most
    `top_particles`), and their renormalized weights."""
    count = min(cfg.top_particles, len(post.weights))
    top = np.argpartition(-post.weights, count - 1)[:count]
    top = top[np.argsort(-post.weights[top])]
    cover = int(np.searchsorted(np.cumsum(post.weights[top]), cfg.posterior_cover)) + 1
    top = top[:cover]
    w = post.weights[top]
    return top, w / w.sum()


def person_probability(
    model: AdaptiveModel,
    post: Posterior,
    top: np.ndarray,
    pi: np.ndarray,
    pool_rows: np.ndarray,
    cand: np.ndarray,
) -> np.ndarray:
    """Posterior probability that each candidate (pool positions) *is* the ideal: the weight of
    its single-person particle."""
    single = post.single[top]
    person = np.searchsorted(pool_rows, model.anchors[post.components[top[single], 0]])
    prob = np.zeros(len(pool_rows))
    np.add.at(prob, person, pi[single])
    return prob[cand]


def threshold_sample(model: AdaptiveModel, cfg: AdaptiveConfig) -> np.ndarray:
    """Pool centroids on which each particle's top-1% cosine threshold is estimated."""
    g = len(model.pool_centroids)
    if g <= cfg.threshold_sample:
        return model.pool_centroids
    rows = np.random.default_rng(cfg.seed).choice(g, cfg.threshold_sample, replace=False)
    return model.pool_centroids[np.sort(rows)]


def recommend(
    model: AdaptiveModel,
    post: Posterior,
    pool_rows: np.ndarray,
    k: int,
    sample: np.ndarray,
    cfg: AdaptiveConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """(celebrity rows, cosine to the posterior mean direction) of the k best, best first."""
    top, pi = top_particles(post, cfg)
    vectors = particle_vectors(model, post, top)
    mean = (pi @ vectors).astype(np.float32)  # float32: a float64 operand copies the centroids
    mean /= max(float(np.linalg.norm(mean)), 1e-12)
    closeness = model.pool_centroids @ mean
    n_near = min(cfg.rank_candidates, len(pool_rows) - 1)
    near = np.argpartition(-closeness, n_near)[:n_near]
    components = np.searchsorted(pool_rows, model.anchors[post.components[top].ravel()])
    cand = np.unique(np.concatenate([near, components]))
    if cfg.rank_rule == "closeness":
        score = closeness[cand]
    elif cfg.rank_rule == "people":
        score = person_probability(model, post, top, pi, pool_rows, cand)
    else:
        sims = model.pool_centroids[cand] @ vectors.T  # (C, T)
        thresholds = np.quantile(sample @ vectors.T, 1 - cfg.liked_share, axis=0)
        membership = 1.0 / (1.0 + np.exp(-(sims - thresholds) / cfg.softness))
        score = membership @ pi
        if cfg.person_bonus:
            score = score + cfg.person_bonus * person_probability(model, post, top, pi, pool_rows, cand)
    order = np.lexsort((-closeness[cand], -np.round(score, 6)))[:k]
    return pool_rows[cand[order]], closeness[cand[order]].astype(np.float32)
