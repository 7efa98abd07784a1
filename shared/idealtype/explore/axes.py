"""Directions to look along: raw embedding dimensions and principal components, each with the
faces at its two ends (the original authors' "6 lowest / 6 highest faces per feature")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class AxisExtremes:
    low_rows: list[int]  # rows with the lowest values, lowest first
    high_rows: list[int]  # rows with the highest values, highest first


def distinct_celeb_ends(
    order: np.ndarray, celeb_of_row: np.ndarray, per_side: int
) -> list[int]:
    """The first `per_side` rows of `order` that belong to distinct celebrities.

    Why distinct: a famous person with 500 photos would otherwise fill both ends of many axes,
    and six photos of one person say little about what the axis encodes."""
    chosen: list[int] = []
    seen: set[int] = set()
    for row in order:
        celeb = int(celeb_of_row[row])
        if celeb in seen:
            continue
        seen.add(celeb)
        chosen.append(int(row))
        if len(chosen) == per_side:
            break
    return chosen


def axis_extremes(
    values: np.ndarray, celeb_of_row: np.ndarray, per_side: int = 6
) -> list[AxisExtremes]:
    """For each column of `values` (n_rows, n_axes): the lowest and highest rows."""
    order = np.argsort(values, axis=0, kind="stable")
    return [
        AxisExtremes(
            low_rows=distinct_celeb_ends(order[:, axis], celeb_of_row, per_side),
            high_rows=distinct_celeb_ends(order[::-1, axis], celeb_of_row, per_side),
        )
        for axis in range(values.shape[1])
    ]


@dataclass
class Principal:
    components: np.ndarray  # (k, dims) unit vectors, strongest first
    explained_ratio: np.ndarray  # (k,) share of total variance
    projections: np.ndarray  # (n_rows, k) centred embeddings projected on each component


def principal_components(embeddings: np.ndarray, k: int) -> Principal:
    """PCA by eigen-decomposition of the (dims × dims) covariance: cheap for 512 dims however
    many photos there are. Signs are fixed (largest loading positive) so reruns agree."""
    x = np.asarray(embeddings, dtype=np.float64)
    centred = x - x.mean(axis=0)
    cov = centred.T @ centred / max(len(x) - 1, 1)
    eigvals, eigvecs = np.linalg.eigh(cov)
    top = np.argsort(eigvals)[::-1][: min(k, x.shape[1])]
    components = eigvecs[:, top].T
    signs = np.sign(components[np.arange(len(top)), np.abs(components).argmax(axis=1)])
    components *= np.where(signs == 0, 1.0, signs)[:, None]
    total = float(eigvals.clip(min=0).sum()) or 1.0
    return Principal(
        components=components.astype(np.float32),
        explained_ratio=(eigvals[top].clip(min=0) / total).astype(np.float32),
        projections=(centred @ components.T).astype(np.float32),
    )
