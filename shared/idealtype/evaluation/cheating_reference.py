"""`reference-triples`: a ceiling for the `type` protocol, not a product (never served).

It cheats: it knows the simulator's prior — the ideal is the normalized equal-weight blend of
exactly three distinct pool people — and the simulator's Luce β. Its posterior is the served
Gibbs sampler (blend_gibbs.py, several chains) over such triples of the whole pool given every
pick, from the first round on; each round shows the faces with
the most mutual information between the pick and its samples (the served `adaptive`'s greedy
set search); it recommends the people most often in the top 1% liked set over its samples.
How high type precision@7 can go with this is how much room the served strategy has left.

Slow by design (about a second per round); numpy only; deterministic given the round rng
(`rank` gets no rng, so it seeds its own from the history)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..quiz.pool import Pool
from ..quiz.strategies.adaptive_config import DEFAULT as ADAPTIVE_DEFAULT
from ..quiz.strategies.adaptive_display import greedy_informative_set
from ..quiz.strategies.base import (
    RoundRecord,
    Strategy,
    random_images_of,
    sample_unused,
    shown_celebs,
)
from ..quiz.strategies.blend_gibbs import gibbs_blends, pick_differences
from .protocols import liked_count

# β = ∞ (a perfect chooser) as a likelihood: a steep softmax plus a lapse floor, so one pick
# that a hypothesis cannot explain lowers it a lot instead of ruling it out (chains can move).
INFINITE_BETA_STANDIN = 60.0
RANK_SEED = 0x7E1A  # rank() has no rng: its sampler's seed = this + the quiz's rows


@dataclass(frozen=True)
class ReferenceConfig:
    beta: float = math.inf  # the simulator's β (math.inf: perfect chooser)
    lapse: float | None = None  # likelihood floor; None = 0.05 for β=∞, 0.01 otherwise
    people: int = 3  # people per blend (the simulator's prior)
    chains: int = 32  # 32 chains: 0.46 vs 16: 0.44 on 20-30 β=∞ users (within noise), cost ×2
    display_sweeps: int = 12  # Gibbs sweeps per round; the last `display_keep` give samples
    display_keep: int = 6
    rank_sweeps: int = 30
    rank_keep: int = 15
    near_people: int = 3  # candidates: the people nearest each sampled blend ...
    random_people: int = 40  # ... plus this many random people (exploration)
    liked_share: float = 0.01  # the liked set the ranking targets: top 1% of the pool

    @property
    def likelihood_beta(self) -> float:
        return INFINITE_BETA_STANDIN if math.isinf(self.beta) else self.beta

    @property
    def likelihood_lapse(self) -> float:
        if self.lapse is not None:
            return self.lapse
        return 0.05 if math.isinf(self.beta) else 0.01


def pool_centroids(pool: Pool) -> np.ndarray:
    """(pool size, d) float32 unit centroids of the pool's people, in `pool.celeb_rows` order."""
    return pool.memo("reference-triples/centroids",
                     lambda p: np.ascontiguousarray(p.index.centroids[p.celeb_rows], dtype=np.float32))


class ReferenceTriplesStrategy(Strategy):
    """Evaluation only: resolved by name in `evaluation.strategies`, deliberately not `@register`ed."""

    name = "reference-triples"
    description = "Cheating ceiling: Gibbs posterior over the simulator's equal-weight triples."

    def __init__(self, config: ReferenceConfig | None = None, **overrides: Any):
        self.cfg = replace(config or ReferenceConfig(), **overrides)
        self.display_cfg = replace(ADAPTIVE_DEFAULT, lapse=self.cfg.likelihood_lapse)

    def samples(
        self, pool: Pool, history: Sequence[RoundRecord], sweeps: int, keep: int,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """(samples, d) unit blend vectors drawn from the posterior given `history`."""
        # The served sampler's (blend_gibbs.py), over the whole pool and the simulator's blends
        # of exactly `people` people; it leaves "none of these" answers out.
        cfg = self.cfg
        return gibbs_blends(pool_centroids(pool), pick_differences(history, pool.index.embeddings),
                            cfg.likelihood_beta, cfg.likelihood_lapse, (cfg.people,), cfg.chains,
                            sweeps, keep, rng)

    def next_round(
        self, pool: Pool, history: Sequence[RoundRecord], choices: int, rng: np.random.Generator
    ) -> list[int]:
        cfg = self.cfg
        centroids = pool_centroids(pool)
        blends = self.samples(pool, history, cfg.display_sweeps, cfg.display_keep, rng)
        avoid = shown_celebs(pool, history)
        # Candidates: the people nearest each sampled blend (its members are usually among
        # them) and a few random people; never anyone shown before.
        near = np.argpartition(-(centroids @ blends.T), cfg.near_people, axis=0)[: cfg.near_people + 1]
        explore = rng.choice(len(centroids), size=min(cfg.random_people, len(centroids)), replace=False)
        people = pool.celeb_rows[np.unique(np.concatenate([near.ravel(), explore]))]
        people = np.array([p for p in people.tolist() if p not in avoid], dtype=np.int64)
        if len(people) < choices:
            people = np.r_[people, sample_unused(pool.celeb_rows, choices - len(people),
                                                 avoid | set(people.tolist()), rng)]
        faces = np.array(random_images_of(pool, people.tolist(), rng))
        sims = np.asarray(pool.index.embeddings[faces], dtype=np.float32) @ blends.T
        chosen = greedy_informative_set(sims, choices, cfg.likelihood_beta, self.display_cfg)
        return [int(faces[i]) for i in chosen]

    def rank(
        self, pool: Pool, history: Sequence[RoundRecord], k: int,
        state: Mapping[str, Any] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.cfg
        centroids = pool_centroids(pool)
        rows = [row for r in history if r.picked is not None for row in (*r.shown, r.picked)]
        rng = np.random.default_rng([RANK_SEED, *rows])
        blends = self.samples(pool, history, cfg.rank_sweeps, cfg.rank_keep, rng)
        sims = centroids @ blends.T  # (G, samples)
        top = liked_count(len(centroids), cfg.liked_share)
        liked = np.argpartition(-sims, top - 1, axis=0)[:top]
        membership = np.bincount(liked.ravel(), minlength=len(centroids))
        mean = blends.mean(0)
        closeness = centroids @ (mean / np.linalg.norm(mean))
        order = np.lexsort((-closeness, -membership))[:k]  # membership first, ties by closeness
        return pool.celeb_rows[order], closeness[order].astype(np.float32)
