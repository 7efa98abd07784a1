from __future__ import annotations

import pytest

from idealtype.api.index_cache import IndexCache, IndexUnavailable
from idealtype.blobstore import LocalBlobStore
from idealtype.index_format import IndexNotFound
from idealtype.synthetic import make_synthetic_index


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_latest_is_rechecked_only_after_the_interval(tmp_path):
    store = LocalBlobStore(tmp_path)
    first = make_synthetic_index(store, 30, 2, seed=1)
    clock = FakeClock()
    cache = IndexCache(store, recheck_seconds=300, clock=clock)
    loaded = cache.current()
    assert loaded.version == first
    second = make_synthetic_index(store, 40, 2, seed=2)
    clock.now += 299
    assert cache.current() is loaded
    clock.now += 1
    assert cache.current().version == second
    # The previous version stays available for quizzes pinned to it, without reloading.
    assert cache.version(first) is loaded


def test_a_corrupt_new_version_keeps_the_old_one_serving(tmp_path):
    store = LocalBlobStore(tmp_path)
    first = make_synthetic_index(store, 30, 2, seed=1)
    clock = FakeClock()
    cache = IndexCache(store, recheck_seconds=60, clock=clock)
    cache.current()
    second = make_synthetic_index(store, 30, 2, seed=2)
    store.put(f"index/{second}/centroids.npy", b"tampered")
    clock.now += 60
    assert cache.current().version == first
    assert "sha256" in cache.last_error
    # Once a good version is published, the next check switches to it.
    third = make_synthetic_index(store, 30, 2, seed=3)
    clock.now += 60
    assert cache.current().version == third
    assert cache.last_error is None


def test_old_versions_are_loaded_on_demand_and_evicted(tmp_path):
    store = LocalBlobStore(tmp_path)
    versions = [make_synthetic_index(store, 20, 2, seed=s) for s in range(4)]
    cache = IndexCache(store, keep_previous=2)
    assert cache.current().version == versions[-1]
    for v in versions[:3]:
        assert cache.version(v).version == v
    assert list(cache._previous) == versions[1:3]
    with pytest.raises(IndexNotFound):
        cache.version("no-such-version")


def test_missing_index_raises_not_found(tmp_path):
    with pytest.raises(IndexNotFound):
        IndexCache(LocalBlobStore(tmp_path)).current()


def test_knows_images_of_current_and_kept_versions(tmp_path):
    store = LocalBlobStore(tmp_path)
    first = make_synthetic_index(store, 20, 2, seed=1)
    cache = IndexCache(store, recheck_seconds=0)
    old_face = cache.current().images[0]["image_id"]
    make_synthetic_index(store, 20, 2, seed=2)
    new_face = cache.current().images[0]["image_id"]
    assert old_face != new_face
    assert cache.knows_image(new_face)
    assert cache.knows_image(old_face) and first in cache._previous
    assert not cache.knows_image("ffffffffffffffff")


class FlakyStore(LocalBlobStore):
    """A local store whose reads fail like S3 without permissions or network while `down`."""

    down = False

    def get(self, key: str) -> bytes:
        if self.down:
            raise RuntimeError("AccessDenied")
        return super().get(key)


def test_store_failures_are_index_errors_and_keep_the_loaded_version(tmp_path):
    store = FlakyStore(tmp_path)
    first = make_synthetic_index(store, 20, 2, seed=1)
    store.down = True
    with pytest.raises(IndexUnavailable, match="AccessDenied"):
        IndexCache(store).current()
    store.down = False
    cache = IndexCache(store, recheck_seconds=0)
    assert cache.current().version == first
    make_synthetic_index(store, 20, 2, seed=2)
    store.down = True
    assert cache.current().version == first
    assert "AccessDenied" in cache.last_error
