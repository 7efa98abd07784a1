"""Small seeded k-means (numpy only) used to cluster celebrity centroids for cluster sampling."""

from __future__ import annotations

import numpy as np


def kmeans(points: np.ndarray, k: int, *, seed: int = 0, iterations: int = 50) -> np.ndarray:
    """Cluster rows of `points` into `k` groups with k-means++ seeding; returns int32 labels.

    Deterministic for a given seed, so rebuilding an index yields the same clusters.
    """
    n = len(points)
    if n == 0:
        return np.zeros(0, dtype=np.int32)
    k = max(1, min(k, n))
    x = np.asarray(points, dtype=np.float32)
    rng = np.random.default_rng(seed)
    centers = np.empty((k, x.shape[1]), dtype=np.float32)
    centers[0] = x[rng.integers(n)]
    closest = ((x - centers[0]) ** 2).sum(1)
    for j in range(1, k):
        total = closest.sum()
        idx = rng.choice(n, p=closest / total) if total > 0 else rng.integers(n)
        centers[j] = x[idx]
        closest = np.minimum(closest, ((x - centers[j]) ** 2).sum(1))
    sq_norms = (x * x).sum(1)
    labels = np.full(n, -1, dtype=np.int32)
    for _ in range(iterations):
        dist = sq_norms[:, None] - 2 * x @ centers.T + (centers * centers).sum(1)[None, :]
        new_labels = dist.argmin(1).astype(np.int32)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        for j in range(k):
            members = x[labels == j]
            # An empty cluster keeps its old center rather than collapsing to NaN.
            if len(members):
                centers[j] = members.mean(0)
    return labels
