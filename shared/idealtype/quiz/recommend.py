"""Recommendations: the celebrities whose centroids are nearest to an ideal vector."""

from __future__ import annotations

import numpy as np

from ..index_format import GalleryIndex
from .centroid_search import projected_top_k, projection_for

# Up to this many celebrities a full scan is ~1-2 ms (the whole float32 matrix fits in a few
# tens of MB); larger galleries go through the projection search when their geometry allows.
EXACT_SCAN_MAX = 20_000


def nearest_celebs(
    index: GalleryIndex,
    ideal: np.ndarray,
    k: int,
    mask: np.ndarray | None = None,
    *,
    exact_scan_max: int = EXACT_SCAN_MAX,
) -> tuple[np.ndarray, np.ndarray]:
    """(celebrity rows, cosines) of the k centroids nearest to unit vector `ideal`, best first.

    `mask` (bool per celebrity) restricts the candidates. Always the exact top k: galleries
    above `exact_scan_max` celebrities use the low-rank projection search (centroid_search),
    which proves its answer exact and reads a fraction of the centroids; otherwise, or when
    the gallery's geometry gives it no edge, one full matrix-vector product (masked
    afterwards, cheaper than copying the masked rows)."""
    ideal = np.asarray(ideal, dtype=index.centroids.dtype)
    allowed = index.n_celebs if mask is None else int(np.count_nonzero(mask))
    k = min(k, allowed)
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    if index.n_celebs > exact_scan_max:
        projection = projection_for(index)
        if projection is not None:
            found = projected_top_k(index.centroids, projection, ideal, k, mask)
            if found is not None:
                return found
    scores = index.centroids @ ideal
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return top.astype(np.int64), scores[top].astype(np.float32)


def prepare_search(index: GalleryIndex) -> None:
    """Build the per-index search structures now (when the index is loaded, e.g. in a Lambda's
    init phase) rather than in the first result request: ~0.5 s at 100k celebrities."""
    if index.n_celebs > EXACT_SCAN_MAX:
        projection_for(index)


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
