"""The posterior over particles (see adaptive_model.py) given a quiz history.

User model: P(pick i | w, β) = (1-ε)·softmax_i(β·cos(x_i, w)) + ε/N. β (how decisive the person
is) is unknown and marginalized over a small grid; ε covers picks that have nothing to do with
the faces (a slip, a mood), so one odd pick cannot wipe out the right hypothesis.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .adaptive_config import AdaptiveConfig
from .adaptive_model import AdaptiveModel
from .base import RoundRecord


@dataclass(frozen=True)
class Posterior:
    weights: np.ndarray  # (P,) float64, sums to 1
    beta_weights: np.ndarray  # (len(cfg.betas),) posterior over the decisiveness grid


def particle_cosines(model: AdaptiveModel, faces: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    """(len(faces), P) cosine of each face (image rows) with each particle."""
    x = np.asarray(embeddings[faces], dtype=np.float32)
    anchor_sims = x @ model.anchor_vectors.T  # (F, A)
    return np.einsum("fpj,pj->fp", anchor_sims[:, model.components], model.coefs)


def choice_log_likelihood(
    sims: np.ndarray, picked: np.ndarray, betas: np.ndarray, lapse: float
) -> np.ndarray:
    """(len(betas), P) log-likelihood of the picks. `sims` is (R, N, P): per round the cosines of
    the N shown faces with every particle; `picked[r]` the position picked in round r."""
    total = np.zeros((len(betas), sims.shape[2]), dtype=np.float32)
    n = sims.shape[1]
    for r in range(sims.shape[0]):
        s = sims[r] - sims[r].max(0)  # (N, P), <= 0
        z = np.exp(betas[:, None, None] * s[None])  # (B, N, P) float32
        p_pick = z[:, picked[r]] / z.sum(1)
        total += np.log((1 - lapse) * p_pick + np.float32(lapse / n))
    return total


class LikelihoodCache:
    """Recently computed log-likelihoods by (model, user model, history). A quiz's next request
    usually lands on the same warm process, so round r only adds its own round to round r-1's
    sum; a miss recomputes from the history (the result is identical either way)."""

    def __init__(self, entries: int = 32):
        self.entries = entries
        self._data: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def longest_prefix(self, keys: list[tuple]) -> tuple[int, np.ndarray | None]:
        with self._lock:
            for cut in range(len(keys), 0, -1):
                hit = self._data.get(keys[cut - 1])
                if hit is not None:
                    self._data.move_to_end(keys[cut - 1])
                    return cut, hit
        return 0, None

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def put(self, key: tuple, value: np.ndarray) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)


CACHE = LikelihoodCache()


def history_log_likelihood(
    model: AdaptiveModel,
    rounds: Sequence[RoundRecord],
    embeddings: np.ndarray,
    cfg: AdaptiveConfig,
) -> np.ndarray:
    """(len(cfg.betas), P) log-likelihood of all picked rounds, reusing a cached prefix."""
    base = (model.key, cfg.betas, cfg.lapse)
    keys, prefix = [], base
    for r in rounds:
        prefix = prefix + ((r.shown, r.picked),)
        keys.append(prefix)
    start, cached = CACHE.longest_prefix(keys)
    total = np.zeros((len(cfg.betas), len(model.log_prior)), np.float32) if cached is None else cached
    todo = rounds[start:]
    if todo:
        n = len(todo[0].shown)
        faces = np.array([row for r in todo for row in r.shown])
        sims = particle_cosines(model, faces, embeddings).reshape(len(todo), n, -1)
        picked = np.array([r.shown.index(r.picked) for r in todo])
        betas = np.asarray(cfg.betas, dtype=np.float32)
        total = total + choice_log_likelihood(sims, picked, betas, cfg.lapse)
        CACHE.put(keys[-1], total)
    return total


def posterior(
    model: AdaptiveModel,
    history: Sequence[RoundRecord],
    embeddings: np.ndarray,
    cfg: AdaptiveConfig,
) -> Posterior:
    rounds = [r for r in history if r.picked is not None]
    if not rounds:
        w = np.exp(model.log_prior.astype(np.float64))
        return Posterior(w / w.sum(), np.full(len(cfg.betas), 1 / len(cfg.betas)))
    loglik = history_log_likelihood(model, rounds, embeddings, cfg)
    joint = loglik + model.log_prior[None, :]
    top = joint.max()
    mass = np.exp(joint - top)
    weights = mass.sum(0, dtype=np.float64)
    beta_weights = mass.sum(1, dtype=np.float64)
    return Posterior(weights / weights.sum(), beta_weights / beta_weights.sum())
