"""Recommendations: the celebrities whose centroids are nearest to an ideal vector."""

from __future__ import annotations

import numpy as np

from ..index_format import GalleryIndex


def nearest_celebs(
    index: GalleryIndex, ideal: np.ndarray, k: int, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(celebrity rows, cosines) of the k centroids nearest to unit vector `ideal`, best first.

    `mask` (bool per celebrity) restricts the candidates. Scores every centroid with one
    matrix-vector product (a 100k x 512 float32 product is a few ms) and masks afterwards,
    which is cheaper than copying the masked centroid rows."""
    scores = index.centroids @ np.asarray(ideal, dtype=index.centroids.dtype)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
        k = min(k, int(mask.sum()))
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return top.astype(np.int64), scores[top].astype(np.float32)


def similarity_percent(cosine: float) -> float:
    """What people see: the cosine mapped linearly from [-1, 1] to [0, 100] %, one decimal.
    0% = opposite, 50% = unrelated (orthogonal), 100% = the same direction as the ideal type."""
    return round(50.0 * (1.0 + max(-1.0, min(1.0, float(cosine)))), 1)


def representative_image(index: GalleryIndex, celeb_row: int) -> int:
    """The celebrity's image row closest to its centroid: the most typical photo of them."""
    rows = index.celebs[celeb_row]["rows"]
    if len(rows) == 1:
        return int(rows[0])
    sims = np.asarray(index.embeddings[rows], dtype=np.float32) @ index.centroids[celeb_row]
    return int(rows[int(np.argmax(sims))])
