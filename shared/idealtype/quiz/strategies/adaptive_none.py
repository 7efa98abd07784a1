"""What a round that offered "none of these" says about each particle (the adaptive strategy's
user model with an outside option).

A person offered "none of these" compares the faces with a bar of their own: Luce's choice
with an outside option whose utility is the bar, P(none | w, β, bar) = 1 / (1 + Σ_i
exp(β·(s_i − bar))) with s_i = cos(x_i, w); a pick then says as well that the face beat the
bar: P(pick j | w, β, bar) = 1 / (1 + Σ_{i≠j} exp(β·(s_i − s_j)) + exp(β·(bar − s_j))).

How high the bar is differs from person to person, so it is unknown and marginalized over
levels, like β: no bar (a person who never answers "none": their picks are forced choices),
then the cosine of the person at the top `share` of the pool by cos(·, w) for each of
cfg.none_bar_shares (3% is choosy, 30% easy-going). Each particle's bar per share is an
order statistic of its cosines with the sample of the pool that the liked-set thresholds use
(adaptive_rank), computed once per model (liked_set.particle_cutoffs). With the lapse ε any
of the N + 1 answers is equally likely. A likelihood product for such rounds is (levels,
len(betas), P), level 0 being "no bar"; rounds without the option (RoundRecord.declinable
False) multiply every level by the same forced-choice factor (posterior.py).
"""

from __future__ import annotations

import numpy as np


def bar_powers(x: np.ndarray, sign: float, betas: np.ndarray, out: np.ndarray) -> None:
    """out[k, b] = exp(sign·β_b·x[k]) for (K, P) `x` (it may be out[:, 0]) into (K,
    len(betas), P) float32. The betas double from one level to the next: exp(2β·x) =
    exp(β·x)²."""
    np.multiply(x, np.float32(sign * betas[0]), out=out[:, 0])
    np.exp(out[:, 0], out=out[:, 0])
    for b in range(1, len(betas)):
        np.multiply(out[:, b - 1], out[:, b - 1], out=out[:, b])


def face_totals(faces: np.ndarray, betas: np.ndarray) -> np.ndarray:
    """(len(betas), P) float32 Σ_i exp(β_b·faces[i]) over the rows of (F, P) `faces` (used as
    scratch)."""
    totals = np.empty((len(betas), faces.shape[1]), dtype=np.float32)
    faces *= betas[0]
    np.exp(faces, out=faces)
    for b in range(len(betas)):
        if b:
            faces *= faces
        faces.sum(0, out=totals[b])
    return totals


def multiply_declinable_pick(gaps: np.ndarray, bars: np.ndarray, betas: np.ndarray,
                             lapse: float, product: np.ndarray) -> None:
    """Multiplies into `product` ((1 + K, len(betas), P) float64) the probability of a pick
    in a round that offered "none of these", per bar level and particle. `gaps` (N, P):
    the other faces' cosines minus the picked one's (N−1 rows), then minus the picked face's
    cosine; `bars` (K, P). Used as scratch. Factors in float32 (each is ≥ ε/(N+1)), the
    product over rounds in float64; every level and β in one array operation each."""
    options = gaps.shape[0] + 1
    keep, floor = np.float32(1 - lapse), np.float32(lapse / options)
    over = np.empty((len(bars), len(betas), bars.shape[1]), dtype=np.float32)
    with np.errstate(over="ignore"):  # an overflow means no chance: the factor is ε/options
        np.add(bars, gaps[-1], out=over[:, 0])  # bar − the picked face's cosine
        bar_powers(over[:, 0], 1.0, betas, over)
        totals = face_totals(gaps[:-1], betas)
        totals += 1
        over += totals
        np.divide(keep, over, out=over)
        over += floor
        product[1:] *= over
        np.divide(keep, totals, out=totals)
        totals += floor
        product[0] *= totals


def multiply_declined(sims: np.ndarray, bars: np.ndarray, betas: np.ndarray, lapse: float,
                      product: np.ndarray) -> None:
    """Multiplies into `product` ((1 + K, len(betas), P) float64) the probability of "none of
    these" per bar level and particle: `sims` (N, P) the faces' cosines (used as scratch),
    `bars` (K, P). Without a bar it is only a lapse. Cosines are in [-1, 1] and β ≤ ~100, so
    exp(β·s) and exp(−β·bar) stay finite in float32; their product may overflow, which
    means a face far above the bar: the factor is then the lapse's."""
    options = sims.shape[0] + 1
    keep, floor = np.float32(1 - lapse), np.float32(lapse / options)
    below = np.empty((len(bars), len(betas), bars.shape[1]), dtype=np.float32)
    bar_powers(bars, -1.0, betas, below)
    totals = face_totals(sims, betas)  # Σ exp(β·s_i)
    product[0] *= lapse / options
    with np.errstate(over="ignore"):
        below *= totals
        below += 1
        np.divide(keep, below, out=below)
        below += floor
        product[1:] *= below
