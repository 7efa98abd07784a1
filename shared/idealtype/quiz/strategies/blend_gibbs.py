"""Posterior samples of the ideal as an equal-weight blend of 2 or 3 candidate people, drawn by
Gibbs sampling given every pick: what the `adaptive` result ranks the liked set from.

Why: after 10 rounds the picks are ~20 bits, and the fixed particles (adaptive_model: 24,000
blends) no longer hold a hypothesis that explains all of them. On LFW (30 simulated β=∞ type
users, N=4, M=10) the true ideal's log-likelihood was −0.6 to −2.6 while the best particle's was
−3.5 to −10.8: the posterior sits on the least wrong particles, whose cosine with the ideal was
0.1-0.7. A Gibbs chain redraws one blended person at a time from its exact conditional over the
candidates, so it moves through the C(G, 3) blends to ones that explain the picks. On the same
histories (adaptive's displays), ranking from these samples instead of the particles raised type
precision@7 by 0.03-0.04 at N=4 M=10 and 0.02-0.04 in longer quizzes (β=∞ and β=20); see
README "Recommendations from blend samples". The result uses them once a quiz is twice the
information bound long (AdaptiveStrategy.rank), the displays from the information bound on
(adaptive_display.informative_round).

Likelihood as in posterior.py (Luce with the posterior's decisiveness β and lapse ε), for the
rounds answered with a face; a "none of these" answer names no face and is left out. The
candidates are the pool people nearest the posterior mean (the rank's own shortlist), so the
cost does not grow with the pool: rows × candidates × chains exps per step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .adaptive_config import AdaptiveConfig, GibbsRun
from .base import RoundRecord, face_rounds


def pick_differences(rounds: Sequence[RoundRecord], embeddings: np.ndarray) -> np.ndarray:
    """(R, n − 1, d) float32: each face not picked minus the picked face, for the R rounds
    answered with a face (all showing n faces); (0, 0, d) when there are none."""
    rounds = face_rounds(rounds)
    if not rounds:
        return np.zeros((0, 0, embeddings.shape[1]), dtype=np.float32)
    n = len(rounds[0].shown)
    x = np.asarray(embeddings[[row for r in rounds for row in r.shown]], dtype=np.float32)
    x = x.reshape(len(rounds), n, -1)
    picked = np.array([r.shown.index(r.picked) for r in rounds])
    others = np.array([[i for i in range(n) if i != p] for p in picked])
    return x[np.arange(len(rounds))[:, None], others] - x[np.arange(len(rounds)), picked][:, None]


def gibbs_blends(
    candidates: np.ndarray,
    diffs: np.ndarray,
    beta: float,
    lapse: float,
    counts: Sequence[int],
    chains: int,
    sweeps: int,
    keep: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """(len(counts) × chains × keep, d) unit vectors: the last `keep` of `sweeps` Gibbs sweeps of
    `chains` chains for each blend size in `counts`, each blend the normalized sum of that many
    distinct rows of `candidates` ((G, d) unit vectors).

    P(pick | blend v) = (1 − ε) / (1 + Σ_i exp(β·(cos(x_i, v) − cos(x_pick, v)))) + ε/n, and
    cos(x_i, v) − cos(x_pick, v) = (D_i·c + D_i·s) / |c + s| for a candidate c and the sum s of
    the chain's other people (|c + s|² = 1 + |s|² + 2c·s). Every such term is a sum of columns
    of two small tables, D·C (difference rows × candidates) and C·C, so a step costs one exp per
    (difference row, candidate, chain) and no product in d dimensions. Over a large candidate
    set (the evaluation's cheating reference samples the whole pool) the G × G table would
    cost more than it saves: each step then takes the products with s in d dimensions
    instead. Chains of every size run together: a smaller blend holds the "nobody" row G
    (zeros in both tables) in its unused slots, which no step redraws."""
    g = len(candidates)
    rounds, m = diffs.shape[:2]
    chain_size = np.repeat(np.asarray(counts), chains)  # (K,)
    width = int(chain_size.max())
    people = np.vstack([candidates, np.zeros((1, candidates.shape[1]), dtype=candidates.dtype)])

    def prior_draw() -> np.ndarray:
        # Distinct people per chain: the first `width` of a random order of the candidates
        # (one sort for all chains; rng.choice without replacement per chain took ~1 ms).
        state = np.argsort(rng.random((len(chain_size), g)), axis=1)[:, :width]
        state[np.arange(width) >= chain_size[:, None]] = g
        return state

    def unit_blends(rows: np.ndarray) -> np.ndarray:
        out = people[rows].sum(1)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    if rounds == 0:  # no face picked: the posterior is the prior (uniform blends)
        return unit_blends(np.concatenate([prior_draw() for _ in range(keep)]))
    state = prior_draw()
    flat = diffs.reshape(rounds * m, candidates.shape[1])
    dc = flat @ candidates.T
    dc_people = dc[:, None, :]  # (R·m, 1, G)
    # The G × G table costs G²·d; taking each step's products with s instead, K·G·d a step.
    products = step_products(people, flat, dc, direct=g > sweeps * width * len(chain_size))
    floor = np.float32(lapse / (m + 1))
    buffer = np.empty(rounds * m * g * len(chain_size), dtype=np.float32)
    samples = []
    # Arrays are (…, chain, candidate): the long candidate axis innermost.
    slot_chains = [np.flatnonzero(chain_size > slot) for slot in range(width)]
    other_slots = [[j for j in range(width) if j != slot] for slot in range(width)]
    # A face far above the pick overflows exp to inf: its round's p is the lapse floor, as it
    # would be anyway.
    with np.errstate(over="ignore"):
        for sweep in range(sweeps):
            for slot in range(width):
                k = slot_chains[slot]  # the chains with a person in this slot
                others = state[k][:, other_slots[slot]]  # (K, width − 1), "nobody" = g
                cs, ss, ds = products(others)  # (K, G) c·s, (K,) |s|², (R·m, K) D·s
                scale = np.float32(beta) / np.sqrt(np.maximum(1.0 + ss[:, None] + 2.0 * cs, 1e-6))
                z = buffer[: rounds * m * len(k) * g].reshape(rounds * m, len(k), g)
                np.add(dc_people, ds[:, :, None], out=z)
                z *= scale
                np.exp(z, out=z)
                den = z.reshape(rounds, m, len(k), g).sum(1)  # (R, K, G)
                den += 1.0
                p = np.divide(np.float32(1 - lapse), den, out=den)
                p += floor
                loglik = np.log(p, out=p).sum(0)  # (K, G)
                taken = others < g
                loglik[np.nonzero(taken)[0], others[taken]] = -np.inf  # the blended people are distinct
                loglik -= loglik.max(1, keepdims=True)
                cdf = np.cumsum(np.exp(loglik, dtype=np.float64), axis=1)
                u = rng.random(len(k)) * cdf[:, -1]
                state[k, slot] = np.minimum((cdf < u[:, None]).sum(1), g - 1)
            if sweep >= sweeps - keep:
                samples.append(state.copy())
    return unit_blends(np.concatenate(samples))


def step_products(people: np.ndarray, flat: np.ndarray, dc: np.ndarray,
                  direct: bool) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """What a Gibbs step of gibbs_blends needs, as a function of `others` ((K, j) rows of
    `people`: (G + 1, d), the G candidates and a zero row G for nobody): for s = the sum of
    each chain's others, c·s for every candidate c (K, G), |s|² (K,), and D·s (R·m, K) for the
    difference rows `flat` ((R·m, d); `dc` = flat @ candidates.T). `direct`: products with s
    in d dimensions at every step; else sums of a G × G table and of `dc`, built once."""
    g = len(people) - 1
    candidates = people[:g]
    if direct:
        def direct_products(others: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            s = people[others].sum(1)  # (K, d)
            return s @ candidates.T, (s * s).sum(1), flat @ s.T

        return direct_products
    gram = np.zeros((g + 1, g + 1), dtype=np.float32)
    gram[:g, :g] = candidates @ candidates.T
    padded = np.zeros((len(dc), g + 1), dtype=np.float32)
    padded[:, :g] = dc

    def table_sums(others: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (gram[others, :g].sum(1), gram[others[:, :, None], others[:, None, :]].sum((1, 2)),
                padded[:, others].sum(2))

    return table_sums


def blend_samples(centroids: np.ndarray, closeness: np.ndarray, diffs: np.ndarray, beta: float,
                  cfg: AdaptiveConfig, run: GibbsRun, rng: np.random.Generator,
                  first: np.ndarray | None = None) -> np.ndarray:
    """(S, d) Gibbs samples of the ideal over the candidates closest to the posterior mean
    (`closeness`: each row of `centroids`' cosine to it): `cfg.gibbs_candidates` of them,
    fewer when the quiz's picks would make the sampler (chains, sweeps: `run`) spend more than
    `run.budget` exps, but never fewer than `run.least` (then the budget gives way). The rows
    `first` come before the closest."""
    per_candidate = (max(diffs.shape[0] * diffs.shape[1], 1) * run.sweeps
                     * sum(cfg.gibbs_counts) * run.chains)
    count = min(len(centroids), cfg.gibbs_candidates, max(run.least, run.budget // per_candidate))
    if first is not None and len(first):
        closeness = closeness.copy()
        closeness[first] = np.inf
    # The `count` closest, in the order of a stable sort (ties by position), without sorting
    # all of them (the displays pass every anchor: 6,000 at 100k people).
    top = np.argpartition(-closeness, count - 1)[:count] if count < len(closeness) else np.arange(count)
    chosen = top[np.lexsort((top, -closeness[top]))]
    return gibbs_blends(centroids[chosen], diffs, beta, cfg.lapse, cfg.gibbs_counts,
                        run.chains, run.sweeps, run.keep, rng)
