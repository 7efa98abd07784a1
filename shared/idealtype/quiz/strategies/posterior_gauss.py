"""A continuous posterior over the ideal vector: Gaussian prior, Luce likelihood, importance
sampling with an expectation-propagation proposal.

Why: in FaceNet's geometry the taste of a person is a direction that no finite set of blends of
celebrities comes close to (on LFW the best of 28k random blends has cosine ~0.68 with a blend
of three other people), so a discrete posterior cannot resolve it. Here

  prior:      v ~ N(μ, τ·Σ)   μ, Σ = mean and covariance of the pool's centroids; the ideal
              direction is w = v/|v| (τ < 1: a taste is pulled towards the average face the
              way a blend of several people is);
  likelihood: the Luce choice model on cos(x, w), exactly as for the other particles;
  proposal:   each pick "beats" every other face of its round: (x_pick - x_j)·v > 0. With
              probit factors these are linear in v, so EP over the n = (N-1)·rounds differences
              f = D v gives a Gaussian q(f); samples f ~ q, and v | f from the prior (Matheron's
              rule: v = v0 + ΣDᵀK⁻¹(f - D v0), v0 ~ prior), carry importance weights
              p(f)/q(f) × Luce likelihood — the exact posterior, not the pairwise surrogate.

All of it lives in the n-dimensional space of differences (n ≤ 140), plus one (S, d, d) product
for the prior draws, so it costs a few milliseconds per request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..pool import Pool
from .adaptive_config import AdaptiveConfig

LUCE_TO_PROBIT = 1 / 1.7  # σ(βΔ) ≈ Φ(βΔ/1.7)


@dataclass(frozen=True)
class GaussPrior:
    mean: np.ndarray  # (d,)
    factor: np.ndarray  # (d, d) lower-triangular L with τΣ = L Lᵀ
    kappa: float  # 1 / typical |v|: turns cosines into the units of v


def gauss_prior(pool: Pool, cfg: AdaptiveConfig) -> GaussPrior:
    rows = pool.celeb_rows
    if len(rows) > 20000:
        rows = np.sort(np.random.default_rng(cfg.seed).choice(rows, 20000, replace=False))
    x = np.asarray(pool.index.centroids[rows], dtype=np.float64)
    mean = x.mean(0)
    cov = cfg.prior_scale * np.cov(x, rowvar=False) if len(x) > 1 else np.zeros((x.shape[1],) * 2)
    cov += 1e-4 * np.eye(len(mean))  # small pools: keep every direction possible
    return GaussPrior(mean, np.linalg.cholesky(cov), 1 / math.sqrt(mean @ mean + np.trace(cov)))


_erfc = np.frompyfunc(math.erfc, 1, 1)


def normal_cdf_ratio(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Φ(z), φ(z)/Φ(z)), stable far in the left tail."""
    cdf = 0.5 * _erfc(-z / math.sqrt(2)).astype(np.float64)
    pdf = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    ratio = pdf / np.maximum(cdf, 1e-300)
    # Far left: Φ underflows; the Mills-ratio expansion φ/Φ ≈ -z - 1/z + 2/z³ is exact enough.
    zt = np.minimum(z, -8.0)
    return cdf, np.where(z < -8, -zt - 1 / zt + 2 / zt**3, ratio)


def ep_probit(
    m0: np.ndarray, k: np.ndarray, b: float, sweeps: int = 12, damping: float = 0.7
) -> tuple[np.ndarray, np.ndarray]:
    """EP for the Gaussian prior N(m0, K) on f and factors Φ(b·f_i) (b = inf: f_i > 0).
    Returns the approximate posterior (mean, covariance) of f."""
    n = len(m0)
    tt, tn = np.zeros(n), np.zeros(n)
    mu, sigma = m0.copy(), k.copy()
    eye = np.eye(n)
    for _ in range(sweeps):
        s2 = np.diag(sigma)
        tau_c = np.maximum(1 / s2 - tt, 1e-12)
        nu_c = mu / s2 - tn
        var_c, m_c = 1 / tau_c, nu_c / tau_c
        denom = np.sqrt(var_c if math.isinf(b) else var_c + 1 / b**2)
        z = m_c / denom
        _, ratio = normal_cdf_ratio(z)
        mu_hat = m_c + var_c * ratio / denom
        var_hat = np.maximum(var_c - var_c**2 * ratio * (z + ratio) / denom**2, 1e-12)
        tt = np.maximum(damping * (1 / var_hat - tau_c) + (1 - damping) * tt, 0.0)
        tn = damping * (mu_hat / var_hat - nu_c) + (1 - damping) * tn
        sw = np.sqrt(tt)
        chol = np.linalg.cholesky(eye + sw[:, None] * k * sw[None, :])
        v = np.linalg.solve(chol, sw[:, None] * k)
        sigma = k - v.T @ v
        mu = m0 + sigma @ (tn - tt * m0)
    return mu, sigma


def log_normal_density(x: np.ndarray, mean: np.ndarray, chol: np.ndarray) -> np.ndarray:
    """log N(x; mean, LLᵀ) for rows of x (up to the shared 2π constant)."""
    z = np.linalg.solve(chol, (x - mean).T)
    return -0.5 * (z * z).sum(0) - np.log(np.diag(chol)).sum()


def sample_ideals(
    prior: GaussPrior,
    differences: np.ndarray,
    beta: float,
    count: int,
    rng: np.random.Generator,
    cfg: AdaptiveConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """(count, d) unit ideal vectors drawn from the EP proposal, and log p(f)/q(f) of each.

    `differences` (n, d): x_pick - x_j for every round and every face j not picked;
    `beta`: the Luce decisiveness to build the proposal with (inf allowed)."""
    d = len(prior.mean)
    dl = differences @ prior.factor  # (n, d)
    k = dl @ dl.T
    k += (1e-6 * np.trace(k) / len(k) + 1e-12) * np.eye(len(k))
    m0 = differences @ prior.mean
    b = math.inf if math.isinf(beta) else beta * LUCE_TO_PROBIT * prior.kappa
    mu, sigma = ep_probit(m0, k, b)
    q_chol = np.linalg.cholesky(cfg.proposal_inflation * sigma + 1e-9 * np.eye(len(mu)))
    f = mu + rng.standard_normal((count, len(mu))) @ q_chol.T
    log_ratio = log_normal_density(f, m0, np.linalg.cholesky(k)) - log_normal_density(f, mu, q_chol)
    # v | f under the prior (Matheron): v = v0 + ΣDᵀ K⁻¹ (f - D v0).
    v0 = prior.mean + rng.standard_normal((count, d)) @ prior.factor.T
    gain = np.linalg.solve(k, (f - v0 @ differences.T).T)  # (n, count)
    v = v0 + (prior.factor @ dl.T @ gain).T
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v.astype(np.float32), log_ratio
