"""A hypothesis' liked set: the top `liked_share` of the pool by cosine to it, its boundary
estimated from the hypothesis' cosines with a random sample of the pool. The result ranks
people by their expected membership (adaptive_rank); research displays ask about it
(adaptive_display.likely_liked)."""

from __future__ import annotations

import math

import numpy as np

from .adaptive_config import AdaptiveConfig
from .anchor_blends import blend_rows


def quantile_position(n: int, q: float) -> tuple[int, float]:
    """(below, gamma): numpy's linear-interpolation quantile q of n values lies at order
    statistic `below` plus gamma of the way to the next one (numpy's own virtual index)."""
    virtual = n * q + (1 + q * -1.0) - 1
    below = math.floor(virtual)
    return below, virtual - below


def interpolate(low: np.ndarray, high: np.ndarray, gamma: float) -> np.ndarray:
    """numpy's lerp between neighbouring order statistics (its arithmetic, bit for bit)."""
    diff = high - low
    return high - diff * (1 - gamma) if gamma >= 0.5 else low + diff * gamma


def upper_quantile(values: np.ndarray, q: float) -> np.ndarray:
    """np.quantile(values, q, axis=1) (linear interpolation), bit for bit, for a q near 1.

    np.quantile partitions around both neighbouring order statistics (and the ends); one
    partition around the lower one and the minimum of what lies above it give the same two
    values at a fifth of the cost."""
    n = values.shape[1]
    below, gamma = quantile_position(n, q)
    part = np.partition(values, below, axis=1)
    low = part[:, below]
    if below + 1 >= n:
        return low
    return interpolate(low, part[:, below + 1:].min(1), gamma)


def liked_thresholds(sample_sims: np.ndarray, cfg: AdaptiveConfig) -> np.ndarray:
    """Each hypothesis' liked-set boundary (the cosine at its top `liked_share` of the pool),
    from its cosines with the pool sample (one row per hypothesis)."""
    return upper_quantile(sample_sims, 1 - cfg.liked_share)


CUTOFF_CHUNK = 4096  # particles per step (a 1024-sample chunk is 16 MB of float32)


def particle_cutoffs(anchor_sample: np.ndarray, components: np.ndarray, coefs: np.ndarray,
                     bar_shares: tuple[float, ...],
                     liked_share: float) -> tuple[np.ndarray, np.ndarray]:
    """Order statistics of every particle's cosines with the pool sample, computed once per
    model: ((len(bar_shares), P) the cosine at each top share, the ⌈share·S⌉-th largest of
    its S cosines: its "none of these" bars, adaptive_none; (P,) its liked-set threshold, as
    liked_thresholds computes it). A particle's cosines with the sample are the same blend
    of its anchors' rows of `anchor_sample` ((A, S) anchor × sample cosines) as the particle
    is of the anchors (one partition serves both)."""
    s = anchor_sample.shape[1]
    # Positions in ascending order of the ⌈share·S⌉-th largest value.
    kth = [s - max(1, math.ceil(share * s)) for share in bar_shares]
    below, gamma = quantile_position(s, 1 - liked_share)
    above = min(below + 1, s - 1)  # (the quantile is the largest value when below is last)
    bars = np.empty((len(bar_shares), len(components)), dtype=np.float32)
    liked = np.empty(len(components), dtype=np.float32)
    for start in range(0, len(components), CUTOFF_CHUNK):
        part = slice(start, start + CUTOFF_CHUNK)
        sims = blend_rows(anchor_sample, components[part], coefs[part])
        sims.partition(sorted({*kth, below, above}), axis=1)
        bars[:, part] = sims[:, kth].T
        liked[part] = sims[:, below] if above == below else \
            interpolate(sims[:, below], sims[:, above], gamma)
    return bars, liked


def liked_membership(sims: np.ndarray, thresholds: np.ndarray, cfg: AdaptiveConfig) -> np.ndarray:
    """Soft membership of each candidate (rows of `sims`, cosines with the particles) in each
    particle's liked set: the particle's top `liked_share` of the pool, whose boundary
    (`thresholds`, one per particle) is estimated from the particle's cosines with a random
    sample of the pool (liked_thresholds, particle_cutoffs). Overwrites `sims`."""
    # 1 / (1 + exp(-(sims - t) / softness)), step by step in place.
    np.subtract(sims, thresholds, out=sims)
    np.negative(sims, out=sims)
    sims /= cfg.softness
    np.exp(sims, out=sims)
    sims += 1.0
    return np.divide(1.0, sims, out=sims)
