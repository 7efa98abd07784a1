"""Simulated quiz takers: a hidden ideal vector w and a Luce/softmax choice model
P(pick i) ∝ exp(β·cos(x_i, w)) over the shown faces (β = inf: always the most similar face).

Robustness variants model people the strategies were not designed for: a share of picks made
at random (`lapse`), and choices made on a noisy copy of the embeddings (`perception_noise`:
the person sees faces differently from FaceNet).

"None of these": a person may have a bar, the cosine of the person at the top `bar_share` of
the pool by cos(·, w) ("one in ten would do"). Offered "none of these" (`offered_none`), they
choose by Luce with an outside option whose utility is the bar: P(none) ∝ exp(β·bar); β = ∞
answers none exactly when no face reaches the bar. Made to pick anyway (`barNN`), what they
pick among faces that are all below their bar says nothing about them: a random face."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..index_format import normalize_rows
from ..quiz.strategies import NONE_OF_THESE


@dataclass(frozen=True)
class UserModel:
    name: str
    beta: float  # softmax inverse temperature over cosines; math.inf = perfect chooser
    lapse: float = 0.0  # probability that a pick ignores the faces and is uniform at random
    perception_noise: float = 0.0  # norm of the noise added to each face the person sees
    bar_share: float = 0.0  # the person's bar: the top share of the pool (0 = no bar)
    offered_none: bool = False  # the quiz offers "none of these" (only with a bar)

    @property
    def label(self) -> str:
        beta = "∞" if math.isinf(self.beta) else f"{self.beta:g}"
        return f"{self.name} β={beta}"


def luce(beta: float) -> UserModel:
    return UserModel("luce", beta)


def lapsing(beta: float, lapse: float = 0.2) -> UserModel:
    return UserModel(f"lapse{round(lapse * 100)}", beta, lapse=lapse)


def noisy_perception(beta: float, noise: float = 0.5) -> UserModel:
    return UserModel(f"noisy{noise:g}", beta, perception_noise=noise)


def offered_none(beta: float, bar_share: float = 0.1) -> UserModel:
    return UserModel(f"none{round(bar_share * 100)}", beta, bar_share=bar_share, offered_none=True)


def forced_below_bar(beta: float, bar_share: float = 0.1) -> UserModel:
    return UserModel(f"bar{round(bar_share * 100)}", beta, bar_share=bar_share)


def perceived_embeddings(embeddings: np.ndarray, noise: float, seed: int) -> np.ndarray:
    """The faces as a simulated person sees them: each embedding plus isotropic noise of norm
    about `noise`, renormalized (noise 0.5 leaves cosine ~0.9 with the original)."""
    emb = np.asarray(embeddings, dtype=np.float32)
    if noise <= 0:
        return emb
    rng = np.random.default_rng([seed, 7919])
    jitter = rng.standard_normal(emb.shape).astype(np.float32) * (noise / emb.shape[1] ** 0.5)
    return normalize_rows(emb + jitter)


class Chooser:
    """Makes the picks of a population of simulated users under one user model."""

    def __init__(self, model: UserModel, embeddings: np.ndarray, seed: int,
                 pool_centroids: np.ndarray | None = None):
        if model.bar_share and pool_centroids is None:
            raise ValueError(f"{model.name} needs the pool's centroids (each person's bar)")
        self.model = model
        self.seen = perceived_embeddings(embeddings, model.perception_noise, seed)
        self.pool_centroids = pool_centroids
        self._bar: tuple[bytes, float] | None = None  # (ideal, its bar): asked every round

    def bar(self, ideal: np.ndarray) -> float:
        """The cosine with `ideal` of the person at the top `bar_share` of the pool."""
        key = ideal.tobytes()
        if self._bar is None or self._bar[0] != key:
            sims = np.asarray(self.pool_centroids, dtype=np.float32) @ ideal
            k = max(1, math.ceil(self.model.bar_share * len(sims)))
            self._bar = (key, float(-np.partition(-sims, k - 1)[k - 1]))
        return self._bar[1]

    def choose(self, shown: list[int], ideal: np.ndarray, rng: np.random.Generator) -> int:
        """The image row this person picks among `shown`, or NONE_OF_THESE (when offered)."""
        model = self.model
        if model.lapse > 0 and rng.random() < model.lapse:
            return int(shown[int(rng.integers(len(shown)))])
        sims = self.seen[list(shown)] @ ideal
        if model.bar_share:
            bar = self.bar(ideal)
            if model.offered_none:
                sims = np.r_[sims, bar]  # the outside option, last
            elif sims.max() < bar:
                return int(shown[int(rng.integers(len(shown)))])
        if math.isinf(model.beta):
            k = int(np.argmax(sims))
        else:
            logits = model.beta * (sims - sims.max())
            p = np.exp(logits)
            k = int(rng.choice(len(sims), p=p / p.sum()))
        return NONE_OF_THESE if k == len(shown) else int(shown[k])
