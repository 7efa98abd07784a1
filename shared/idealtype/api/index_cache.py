"""Per-process index cache: load once, re-check LATEST at most every `recheck_seconds`, keep
serving the old version if the new one fails verification, and keep a few older versions so
quizzes started on them can finish."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from ..blobstore import BlobStore
from ..index_format import GalleryIndex, IndexError_, latest_version, load_index
from ..quiz.pool import Pool, pool_key
from ..quiz.recommend import prepare_search
from ..quiz.strategies.adaptive_model import prepare_index as prepare_adaptive

log = logging.getLogger(__name__)


class IndexUnavailable(IndexError_):
    """The store failed while reading the index (network, permissions, throttling)."""


@contextmanager
def reading(store: BlobStore) -> Iterator[None]:
    """Report store failures while reading an index (network, throttling, S3's AccessDenied
    for a missing key when the function may not list the bucket) as an index problem:
    503 for requests, "keep the loaded version" for reloads — never a 500."""
    try:
        yield
    except IndexError_:
        raise
    except Exception as err:
        raise IndexUnavailable(f"cannot read the index from {store.location}: {err}") from err


def load_from(store: BlobStore, version: str | None = None) -> GalleryIndex:
    with reading(store):
        index = load_index(store, version)
    prepare_search(index)
    prepare_adaptive(index)  # the default strategy's model, built here rather than in a request
    return index


class IndexCache:
    def __init__(
        self,
        store: BlobStore,
        recheck_seconds: float = 300.0,
        keep_previous: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.store = store
        self.recheck_seconds = recheck_seconds
        self.keep_previous = keep_previous
        self.clock = clock
        self.last_error: str | None = None  # why the latest reload failed, for operators
        self._current: GalleryIndex | None = None
        self._checked_at = 0.0
        self._previous: OrderedDict[str, GalleryIndex] = OrderedDict()
        self._pools: dict[tuple[str, tuple[tuple[str, str], ...]], Pool] = {}
        self._load_lock = threading.Lock()

    def current(self) -> GalleryIndex:
        """The current index. The first call loads it (raising IndexNotFound/IndexCorrupt if
        there is none); later calls re-check LATEST when due, in one thread only — the
        others keep serving the loaded version meanwhile."""
        if self._current is None:
            with self._load_lock:
                if self._current is None:
                    self._current = load_from(self.store)
                    self._checked_at = self.clock()
            return self._current
        if self.clock() - self._checked_at >= self.recheck_seconds and self._load_lock.acquire(
            blocking=False
        ):
            try:
                self._checked_at = self.clock()
                self._reload()
            finally:
                self._load_lock.release()
        return self._current

    def _reload(self) -> None:
        assert self._current is not None
        try:
            with reading(self.store):
                version = latest_version(self.store)
            if version == self._current.version:
                return
            fresh = self._previous.pop(version, None) or load_from(self.store, version)
        except IndexError_ as err:
            self.last_error = str(err)
            log.warning("keeping index %s: %s", self._current.version, err)
            return
        self._remember(self._current)
        self._current = fresh
        self.last_error = None
        log.info("switched to index %s", fresh.version)

    def version(self, version: str) -> GalleryIndex:
        """A specific (pinned) version: the current one, a kept older one, or loaded now."""
        current = self.current()
        if version == current.version:
            return current
        if version in self._previous:
            self._previous.move_to_end(version)
            return self._previous[version]
        with self._load_lock:
            if version not in self._previous:
                self._remember(load_from(self.store, version))
        return self._previous[version]

    def knows_image(self, image_id: str) -> bool:
        """Whether the current or a kept older version has this face."""
        return image_id in self.current().image_row or any(
            image_id in index.image_row for index in list(self._previous.values())
        )

    def _remember(self, index: GalleryIndex) -> None:
        self._previous[index.version] = index
        while len(self._previous) > self.keep_previous:
            dropped, _ = self._previous.popitem(last=False)
            for key in [k for k in self._pools if k[0] == dropped]:
                del self._pools[key]

    def pool(self, index: GalleryIndex, tags: Mapping[str, str] | None) -> Pool:
        key = (index.version, pool_key(tags))
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = Pool(index, tags)
        return pool
