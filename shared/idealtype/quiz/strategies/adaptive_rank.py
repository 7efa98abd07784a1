"""Recommending from the posterior.

Rules (AdaptiveConfig.rank_rule):
- `membership`: expected membership in the person's liked set (the top 1% of the pool by
  cosine to w), E_p[P(c ∈ top1%(w_p))]. A posterior split between two looks then recommends
  people typical of each, not the blurry average nobody in either group resembles. The w_p are
  blends drawn given the picks by a Gibbs sampler over the most probable single people and the
  people nearest the posterior mean (blend_gibbs.py; `gibbs_candidates` 0: the posterior's own
  particles), since after a whole quiz no fixed particle explains every pick. A bonus for the
  most probable single people keeps a one-person taste's person on the list.
- `closeness`: cosine to the posterior mean direction (= expected cosine, up to scale).
- `people`: posterior probability that c *is* the ideal (single-person hypotheses), then
  closeness — the "posterior over people" baseline.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .adaptive_config import AdaptiveConfig
from .adaptive_display import blend_vectors, hypothesis_thresholds, particle_vectors
from .adaptive_model import AdaptiveModel
from .base import distinct
from .blend_gibbs import blend_samples
from .liked_set import liked_membership, liked_thresholds
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


def concentration(model: AdaptiveModel, post: Posterior, draws: int) -> float:
    """|E_p w_p|², the mean cosine between two independent posterior draws: 1 when every
    plausible hypothesis points the same way (~0.15 before the first pick on LFW). Estimated
    from `draws` systematic draws (evenly spaced quantiles of the weights: deterministic, no
    rng) as the mean cosine over their distinct pairs, so it costs a few dozen particle
    vectors instead of the whole posterior's."""
    cdf = np.cumsum(post.weights)
    picks = np.searchsorted(cdf, (np.arange(draws) + 0.5) / draws * cdf[-1])
    total = particle_vectors(model, post, np.minimum(picks, len(cdf) - 1)).sum(0, dtype=np.float64)
    return float((total @ total - draws) / (draws * (draws - 1)))


@dataclass(frozen=True)
class RankBasis:
    """What the recommendations need from the posterior: its top particles and the
    one-person probabilities. Computing it is the costly part of a result (the posterior);
    for the served configuration it is small enough to keep in the quiz item, so the last pick
    computes it once and the result request starts from it (`to_state` / `from_state`)."""

    components: np.ndarray  # (T, 3) anchor positions of the top particles' components
    coefs: np.ndarray  # (T, 3) float32 (rows of continuous samples are unused)
    anchored: np.ndarray  # (T,) bool: a blend of anchors (else a continuous sample)
    vectors: np.ndarray  # (T, d) float32 unit vectors of the top particles, heaviest first
    pi: np.ndarray  # (T,) float64 their renormalized weights
    person: np.ndarray  # (G,) float64 P(pool person is the ideal | the ideal is one person)
    ids: np.ndarray | None  # (T,) the top particles' rows in the model, when all are its own
    beta: float  # the posterior's mean decisiveness (the blend sampler's likelihood)

    def to_state(self, model: AdaptiveModel, history: str) -> dict[str, Any] | None:
        """A JSON-able copy (bit-exact; ~20 KB at N=4, M=10) for the quiz whose answered
        rounds have the digest `history` (adaptive_live.history_digest), or None when the top
        particles are not the model's own (research variants that refine the posterior)."""
        if self.ids is None:
            return None
        people = np.flatnonzero(self.person)
        return {"format": STATE_FORMAT, "model": model.key, "history": history, "beta": self.beta,
                "ids": _pack(self.ids, np.int32), "pi": _pack(self.pi, np.float64),
                "people": _pack(people, np.int32), "person": _pack(self.person[people], np.float64)}

    @classmethod
    def from_state(cls, model: AdaptiveModel, state: Mapping[str, Any] | None,
                   n_pool: int, history: str) -> RankBasis | None:
        """The basis kept by `to_state`, or None when there is none, it belongs to another
        model (index version, pool or configuration) or another history, or it does not
        decode: then the caller recomputes it from the history."""
        if (not state or state.get("format") != STATE_FORMAT or state.get("model") != model.key
                or state.get("history") != history):
            return None
        try:
            ids = _unpack(state["ids"], np.int32)
            pi = _unpack(state["pi"], np.float64)
            people = _unpack(state["people"], np.int32)
            values = _unpack(state["person"], np.float64)
            beta = float(state["beta"])
        except (KeyError, TypeError, ValueError, binascii.Error):
            return None
        n_particles = len(model.log_prior)
        if (not len(ids) or len(pi) != len(ids) or len(values) != len(people) or not beta > 0
                or ids.min() < 0 or ids.max() >= n_particles
                or (len(people) and (people.min() < 0 or people.max() >= n_pool))):
            return None
        person = np.zeros(n_pool)
        person[people] = values
        components, coefs = model.components[ids], model.coefs[ids]
        return cls(components, coefs, np.ones(len(ids), bool),
                   blend_vectors(model, components, coefs), pi, person, ids, beta)


STATE_FORMAT = 2  # bump when RankBasis or what it means changes: older states are recomputed


def _pack(values: np.ndarray, dtype: type) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype=dtype).tobytes()).decode()


def _unpack(text: str, dtype: type) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text, validate=True), dtype=dtype)


def rank_basis(model: AdaptiveModel, post: Posterior, pool_rows: np.ndarray,
               cfg: AdaptiveConfig) -> RankBasis:
    top, pi = top_particles(post, cfg)
    anchored = top < len(post.components)
    own = top[anchored]
    ids = post.ids[top] if post.ids is not None and anchored.all() else None
    components = np.zeros((len(top), 3), dtype=post.components.dtype)
    coefs = np.zeros((len(top), 3), dtype=np.float32)
    components[anchored], coefs[anchored] = post.components[own], post.coefs[own]
    return RankBasis(components, coefs, anchored, particle_vectors(model, post, top), pi,
                     person_probability(model, post, pool_rows), ids,
                     float(post.beta_weights @ np.asarray(cfg.betas)))


def person_probability(model: AdaptiveModel, post: Posterior, pool_rows: np.ndarray) -> np.ndarray:
    """(G,) posterior probability that each pool person *is* the ideal, if the ideal is one
    person: the weights of the single-person particles, normalized over them."""
    prob = np.zeros(len(pool_rows))
    person = np.searchsorted(pool_rows, model.anchors[post.components[post.single, 0]])
    np.add.at(prob, person, post.weights[: len(post.single)][post.single])
    return prob / max(prob.sum(), 1e-300)


def most_probable_people(person: np.ndarray, count: int) -> np.ndarray:
    """Pool positions of the `count` people most probably the ideal (if it is one person),
    only those with any probability."""
    count = min(count, len(person) - 1)
    top = np.argpartition(-person, count)[:count]
    return top[person[top] > 0]


def recommend_from(
    model: AdaptiveModel,
    basis: RankBasis,
    pool_rows: np.ndarray,
    k: int,
    cfg: AdaptiveConfig,
    diffs: np.ndarray | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(celebrity rows, each one's cosine to the posterior mean direction) of the k people most
    likely in the liked set, most likely first. The liked sets come from blend samples drawn
    given `diffs` (the picks, blend_gibbs.pick_differences; rng seeded by `seed`) when
    cfg.gibbs_candidates is set, else from the posterior's particles (RankBasis)."""
    vectors, pi, person = basis.vectors, basis.pi, basis.person
    mean = (pi @ vectors).astype(np.float32)  # float32: a float64 operand copies the centroids
    mean /= max(float(np.linalg.norm(mean)), 1e-12)
    near = model.table.nearest(mean, cfg.rank_candidates, cfg.scan_rows)
    components = np.searchsorted(
        pool_rows, model.anchors[basis.components[basis.anchored].ravel()]
    )
    likely_people = most_probable_people(person, cfg.likely_people)
    cand = distinct(np.concatenate([near, components, likely_people]))
    centroids = model.table.rows(cand)
    closeness = centroids @ mean
    if cfg.rank_rule == "closeness":
        score = closeness
    elif cfg.rank_rule == "people":
        score = person[cand]
    elif diffs is not None and cfg.gibbs_candidates:
        # The most probable single people are the sampler's first candidates, however far the
        # posterior mean has drifted from them, so a single target enters the sampled blends
        # (LFW, 1,000 recorded quizzes, N=4 M=10, β=20, bonus 7: target hit@7 +0.011 against
        # the nearest people only; see AdaptiveConfig.sampled_person_bonus).
        blends = blend_samples(centroids, closeness, diffs, basis.beta, cfg, cfg.result_gibbs,
                               np.random.default_rng(seed),
                               first=np.searchsorted(cand, likely_people))
        # The samples blend pool people, who lie in the anchors' subspace as the anchors do
        # (lfw-mix at 100k: residual norm ≤ 0.015 for every centroid, median 0.008).
        membership = liked_membership(model.table.products(cand, blends),
                                      liked_thresholds(blends @ model.table.sample.T, cfg), cfg)
        score = membership.mean(1) + cfg.sampled_person_bonus * person[cand]
    else:
        thresholds = hypothesis_thresholds(
            model, basis.ids, basis.anchored, basis.components[basis.anchored],
            basis.coefs[basis.anchored], vectors, cfg)
        sims = (model.table.products(cand, vectors) if basis.anchored.all()
                else centroids @ vectors.T)  # (continuous samples are not anchor blends)
        membership = liked_membership(sims, thresholds, cfg)
        score = membership @ pi + cfg.person_bonus * person[cand]
    order = np.lexsort((-closeness, -np.round(score, 6)))[:k]
    return pool_rows[cand[order]], closeness[order].astype(np.float32)
