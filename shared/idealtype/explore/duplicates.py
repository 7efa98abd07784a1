"""Near-identical embeddings: the same picture (or a resized/re-encoded copy) stored twice.
Across celebrities it means at least one label is wrong; within one it over-weights a photo."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLOCK_ROWS = 1024  # rows per block of the photo × photo similarity matrix


@dataclass
class DuplicatePairs:
    rows: np.ndarray  # (n_pairs, 2) row pairs i < j, most similar first
    similarity: np.ndarray  # (n_pairs,)
    truncated: bool  # more pairs passed the threshold than max_pairs


def near_duplicate_pairs(
    embeddings: np.ndarray, threshold: float, max_pairs: int = 20000
) -> DuplicatePairs:
    """All pairs with cosine ≥ threshold, computed block by block over the upper triangle so a
    10k-photo gallery never materialises the full 10k × 10k matrix."""
    x = np.asarray(embeddings, dtype=np.float32)
    found_i, found_j, found_s = [], [], []
    for start in range(0, len(x), BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, len(x))
        sims = x[start:stop] @ x[start:].T
        # keep only j > i: zero out the block's lower triangle and diagonal
        sims[np.tril_indices(stop - start, 0, sims.shape[1])] = -np.inf
        i, j = np.nonzero(sims >= threshold)
        found_i.append(i + start)
        found_j.append(j + start)
        found_s.append(sims[i, j])
    rows = np.stack([np.concatenate(found_i), np.concatenate(found_j)], axis=1).astype(np.int64)
    sim = np.concatenate(found_s).astype(np.float32)
    order = np.lexsort((rows[:, 1], rows[:, 0], -sim))
    return DuplicatePairs(rows[order][:max_pairs], sim[order][:max_pairs], len(sim) > max_pairs)
