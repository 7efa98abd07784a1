"""A sharper posterior by enumeration over the people a quiz's picks point to.

The model's fixed particles (adaptive_model.py: random pairs and triples of anchors) cannot
cover the ~10^10 blends of three people in a 4,600-person gallery: after a few rounds almost
none of the blends still consistent with the picks is among them, and the posterior settles on
the nearest ones it has. Here the hypotheses are built per request instead:

1. Candidates L: the people the fixed posterior uses most, plus the people who best *complete*
   its best blends (for each of the top blends and each of its members, every anchor is tried
   in that member's place — one Gibbs-like sweep over the whole anchor set).
2. Every equal-weight blend of 1-3 people of L (singles, pairs, triples: ~44k for |L| = 64) is
   scored exactly with the same Luce likelihood (β marginalized, lapses) as the fixed
   particles. The prior gives each class (single/pair/triple) a mass, spread evenly over all
   blends of that class among the anchors, so a triple wins only when the picks need one.

The result is a `Posterior` like the fixed one, so displays and recommendations use it as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from itertools import combinations

import numpy as np

from .adaptive_config import AdaptiveConfig
from .adaptive_model import AdaptiveModel
from .base import RoundRecord
from .posterior import (
    Posterior,
    anchor_cosines,
    anchor_usage,
    choice_log_likelihood,
    round_arrays,
    support,
)

SINGLE, PAIR, TRIPLE = 0, 1, 2


@lru_cache(maxsize=4)
def blend_table(size: int) -> tuple[np.ndarray, np.ndarray]:
    """((H, 3) candidate positions, (H,) class) of every single, pair and triple of `size`
    candidates; position `size` is "nobody" (a zero vector) and fills the unused slots."""
    nobody = size
    singles = [(i, nobody, nobody) for i in range(size)]
    pairs = [(i, j, nobody) for i, j in combinations(range(size), 2)]
    triples = list(combinations(range(size), 3))
    table = np.array(singles + pairs + triples, dtype=np.intp).reshape(-1, 3)
    kind = np.repeat([SINGLE, PAIR, TRIPLE], [len(singles), len(pairs), len(triples)])
    return table, kind


class History:
    """The picked rounds as arrays: faces' cosines with every anchor and the picked positions."""

    def __init__(self, model: AdaptiveModel, rounds: Sequence[RoundRecord], embeddings: np.ndarray):
        faces, self.picked = round_arrays(rounds)
        self.rounds, self.choices = len(rounds), len(rounds[0].shown)
        self.anchor_sims = anchor_cosines(model, faces, embeddings)  # (S, A)

    def log_likelihood(self, sims: np.ndarray, betas: np.ndarray, lapse: float) -> np.ndarray:
        """sims (S, H) of the shown faces with H hypotheses -> (len(betas), H)."""
        shaped = np.ascontiguousarray(sims, dtype=np.float32).reshape(self.rounds, self.choices, -1)
        return choice_log_likelihood(shaped, self.picked, betas, lapse)


def completions(
    model: AdaptiveModel, history: History, blends: list[list[int]], beta: float,
    lapse: float, count: int, exclude: np.ndarray,
) -> np.ndarray:
    """The `count` anchors that best complete the given blends (anchor lists): each member of
    each blend is replaced by every anchor in turn, scored by the likelihood of the picks."""
    vectors = model.anchor_vectors
    best = np.full(len(vectors), -np.inf, dtype=np.float32)
    betas = np.array([beta], dtype=np.float32)
    # Blends often share members: each distinct remainder is scored once.
    rests = {tuple(sorted(members[:drop] + members[drop + 1:]))
             for members in blends for drop in range(len(members))}
    for rest_people in sorted(rests):
        rest = list(rest_people)
        rest_sims = history.anchor_sims[:, rest].sum(1)
        rest_vector = vectors[rest].sum(0)
        # |c + r|² = 1 + |r|² + 2 c·r for unit centroids c.
        norm = np.sqrt(np.maximum(1 + rest_vector @ rest_vector + 2 * (vectors @ rest_vector), 1e-12))
        sims = (history.anchor_sims + rest_sims[:, None]) / norm[None, :]
        np.maximum(best, history.log_likelihood(sims, betas, lapse)[0], out=best)
    best[exclude] = -np.inf
    return np.argpartition(-best, count - 1)[:count]


def score_blends(
    model: AdaptiveModel, history: History, candidates: np.ndarray, cfg: AdaptiveConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every blend of 1-3 candidates: (table, class, 1/‖blend‖, (B, H) log joint)."""
    table, kind = blend_table(len(candidates))
    dims = model.anchor_vectors.shape[1]
    vectors = np.vstack([model.anchor_vectors[candidates], np.zeros((1, dims), np.float32)])
    gram = vectors @ vectors.T
    norm2 = sum(gram[table[:, i], table[:, j]] for i in range(3) for j in range(3))
    inv_norm = (1 / np.sqrt(np.maximum(norm2, 1e-12))).astype(np.float32)
    sims = np.hstack([history.anchor_sims[:, candidates], np.zeros((len(history.anchor_sims), 1), np.float32)])
    # np.take keeps the (S, H) result C-ordered (sims[:, idx] would not, and the likelihood
    # would copy it); the scratch row buffer avoids two temporaries.
    blend_sims = np.take(sims, table[:, 0], axis=1)
    term = np.empty_like(blend_sims)
    for slot in (1, 2):
        np.take(sims, table[:, slot], axis=1, out=term)
        blend_sims += term
    blend_sims *= inv_norm
    loglik = history.log_likelihood(blend_sims, np.asarray(cfg.betas, np.float32), cfg.lapse)
    a = len(model.anchors)
    class_size = np.array([a, a * (a - 1) / 2, a * (a - 1) * (a - 2) / 6])
    triple_mass = 1 - cfg.single_prior_mass - cfg.pair_prior_mass
    class_mass = np.array([cfg.single_prior_mass, cfg.pair_prior_mass, triple_mass])
    log_prior = np.log(class_mass / np.maximum(class_size, 1))[kind].astype(np.float32)
    return table, kind, inv_norm, loglik + log_prior[None, :]


def enumerated_posterior(
    model: AdaptiveModel,
    base: Posterior,
    rounds: Sequence[RoundRecord],
    embeddings: np.ndarray,
    cfg: AdaptiveConfig,
) -> Posterior:
    """The posterior over all blends of the candidates (see the module docstring)."""
    history = History(model, rounds, embeddings)
    usage = anchor_usage(base, len(model.anchors))
    first = np.argsort(-usage)[: cfg.enum_candidates]
    if cfg.enum_first_pass:
        # Complete the best blends of a first enumeration, with the decisiveness it points to.
        table, kind, _, joint = score_blends(model, history, first, cfg)
        mass = np.exp(joint - joint.max())
        beta = cfg.betas[int(np.argmax(mass.sum(1)))]
        best = np.argpartition(-joint.max(0), cfg.enum_seeds - 1)[: cfg.enum_seeds]
        size = len(first)
        blends = [[int(first[p]) for p in table[h] if p < size] for h in best]
    else:
        # Complete the fixed posterior's heaviest particles (no first enumeration).
        beta = cfg.betas[int(np.argmax(base.beta_weights))]
        n_anchor = len(base.components)
        seeds = min(cfg.enum_seeds, n_anchor)
        best = np.argpartition(-base.weights[:n_anchor], seeds - 1)[:seeds]
        blends = [sorted({int(c) for c, w in zip(base.components[h], base.coefs[h]) if w > 0})
                  for h in best]
    extra = completions(model, history, blends, beta, cfg.lapse, cfg.enum_completions, first)
    candidates = np.concatenate([first, extra])
    table, kind, inv_norm, joint = score_blends(model, history, candidates, cfg)
    mass = np.exp(joint - joint.max())
    weights = mass.sum(0, dtype=np.float64)
    beta_weights = mass.sum(1, dtype=np.float64)
    keep = support(weights, cfg.support)
    keep = keep[np.argsort(kind[keep] != SINGLE, kind="stable")]  # singles first, as elsewhere
    slots = table[keep]
    used = slots < len(candidates)
    # Unused slots repeat the first person with a zero coefficient (valid anchor positions).
    components = np.where(used, candidates[np.minimum(slots, len(candidates) - 1)],
                          candidates[slots[:, :1]])
    coefs = np.where(used, inv_norm[keep][:, None], 0).astype(np.float32)
    kept = weights[keep]
    return Posterior(components.astype(np.int32), coefs, kind[keep] == SINGLE,
                     kept / kept.sum(), beta_weights / beta_weights.sum())
