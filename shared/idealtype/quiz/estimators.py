"""Ideal-vector estimators: turn the picked faces into one vector in embedding space."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from ..index_format import GalleryIndex


class Estimator(ABC):
    name: str

    @abstractmethod
    def ideal_vector(self, index: GalleryIndex, picked: Sequence[int]) -> np.ndarray:
        """A unit vector (dims,) from the picked image rows (in pick order)."""


class MeanOfPicks(Estimator):
    """The original method: the mean of the picked embeddings (normalized; normalizing does not
    change the nearest-centroid order, it only makes the score a cosine)."""

    name = "mean"

    def ideal_vector(self, index: GalleryIndex, picked: Sequence[int]) -> np.ndarray:
        if not picked:
            # Every round answered "none of these": nothing to go on but the average face.
            mean = np.asarray(index.centroids, dtype=np.float32).mean(0)
        else:
            mean = np.asarray(index.embeddings[list(picked)], dtype=np.float32).mean(0)
        return mean / max(float(np.linalg.norm(mean)), 1e-12)
