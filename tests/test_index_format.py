import json

import numpy as np
import pytest

from idealtype.blobstore import LocalBlobStore
from idealtype.index_format import (
    IndexCorrupt,
    IndexNotFound,
    latest_version,
    load_index,
    publish_index,
)
from idealtype.synthetic import make_synthetic_index


def test_publish_then_load_roundtrip(tmp_path):
    store = LocalBlobStore(tmp_path)
    version = make_synthetic_index(store, n_celebs=20, images_per_celeb=3, dims=16)
    assert latest_version(store) == version
    index = load_index(store)
    assert index.n_images == 60 and index.n_celebs == 20
    assert index.embeddings.shape == (60, 16)
    np.testing.assert_allclose(np.linalg.norm(index.embeddings, axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(index.centroids, axis=1), 1, atol=1e-5)
    # each centroid is closest to its own celebrity's photos
    own = index.image_celeb
    assert (np.argmax(index.embeddings @ index.centroids.T, axis=1) == own).mean() > 0.95
    assert index.clusters.shape == (20,) and index.clusters.min() >= 0
    assert index.celebs[3]["tags"]["gender"] == "male"


def test_float16_index(tmp_path):
    store = LocalBlobStore(tmp_path)
    make_synthetic_index(store, n_celebs=5, dims=8, dtype="float16")
    assert load_index(store).embeddings.dtype == np.float16


def test_corrupted_file_is_refused(tmp_path):
    store = LocalBlobStore(tmp_path)
    version = make_synthetic_index(store, n_celebs=5, dims=8)
    path = tmp_path / "index" / version / "embeddings.npy"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match="sha256"):
        load_index(store)


def test_unknown_format_version_is_refused(tmp_path):
    store = LocalBlobStore(tmp_path)
    version = make_synthetic_index(store, n_celebs=5, dims=8)
    path = tmp_path / "index" / version / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["format_version"] = 99
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexCorrupt, match="format_version"):
        load_index(store)


def test_missing_index(tmp_path):
    with pytest.raises(IndexNotFound):
        load_index(LocalBlobStore(tmp_path))


def test_publish_rejects_mismatched_rows(tmp_path):
    with pytest.raises(ValueError):
        publish_index(
            LocalBlobStore(tmp_path),
            np.ones((2, 4)),
            [{"image_id": "a", "celeb_id": "x"}],
            model_id="m",
            weights_sha256="0",
        )
