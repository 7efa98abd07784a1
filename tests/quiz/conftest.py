"""Fixtures for the quiz engine tests: a small synthetic index on a local blob store."""

from __future__ import annotations

import pytest

from idealtype.blobstore import LocalBlobStore
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
