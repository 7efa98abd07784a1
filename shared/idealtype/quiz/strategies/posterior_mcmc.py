"""Resample-move: sharpen the blend posterior by Metropolis-Hastings moves on its people.

The prior's blends are a fixed random sample; after ten picks none of them may be close to the
person's taste even though the right people are known to be among those the picks point at. So
particles are resampled by weight and moved: one of a particle's people is swapped for a person
drawn from q, the people who look more like the picked faces than like the faces passed over,
and the swap is accepted with the Metropolis-Hastings ratio (likelihood ratio × q ratio; the
prior over people is uniform), which leaves the posterior invariant. Orders (1, 2 or 3 people)
stay as resampled. Seeded by the history, so a replayed quiz gets the same result.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .adaptive_config import AdaptiveConfig
from .adaptive_model import AdaptiveModel, mixing_weights
from .base import RoundRecord
from .posterior import Posterior, anchor_cosines, blend_cosines, choice_log_likelihood, round_arrays


def marginal_log_likelihood(
    anchor_sims: np.ndarray, comps: np.ndarray, coefs: np.ndarray, picked: np.ndarray,
    n: int, cfg: AdaptiveConfig,
) -> np.ndarray:
    """(M,) log-likelihood of the picks, marginalized over the β grid (uniform prior)."""
    sims = blend_cosines(anchor_sims, comps, coefs).reshape(len(picked), n, -1)
    ll = choice_log_likelihood(sims, picked, np.asarray(cfg.betas, np.float32), cfg.lapse)
    top = ll.max(0)
    return top + np.log(np.exp(ll - top).mean(0))


def norm_coefs(model: AdaptiveModel, comps: np.ndarray, weights: np.ndarray) -> np.ndarray:
    vectors = np.einsum("pj,pjd->pd", weights, model.anchor_vectors[comps])
    return (weights / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def resample_move(
    model: AdaptiveModel,
    post: Posterior,
    rounds: Sequence[RoundRecord],
    embeddings: np.ndarray,
    cfg: AdaptiveConfig,
) -> Posterior:
    faces, picked = round_arrays(rounds)
    n = len(rounds[0].shown)
    rng = np.random.default_rng([7, len(faces), *faces.tolist(), *picked.tolist()])
    anchor_sims = anchor_cosines(model, faces, embeddings)  # (H, A)
    # q: people who resemble the picked faces more than the other faces of their rounds.
    per_round = anchor_sims.reshape(len(rounds), n, -1)
    lift = (per_round[np.arange(len(rounds)), picked] - per_round.mean(1)).sum(0)
    logits = cfg.move_sharpness * (lift - lift.max())
    q = 0.8 * np.exp(logits) / np.exp(logits).sum() + 0.2 / len(lift)
    log_q = np.log(q)
    n_anchor = len(post.components)
    anchor_w = post.weights[:n_anchor]
    free_mass = post.weights[n_anchor:]
    m = cfg.move_particles
    idx = rng.choice(n_anchor, size=m, p=anchor_w / anchor_w.sum())
    comps = post.components[idx].copy()
    coefs = post.coefs[idx].copy()
    order = (coefs > 0).sum(1)  # 1, 2 or 3 people
    weights = coefs / coefs.sum(1, keepdims=True)  # mixing weights up to scale
    ll = marginal_log_likelihood(anchor_sims, comps, coefs, picked, n, cfg)
    for _ in range(cfg.move_steps):
        slot = (rng.random(m) * order).astype(int)
        new = rng.choice(len(q), size=m, p=q)
        prop_comps = comps.copy()
        prop_comps[np.arange(m), slot] = new
        # A third of the moves also redraw the mixing weights from their prior.
        redraw = rng.random(m) < 0.3
        prop_weights = weights.copy()
        prop_weights[redraw] = mixing_weights(order[redraw], cfg.blend_alpha, rng)
        # Unused slots point at slot 0's person (weight 0) so norms and gathers stay valid.
        prop_comps[order == 1, 1:] = prop_comps[order == 1, :1]
        prop_comps[order == 2, 2] = prop_comps[order == 2, 0]
        prop_coefs = norm_coefs(model, prop_comps, prop_weights)
        prop_ll = marginal_log_likelihood(anchor_sims, prop_comps, prop_coefs, picked, n, cfg)
        old = comps[np.arange(m), slot]
        log_accept = prop_ll - ll + log_q[old] - log_q[new]
        accept = np.log(rng.random(m)) < log_accept
        comps[accept], coefs[accept], ll[accept] = prop_comps[accept], prop_coefs[accept], prop_ll[accept]
        weights = np.where(accept[:, None], prop_weights, weights)
    share = (1.0 - free_mass.sum()) / m
    return Posterior(comps, coefs, order == 1, np.r_[np.full(m, share), free_mass],
                     post.beta_weights, post.free)
