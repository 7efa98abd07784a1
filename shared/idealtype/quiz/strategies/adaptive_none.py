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
(adaptive_rank), computed once per model. With the lapse ε any of the N + 1 answers is
equally likely. A likelihood product for such rounds is (levels, len(betas), P), level 0
being "no bar"; rounds without the option (RoundRecord.declinable False) multiply every level
by the same forced-choice factor (posterior.py).
"""

from __future__ import annotations

import math

import numpy as np

from .anchor_blends import blend_rows

BAR_CHUNK = 4096  # particles per step (a 1024-sample chunk is 16 MB of float32)


def particle_bars(anchor_sample: np.ndarray, components: np.ndarray, coefs: np.ndarray,
                  shares: tuple[float, ...]) -> np.ndarray:
    """(len(shares), P) float32: each particle's cosine at the top `share` of the sampled
    people (the ⌈share·S⌉-th largest of its S cosines). A particle's cosines with the sample
    are the same blend of its anchors' rows of `anchor_sample` ((A, S) anchor × sample
    cosines) as the particle is of the anchors."""
    s = anchor_sample.shape[1]
    # Positions in ascending order of the ⌈share·S⌉-th largest value.
    kth = [s - max(1, math.ceil(share * s)) for share in shares]
    bars = np.empty((len(shares), len(components)), dtype=np.float32)
    for start in range(0, len(components), BAR_CHUNK):
        sims = blend_rows(anchor_sample, components[start:start + BAR_CHUNK],
                          coefs[start:start + BAR_CHUNK])
        sims.partition(sorted(set(kth)), axis=1)
        bars[:, start:start + BAR_CHUNK] = sims[:, kth].T
    return bars


def multiply_declinable_pick(gaps: np.ndarray, bars: np.ndarray, betas: np.ndarray,
                             lapse: float, product: np.ndarray) -> None:
    """Multiplies into `product` ((1 + K, len(betas), P) float64) the probability of a pick
    in a round that offered "none of these", per bar level and particle. `gaps` (N, P):
    the other faces' cosines minus the picked one's (N−1 rows), then minus the picked face's
    cosine; `bars` (K, P). Used as scratch. Factors in float32 (each is ≥ ε/(N+1)), the
    product over rounds in float64."""
    options = gaps.shape[0] + 1
    over = bars + gaps[-1]  # bar − the picked face's cosine
    faces = gaps[:-1]
    faces *= betas[0]
    over *= betas[0]
    total = np.empty(faces.shape[1], dtype=np.float32)
    factor = np.empty_like(over)
    with np.errstate(over="ignore"):  # an overflow means no chance: the factor is ε/options
        np.exp(faces, out=faces)
        np.exp(over, out=over)
        for b in range(len(betas)):
            if b:  # betas double: exp(2β·d) = exp(β·d)²
                faces *= faces
                over *= over
            faces.sum(0, out=total)
            total += 1
            product[0, b] *= (1 - lapse) / total + lapse / options
            np.add(over, total, out=factor)
            np.divide(np.float32(1 - lapse), factor, out=factor)
            factor += np.float32(lapse / options)
            product[1:, b] *= factor


def multiply_declined(sims: np.ndarray, bars: np.ndarray, betas: np.ndarray, lapse: float,
                      product: np.ndarray) -> None:
    """Multiplies into `product` ((1 + K, len(betas), P) float64) the probability of "none of
    these" per bar level and particle: `sims` (N, P) the faces' cosines (used as scratch),
    `bars` (K, P). Without a bar it is only a lapse. Cosines are in [-1, 1] and β ≤ ~100, so
    exp(β·s) and exp(−β·bar) stay finite in float32; their product may overflow, which
    means a face far above the bar: the factor is then the lapse's."""
    options = sims.shape[0] + 1
    sims *= betas[0]
    below = bars * -betas[0]
    np.exp(sims, out=sims)
    np.exp(below, out=below)
    total = np.empty(sims.shape[1], dtype=np.float32)
    factor = np.empty_like(below)
    product[0] *= lapse / options
    with np.errstate(over="ignore"):
        for b in range(len(betas)):
            if b:
                sims *= sims
                below *= below
            sims.sum(0, out=total)  # Σ exp(β·s_i)
            np.multiply(below, total, out=factor)
            factor += 1
            np.divide(np.float32(1 - lapse), factor, out=factor)
            factor += np.float32(lapse / options)
            product[1:, b] *= factor
