"""Per-user scores and their summaries with 95% confidence intervals."""

from __future__ import annotations

import math

import numpy as np

Z95 = 1.959964


def wilson_interval(successes: float, n: int) -> tuple[float, float]:
    """95% Wilson score interval for a proportion (sound near 0 and 1, unlike mean ± 1.96·se)."""
    if n == 0:
        return (math.nan, math.nan)
    p = successes / n
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def summarize(values: np.ndarray) -> dict[str, float]:
    """Mean with a 95% CI: Wilson for 0/1 values, normal approximation otherwise."""
    v = np.asarray(values, dtype=np.float64)
    n = len(v)
    mean = float(v.mean()) if n else math.nan
    if n and np.isin(v, (0.0, 1.0)).all():
        lo, hi = wilson_interval(float(v.sum()), n)
    else:
        half = Z95 * float(v.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
        lo, hi = mean - half, mean + half
        if n and (v >= 0).all() and (v <= 1).all():  # a rate: its mean stays in [0, 1]
            lo, hi = max(lo, 0.0), min(hi, 1.0)
    # Wilson's bounds at a rate of exactly 0 or 1 can miss it by a rounding error.
    return {"mean": mean, "ci_low": min(lo, mean), "ci_high": max(hi, mean), "n": n}


def hit_at(rank: np.ndarray, k: int) -> np.ndarray:
    """1 where the target's 1-based rank is ≤ k (rank 0 = not ranked at all)."""
    return ((rank >= 1) & (rank <= k)).astype(np.float64)


def precision_at(recommended: np.ndarray, liked: np.ndarray, k: int) -> float:
    return float(np.isin(recommended[:k], liked).sum()) / k
