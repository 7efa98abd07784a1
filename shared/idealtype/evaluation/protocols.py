"""The two ground truths a quiz is scored against (DESIGN.md):

- `target`: the ideal is one celebrity's centroid; success = that celebrity is recommended.
- `type`: the ideal is a normalized blend of a few celebrities (a taste, not a person); the
  liked set is the top 1% of the pool by cosine to the ideal; score = precision@k.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..index_format import normalize_rows


@dataclass
class Population:
    """Hidden ideals of `len(ideals)` simulated users, in the pool's celebrity rows."""

    protocol: str
    ideals: np.ndarray  # (users, dims) unit vectors
    targets: np.ndarray | None = None  # target: the celebrity row each user is looking for
    liked: list[np.ndarray] | None = None  # type: sorted liked celebrity rows per user
    components: np.ndarray | None = None  # type: the blended celebrity rows per user


def liked_count(pool_size: int, share: float = 0.01) -> int:
    return max(1, math.ceil(share * pool_size))


def target_population(
    centroids: np.ndarray, pool_rows: np.ndarray, users: int, seed: int
) -> Population:
    rng = np.random.default_rng([seed, 1])
    targets = rng.choice(pool_rows, size=users, replace=users > len(pool_rows))
    return Population("target", np.asarray(centroids[targets], dtype=np.float32), targets=targets)


def type_population(
    centroids: np.ndarray,
    pool_rows: np.ndarray,
    users: int,
    seed: int,
    people: int = 3,
    weights: str = "equal",
) -> Population:
    """Each ideal is the normalized blend of `people` distinct random celebrities, with equal
    weights or Dirichlet(1) weights (`weights="dirichlet"`: one person often dominates)."""
    rng = np.random.default_rng([seed, 2])
    components = np.stack([rng.choice(pool_rows, size=people, replace=False) for _ in range(users)])
    if weights == "equal":
        mix = np.ones((users, people), dtype=np.float32)
    elif weights == "dirichlet":
        mix = np.random.default_rng([seed, 5]).dirichlet(np.ones(people), size=users)
    else:
        raise ValueError(f"unknown blend weights {weights!r} (equal, dirichlet)")
    blend = np.einsum("up,upd->ud", mix, np.asarray(centroids, dtype=np.float32)[components])
    ideals = normalize_rows(blend)
    pool_centroids = np.asarray(centroids[pool_rows], dtype=np.float32)
    top = liked_count(len(pool_rows))
    liked = []
    for ideal in ideals:
        sims = pool_centroids @ ideal
        liked.append(np.sort(pool_rows[np.argpartition(-sims, top - 1)[:top]]))
    return Population("type", ideals, liked=liked, components=components)


def make_population(
    protocol: str, centroids: np.ndarray, pool_rows: np.ndarray, users: int, seed: int
) -> Population:
    if protocol == "target":
        return target_population(centroids, pool_rows, users, seed)
    if protocol == "type":
        return type_population(centroids, pool_rows, users, seed)
    if protocol == "type-dirichlet":
        return type_population(centroids, pool_rows, users, seed, weights="dirichlet")
    raise ValueError(f"unknown protocol {protocol!r} (target, type, type-dirichlet)")
