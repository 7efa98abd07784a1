"""The projection search must return exactly what a full scan returns, on any geometry."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from idealtype.blobstore import LocalBlobStore
from idealtype.index_format import GalleryIndex, load_index, normalize_rows, publish_index
from idealtype.quiz import centroid_search
from idealtype.quiz.centroid_search import (
    CentroidProjection,
    build_projection,
    projected_top_k,
    projection_for,
)
from idealtype.quiz.estimators import MeanOfPicks
from idealtype.quiz.pool import Pool
from idealtype.quiz.recommend import nearest_celebs


def low_rank_embeddings(n_people: int, rank: int, seed: int) -> np.ndarray:
    """Unit vectors in a `rank`-dimensional subspace of R^512 plus a little full-rank noise
    (like FaceNet embeddings, whose energy sits in ~100 of the 512 directions)."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((512, rank)))[0]
    x = rng.standard_normal((n_people, rank)) @ basis.T
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return normalize_rows(x + rng.standard_normal(x.shape) * 2e-4)


@pytest.fixture(scope="module")
def low_rank_index(tmp_path_factory) -> GalleryIndex:
    embeddings = low_rank_embeddings(3000, 40, seed=5)
    images = [{"image_id": f"{i:08x}", "celeb_id": f"p{i:05d}",
               "crop": f"faces/{i:08x}.jpg"} for i in range(len(embeddings))]
    info = {f"p{i:05d}": {"tags": {"half": "a" if i % 2 else "b"}} for i in range(len(images))}
    store = LocalBlobStore(tmp_path_factory.mktemp("low-rank"))
    publish_index(store, embeddings, images, model_id="test", weights_sha256="0" * 64,
                  celeb_info=info)
    return load_index(store)


def full_scan(index: GalleryIndex, ideal: np.ndarray, k: int, mask=None) -> list[int]:
    scores = index.centroids @ ideal
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return np.argsort(-scores, kind="stable")[:k].tolist()


def mean_of_picks(index: GalleryIndex, rng: np.random.Generator, picks: int) -> np.ndarray:
    return MeanOfPicks().ideal_vector(index, rng.choice(index.n_images, picks, replace=False).tolist())


def test_low_rank_gallery_gets_a_small_projection(low_rank_index):
    projection = projection_for(low_rank_index)
    assert projection is not None and projection.dims <= 48
    assert projection.energy_kept >= centroid_search.ENERGY_KEPT
    assert float(projection.residual_norms.max()) < 0.01
    assert projection_for(low_rank_index) is projection  # built once per index


@pytest.mark.parametrize("k", [1, 7, 40])
def test_projection_search_equals_a_full_scan(low_rank_index, k):
    index, rng = low_rank_index, np.random.default_rng(k)
    projection = projection_for(index)
    mask = Pool(index, {"half": "a"}).mask
    for trial in range(40):
        ideal = mean_of_picks(index, rng, picks=1 + trial % 10)
        for m in (None, mask):
            found = projected_top_k(index.centroids, projection, ideal, k, m)
            assert found is not None, "the bounds should prune a low-rank gallery"
            rows, scores = found
            assert rows.tolist() == full_scan(index, ideal, k, m)
            np.testing.assert_allclose(scores, index.centroids[rows] @ ideal, rtol=1e-5)
            via_api, _ = nearest_celebs(index, ideal, k, m, exact_scan_max=0)
            assert via_api.tolist() == rows.tolist()


def test_loose_bounds_fall_back_to_the_full_scan(low_rank_index):
    # A projection onto too few directions: every row keeps a large residual, so the bounds
    # cannot exclude enough rows and the search must hand over to the full scan.
    index = dataclasses.replace(low_rank_index)  # a fresh object: no cached projection
    basis = np.ascontiguousarray(projection_for(low_rank_index).basis[:, :4])
    coords = index.centroids @ basis
    weak = CentroidProjection(basis, coords, np.linalg.norm(
        index.centroids - coords @ basis.T, axis=1).astype(np.float32), energy_kept=0.2)
    index._centroid_projection = weak
    ideal = mean_of_picks(index, np.random.default_rng(0), picks=3)
    assert projected_top_k(index.centroids, weak, ideal, 7) is None
    rows, _ = nearest_celebs(index, ideal, 7, exact_scan_max=0)
    assert rows.tolist() == full_scan(index, ideal, 7)


def test_isotropic_gallery_has_no_projection_and_stays_exact(index):
    # The lead's synthetic gallery: independent random directions, no low-rank structure.
    assert build_projection(index.centroids) is None
    rng = np.random.default_rng(1)
    for _ in range(10):
        ideal = mean_of_picks(index, rng, picks=5)
        rows, _ = nearest_celebs(index, ideal, 7, exact_scan_max=0)
        assert rows.tolist() == full_scan(index, ideal, 7)


def test_pool_smaller_than_k(low_rank_index):
    index = low_rank_index
    mask = np.zeros(index.n_celebs, dtype=bool)
    mask[[10, 20, 30]] = True
    ideal = index.centroids[20]
    rows, scores = nearest_celebs(index, ideal, 7, mask, exact_scan_max=0)
    assert rows[0] == 20 and sorted(rows.tolist()) == [10, 20, 30]
    assert np.all(np.diff(scores) <= 0)
