"""`random`: the original method — each round shows N people drawn uniformly from the pool."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..pool import Pool
from .base import RoundRecord, Strategy, random_images_of, register, sample_unused, shown_celebs


@register
class RandomStrategy(Strategy):
    name = "random"
    description = "N people drawn uniformly at random each round (the original method)."

    def next_round(
        self, pool: Pool, history: Sequence[RoundRecord], choices: int, rng: np.random.Generator
    ) -> list[int]:
        people = sample_unused(pool.celeb_rows, choices, shown_celebs(pool, history), rng)
        return random_images_of(pool, people, rng)
