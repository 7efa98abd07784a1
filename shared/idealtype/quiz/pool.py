"""A pool: the celebrities of one index that a quiz may show (optionally filtered by tags).

Pools are cached per (index version, filter) by the engine, so per-pool precomputation that a
strategy needs (e.g. cluster membership arrays) is done once per process via `Pool.memo`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np

from ..index_format import GalleryIndex

T = TypeVar("T")


class PoolTooSmall(ValueError):
    """The filter leaves too few people for the requested quiz."""


def pool_key(tags: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((tags or {}).items()))


class Pool:
    def __init__(self, index: GalleryIndex, tags: Mapping[str, str] | None = None):
        self.index = index
        self.tags = dict(tags or {})
        self.key = pool_key(tags)
        mask = np.ones(index.n_celebs, dtype=bool)
        if self.tags:
            for row, celeb in enumerate(index.celebs):
                celeb_tags = celeb.get("tags") or {}
                mask[row] = all(celeb_tags.get(t) == v for t, v in self.tags.items())
        self.mask = mask
        self.mask.setflags(write=False)
        # Sorted celebrity rows in the pool.
        self.celeb_rows = np.flatnonzero(mask)
        self.celeb_rows.setflags(write=False)
        self._memo: dict[str, Any] = {}

    def __len__(self) -> int:
        return len(self.celeb_rows)

    def memo(self, name: str, factory: Callable[[Pool], T]) -> T:
        """Per-pool cached value (e.g. a strategy's precomputed arrays); computed once."""
        if name not in self._memo:
            self._memo[name] = factory(self)
        return self._memo[name]

    def require(self, people: int) -> None:
        if len(self) < people:
            raise PoolTooSmall(
                f"the pool {self.tags or 'all'} has {len(self)} people; this quiz needs {people}"
            )
