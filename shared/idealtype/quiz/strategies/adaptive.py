"""`adaptive`: a Bayesian quiz. It keeps a posterior over the person's ideal vector (particles
= blends of 1-3 people, Luce choice model with unknown decisiveness), shows each round the faces
whose pick is most informative under that posterior, and recommends the people most likely to
be in the person's liked set. Everything is recomputed from the history, except what the
result needs from the posterior: the last pick computes it and the quiz item keeps it
(`final_state`), so the result request does not recompute the posterior of every round.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..pool import Pool
from .adaptive_config import DEFAULT, AdaptiveConfig
from .adaptive_display import informative_round
from .adaptive_model import adaptive_model
from .adaptive_rank import RankBasis, rank_basis, recommend_from
from .base import RoundRecord, Strategy, register, shown_celebs
from .posterior import Posterior, posterior


class AdaptiveStrategy(Strategy):
    """The adaptive quiz for one configuration (the registered `adaptive` uses DEFAULT)."""

    name = "adaptive"
    description = "Bayesian: informative faces each round, recommendations from the posterior."

    def __init__(self, cfg: AdaptiveConfig = DEFAULT):
        self.cfg = cfg

    def _posterior(self, pool: Pool, history: Sequence[RoundRecord], refined: bool) -> Posterior:
        model = adaptive_model(pool, self.cfg)
        return posterior(model, history, pool.index.embeddings, self.cfg, refined)

    def next_round(
        self, pool: Pool, history: Sequence[RoundRecord], choices: int, rng: np.random.Generator
    ) -> list[int]:
        # Rounds use the plain posterior; refinements (variants) are only worth it for results.
        return informative_round(
            adaptive_model(pool, self.cfg), self._posterior(pool, history, refined=False),
            pool.index.embeddings, pool.celeb_rows, shown_celebs(pool, history), choices, rng,
            self.cfg,
        )

    def _rank_basis(self, pool: Pool, history: Sequence[RoundRecord]) -> RankBasis:
        model = adaptive_model(pool, self.cfg)
        post = self._posterior(pool, history, refined=True)
        return rank_basis(model, post, pool.celeb_rows, self.cfg)

    def final_state(self, pool: Pool, history: Sequence[RoundRecord]) -> dict[str, Any] | None:
        return self._rank_basis(pool, history).to_state(adaptive_model(pool, self.cfg))

    def rank(
        self, pool: Pool, history: Sequence[RoundRecord], k: int,
        state: Mapping[str, Any] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        model = adaptive_model(pool, self.cfg)
        basis = RankBasis.from_state(model, state, len(pool.celeb_rows))
        if basis is None:
            basis = self._rank_basis(pool, history)
        return recommend_from(model, basis, pool.celeb_rows, k, self.cfg)


register(AdaptiveStrategy)
