"""Fixtures for the quiz engine tests: small synthetic indexes on local blob stores."""

from __future__ import annotations

import pytest

from idealtype.blobstore import LocalBlobStore
from idealtype.evaluation.facelike_gallery import make_facelike_index
from idealtype.index_format import GalleryIndex, load_index
from idealtype.quiz.pool import Pool
from idealtype.synthetic import make_synthetic_index


@pytest.fixture(scope="session")
def index_store(tmp_path_factory) -> LocalBlobStore:
    store = LocalBlobStore(tmp_path_factory.mktemp("quiz-index"))
    make_synthetic_index(store, 400, 3, seed=1)
    return store


@pytest.fixture(scope="session")
def index(index_store) -> GalleryIndex:
    return load_index(index_store)


@pytest.fixture
def pool(index) -> Pool:
    return Pool(index)


@pytest.fixture(scope="session")
def facelike_store(tmp_path_factory) -> LocalBlobStore:
    """600 people in FaceNet-like geometry (the adaptive strategy's low-rank fast paths)."""
    store = LocalBlobStore(tmp_path_factory.mktemp("facelike-600"))
    make_facelike_index(store, 600, seed=3)
    return store


@pytest.fixture(scope="session")
def facelike_pool(facelike_store) -> Pool:
    return Pool(load_index(facelike_store))
