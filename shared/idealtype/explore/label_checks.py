"""Does each photo look like the rest of its celebrity's photos? Leave-one-out centroids, the
nearest other celebrity, per-celebrity spread, and the likely mislabeled photos.

All inputs are L2-normalized rows; `celeb_of_row[i]` is the celebrity row of photo i.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLOCK_ROWS = 2048  # photos per matrix block: bounds memory at BLOCK_ROWS × n_celebs floats


@dataclass
class LabelFit:
    counts: np.ndarray  # (n_celebs,) photos per celebrity
    centroids: np.ndarray  # (n_celebs, dims) normalized means (all photos)
    own_similarity: np.ndarray  # (n_rows,) cos to own leave-one-out centroid; nan if alone
    other_celeb: np.ndarray  # (n_rows,) nearest other celebrity's row
    other_similarity: np.ndarray  # (n_rows,) cos to that celebrity's centroid


def celeb_sums(embeddings: np.ndarray, celeb_of_row: np.ndarray, n_celebs: int) -> np.ndarray:
    sums = np.zeros((n_celebs, embeddings.shape[1]), dtype=np.float64)
    np.add.at(sums, celeb_of_row, embeddings)
    return sums


def fit_labels(embeddings: np.ndarray, celeb_of_row: np.ndarray, n_celebs: int) -> LabelFit:
    """Why leave-one-out: a wrong photo pulls its own celebrity's centroid towards itself (a lot
    when the celebrity has 2-3 photos), which would hide exactly the photos we look for."""
    x = np.asarray(embeddings, dtype=np.float32)
    counts = np.bincount(celeb_of_row, minlength=n_celebs)
    sums = celeb_sums(x, celeb_of_row, n_celebs)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    centroids = (sums / np.maximum(norms, 1e-12)).astype(np.float32)

    own_sums = sums[celeb_of_row]
    dot = np.einsum("ij,ij->i", x.astype(np.float64), own_sums)
    self_sq = np.einsum("ij,ij->i", x, x).astype(np.float64)
    # |s - x|² = |s|² - 2 x·s + |x|²  and  x·(s - x) = x·s - |x|²
    loo_norm = np.sqrt(np.maximum((norms[celeb_of_row, 0] ** 2) - 2 * dot + self_sq, 0))
    alone = counts[celeb_of_row] < 2
    own = np.where(alone, np.nan, (dot - self_sq) / np.maximum(loo_norm, 1e-12))

    other_celeb = np.zeros(len(x), dtype=np.int64)
    other_sim = np.full(len(x), np.nan, dtype=np.float32)
    if n_celebs > 1:
        for start in range(0, len(x), BLOCK_ROWS):
            stop = min(start + BLOCK_ROWS, len(x))
            sims = x[start:stop] @ centroids.T
            sims[np.arange(stop - start), celeb_of_row[start:stop]] = -np.inf
            best = sims.argmax(axis=1)
            other_celeb[start:stop] = best
            other_sim[start:stop] = sims[np.arange(stop - start), best]
    return LabelFit(counts, centroids, own.astype(np.float32), other_celeb, other_sim)


@dataclass
class CelebSpread:
    celeb: int
    n_faces: int
    spread: float  # mean pairwise cosine distance between the celebrity's photos
    outlier_rows: list[int]  # photos least like the others, worst first


def celeb_spread(
    embeddings: np.ndarray, celeb_of_row: np.ndarray, fit: LabelFit, outliers: int = 6
) -> list[CelebSpread]:
    """Spread of every celebrity with ≥ 2 photos, widest first. The mean pairwise cosine comes
    from the sum vector (|s|² = n + Σ_{i≠j} xᵢ·xⱼ), so it costs O(n) per celebrity."""
    sums = celeb_sums(np.asarray(embeddings, dtype=np.float32), celeb_of_row, len(fit.counts))
    sq = np.einsum("ij,ij->i", sums, sums)
    rows_of = np.argsort(celeb_of_row, kind="stable")
    starts = np.concatenate([[0], np.cumsum(fit.counts)])
    result = []
    for celeb in np.flatnonzero(fit.counts >= 2):
        n = int(fit.counts[celeb])
        mean_pair = (sq[celeb] - n) / (n * (n - 1))
        rows = rows_of[starts[celeb] : starts[celeb + 1]]
        worst = rows[np.argsort(fit.own_similarity[rows], kind="stable")[:outliers]]
        result.append(CelebSpread(int(celeb), n, float(1 - mean_pair), [int(r) for r in worst]))
    result.sort(key=lambda s: (-s.spread, s.celeb))
    return result


def photo_suspects(
    fit: LabelFit, own_max: float, other_min: float, margin: float
) -> tuple[np.ndarray, np.ndarray]:
    """Rows unlike their own celebrity (leave-one-out cos < own_max), split in two:
    - likely mislabeled: they also match another celebrity (cos ≥ other_min, and at least
      `margin` above their own), largest gap first;
    - unlike their own: no other celebrity claims them either (a wrong face picked in a group
      photo, a bad crop, someone not in the gallery, or just an unusual photo), lowest first.
    Why other_min: the best of thousands of unrelated centroids is itself ~0.55 for a typical
    photo, so "closer to someone else" means little unless that someone is a real match.
    Photos of single-photo celebrities are never flagged: there is nothing to compare them with."""
    own = fit.own_similarity
    gap = fit.other_similarity - own
    with np.errstate(invalid="ignore"):
        unlike = own < own_max
        claimed = unlike & (fit.other_similarity >= other_min) & (gap >= margin)
    mislabeled = np.flatnonzero(claimed)
    unclaimed = np.flatnonzero(unlike & ~claimed)
    return (
        mislabeled[np.argsort(-gap[mislabeled], kind="stable")],
        unclaimed[np.argsort(own[unclaimed], kind="stable")],
    )
