"""Simulated quiz takers: a hidden ideal vector w and a Luce/softmax choice model
P(pick i) ∝ exp(β·cos(x_i, w)) over the shown faces (β = inf: always the most similar face).

Robustness variants model people the strategies were not designed for: a share of picks made
at random (`lapse`), and choices made on a noisy copy of the embeddings (`perception_noise`:
the person sees faces differently from FaceNet)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..index_format import normalize_rows


@dataclass(frozen=True)
class UserModel:
    name: str
    beta: float  # softmax inverse temperature over cosines; math.inf = perfect chooser
    lapse: float = 0.0  # probability that a pick ignores the faces and is uniform at random
    perception_noise: float = 0.0  # norm of the noise added to each face the person sees

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

    def __init__(self, model: UserModel, embeddings: np.ndarray, seed: int):
        self.model = model
        self.seen = perceived_embeddings(embeddings, model.perception_noise, seed)

    def choose(self, shown: list[int], ideal: np.ndarray, rng: np.random.Generator) -> int:
        """The image row this person picks among `shown`."""
        if self.model.lapse > 0 and rng.random() < self.model.lapse:
            return int(shown[int(rng.integers(len(shown)))])
        sims = self.seen[list(shown)] @ ideal
        if math.isinf(self.model.beta):
            return int(shown[int(np.argmax(sims))])
        logits = self.model.beta * (sims - sims.max())
        p = np.exp(logits)
        return int(shown[int(rng.choice(len(shown), p=p / p.sum()))])
