"""Quantities linear in the anchors, taken for blends of them: a particle is a blend of 1-3
anchors (adaptive_model.py), so its row of any anchor-linear table is the same blend of the
anchors' rows (a gather of 3 rows instead of a 512-d product)."""

from __future__ import annotations

import numpy as np


def blend_rows(table: np.ndarray, components: np.ndarray, coefs: np.ndarray) -> np.ndarray:
    """(len(components), table columns) float32: row p = Σ_j coefs[p, j]·table[components[p, j]]
    for a table with one row per anchor. Empty slots (coefficient 0: singles and pairs) add
    nothing and are skipped."""
    out = table[components[:, 0]] * coefs[:, :1]
    for j in range(1, components.shape[1]):
        used = np.flatnonzero(coefs[:, j])
        out[used] += table[components[used, j]] * coefs[used, j, None]
    return out
