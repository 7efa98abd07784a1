"""A hypothesis' liked set: the top `liked_share` of the pool by cosine to it, its boundary
estimated from the hypothesis' cosines with a random sample of the pool. The result ranks
people by their expected membership (adaptive_rank); research displays ask about it
(adaptive_display.likely_liked)."""

from __future__ import annotations

import math

import numpy as np

from .adaptive_config import AdaptiveConfig


def upper_quantile(values: np.ndarray, q: float) -> np.ndarray:
    """np.quantile(values, q, axis=1) (linear interpolation), bit for bit, for a q near 1.

    np.quantile partitions around both neighbouring order statistics (and the ends); one
    partition around the lower one and the minimum of what lies above it give the same two
    values at a fifth of the cost. The arithmetic is numpy's own (virtual index, lerp)."""
    n = values.shape[1]
    virtual = n * q + (1 + q * -1.0) - 1
    below = math.floor(virtual)
    gamma = virtual - below
    part = np.partition(values, below, axis=1)
    low = part[:, below]
    if below + 1 >= n:
        return low
    high = part[:, below + 1:].min(1)
    diff = high - low
    return high - diff * (1 - gamma) if gamma >= 0.5 else low + diff * gamma


def liked_membership(sims: np.ndarray, sample_sims: np.ndarray, cfg: AdaptiveConfig) -> np.ndarray:
    """Soft membership of each candidate (rows of `sims`, cosines with the particles) in each
    particle's liked set: the particle's top `liked_share` of the pool, whose boundary is
    estimated from the particle's cosines with a random sample of the pool (`sample_sims`,
    one row per particle). Overwrites `sims`."""
    thresholds = upper_quantile(sample_sims, 1 - cfg.liked_share)
    # 1 / (1 + exp(-(sims - t) / softness)), step by step in place.
    np.subtract(sims, thresholds, out=sims)
    np.negative(sims, out=sims)
    sims /= cfg.softness
    np.exp(sims, out=sims)
    sims += 1.0
    return np.divide(1.0, sims, out=sims)
