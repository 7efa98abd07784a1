"""What a "none of these" answer says about each particle (the adaptive strategy's user model
with an outside option).

A person who may answer "none of these" compares the faces with a bar of their own: the Luce
choice with an outside option, P(none | w, β) = 1 / (1 + Σ_i exp(β·(cos(x_i, w) − bar_w))),
with bar_w the cosine of the person at the top `none_bar_share` of the pool by cos(·, w) ("one
face in ten would do"); a pick in such a round says as well that the face beat the bar:
P(pick j | w, β) = 1 / (Σ_i exp(β·(s_i − s_j)) + exp(β·(bar_w − s_j))). Each particle's bar
is estimated once per model from the same sample of the pool that the liked-set thresholds
use (adaptive_rank). Rounds without the option (RoundRecord.declinable False: quizzes that
do not offer it) keep the forced-choice likelihood of posterior.py.
"""

from __future__ import annotations

import numpy as np

from .row_quantile import upper_quantile

BAR_CHUNK = 4096  # particles per step (a 1024-sample chunk is 16 MB of float32)


def particle_bars(anchor_sample: np.ndarray, components: np.ndarray, coefs: np.ndarray,
                  share: float) -> np.ndarray:
    """(P,) float32: each particle's cosine at the top `share` of the sampled people. A
    particle's cosines with the sample are the same blend of its anchors' rows of
    `anchor_sample` ((A, S) anchor × sample cosines) as the particle is of the anchors."""
    bars = np.empty(len(components), dtype=np.float32)
    for start in range(0, len(components), BAR_CHUNK):
        comps, cf = components[start:start + BAR_CHUNK], coefs[start:start + BAR_CHUNK]
        sims = anchor_sample[comps[:, 0]] * cf[:, :1]
        for j in range(1, comps.shape[1]):
            used = cf[:, j] != 0
            sims[used] += anchor_sample[comps[used, j]] * cf[used, j, None]
        bars[start:start + BAR_CHUNK] = upper_quantile(sims, 1 - share)
    return bars


def multiply_outside_option(gaps: np.ndarray, betas: np.ndarray, lapse: float, options: int,
                            product: np.ndarray) -> None:
    """Multiplies into `product` ((len(betas), P) float64) the probability of a round's answer
    when "none of these" was on offer, under each particle. `gaps` (options − 1, P) are the
    other answers' utilities minus the given answer's (for a pick: the other faces' cosines
    and the bar, minus the picked face's cosine; for "none of these": the faces' cosines
    minus the bar), so P = 1 / (1 + Σ exp(β·gap)). With the lapse ε any of the `options`
    answers is equally likely: (1 − ε)·P + ε/options. `gaps` is used as scratch."""
    gaps *= betas[0]
    with np.errstate(over="ignore"):  # an overflow means no chance: the factor is ε/options
        np.exp(gaps, out=gaps)
        for b in range(len(betas)):
            if b:  # betas double: exp(2β·d) = exp(β·d)²
                gaps *= gaps
            total = gaps.sum(0, dtype=np.float64)
            total += 1
            product[b] *= (1 - lapse) / total + lapse / options
