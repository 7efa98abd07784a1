"""The pool's centroids stored grouped by k-means cluster, for an inverted-file scan.

Ranking needs the people closest to a direction among the whole pool. A full scan of 100k
centroids (200 MB of float32) costs ~15 ms on its own, the whole budget of a request. Stored
cluster by cluster (clusters.npy of the index), the scan can read only the clusters whose
center is closest to the direction — a few contiguous slices — and find nearly the same people
(an IVF index without any new build step). Small pools are scanned entirely.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from ...index_format import normalize_rows
from ..pool import Pool


@dataclass(frozen=True)
class CentroidTable:
    vectors: np.ndarray  # (G, d) float32, grouped by cluster
    position: np.ndarray  # (G,) pool position of each stored row
    slot: np.ndarray  # (G,) stored row of each pool position
    bounds: np.ndarray  # (K + 1,) start of each cluster's rows, then G
    centers: np.ndarray  # (K, d) normalized mean of each cluster
    sample: np.ndarray  # (≤ sample_size, d) random centroids, for pool-wide statistics
    # The anchors' subspace (posterior.anchor_products), when they span one: its (d, k) basis
    # and the stored rows in its coordinates, (G, k).
    basis: np.ndarray | None = None
    projected: np.ndarray | None = None

    def rows(self, positions: np.ndarray) -> np.ndarray:
        """Centroids of the given pool positions."""
        return self.vectors[self.slot[positions]]

    def products(self, positions: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """(len(positions), len(vectors)) products of the given pool positions' centroids with
        `vectors`, which must be blends of anchors (they lie in the anchors' subspace, up to
        ~1e-2 of their norm): taken in that subspace when there is one, off by
        |c_res|·|v_res| (~1e-5, on lfw-mix at most ~2e-4) for about a fifth of the arithmetic
        and of the centroids read."""
        if self.projected is None:
            return self.rows(positions) @ vectors.T
        return self.projected[self.slot[positions]] @ (vectors @ self.basis).T

    def nearest(self, direction: np.ndarray, count: int, scan_rows: int) -> np.ndarray:
        """Pool positions of (about) the `count` centroids closest to `direction`, reading the
        nearest clusters until at least `scan_rows` rows (everything for small pools). A blend
        of anchors (the posterior mean) is scanned in their subspace (`products`): a scan of
        16k rows read 33 MB of 512-d centroids, ~3 ms, and reads 6 MB there."""
        g = len(self.vectors)
        if g <= 2 * scan_rows:
            parts = [(0, g)]
        else:
            parts, total = [], 0
            for c in np.argsort(-(self.centers @ direction)):
                start, stop = int(self.bounds[c]), int(self.bounds[c + 1])
                parts.append((start, stop))
                total += stop - start
                if total >= scan_rows:
                    break
        slots = np.concatenate([np.arange(a, b) for a, b in parts])
        rows, along = ((self.vectors, direction) if self.projected is None
                       else (self.projected, direction @ self.basis))
        scores = np.concatenate([rows[a:b] @ along for a, b in parts])
        count = min(count, len(scores) - 1)
        best = np.argpartition(-scores, count)[:count]
        return self.position[slots[best]]


def centroid_table(pool: Pool, sample_size: int, seed: int,
                   basis: np.ndarray | None = None) -> CentroidTable:
    """The pool's table; with the anchors' subspace `basis` (d, k), also its rows there."""
    index = pool.index
    rows = pool.celeb_rows
    labels = np.asarray(index.clusters[rows])
    order = np.argsort(labels, kind="stable")
    # np.take: a third faster than fancy indexing for this 200 MB copy at 100k people.
    vectors = np.take(index.centroids, rows[order], axis=0).astype(np.float32, copy=False)
    sorted_labels = labels[order]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    bounds = np.r_[starts, len(order)]
    # One contiguous sum per cluster (np.add.reduceat along axis 0 took 0.6 s at 100k).
    sums = np.stack([vectors[a:b].sum(0) for a, b in pairwise(bounds)]) if len(starts) \
        else vectors[:0]
    slot = np.empty(len(order), dtype=np.int64)
    slot[order] = np.arange(len(order))
    if len(vectors) > sample_size:
        picked = np.random.default_rng(seed).choice(len(vectors), sample_size, replace=False)
        sample = vectors[np.sort(picked)]
    else:
        sample = vectors
    projected = None if basis is None else vectors @ basis
    return CentroidTable(vectors, order, slot, bounds, normalize_rows(sums), sample, basis,
                         projected)
