"""Index and face crops in S3 (moto's server over HTTP): load, verify, reload, serve faces."""

from __future__ import annotations

import uuid

import boto3
import pytest
from fastapi.testclient import TestClient

from idealtype.api.app import create_app
from idealtype.api.index_cache import IndexCache
from idealtype.api.settings import Settings
from idealtype.blobstore import S3BlobStore, open_store
from idealtype.synthetic import make_synthetic_index


@pytest.fixture
def bucket(moto_endpoint) -> str:
    name = f"index-{uuid.uuid4().hex[:8]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


def test_index_cache_follows_latest_in_s3(bucket):
    store = open_store(f"s3://{bucket}/gallery")
    assert isinstance(store, S3BlobStore)
    first = make_synthetic_index(store, 50, 2, seed=1)
    cache = IndexCache(store, recheck_seconds=0)
    assert cache.current().version == first
    second = make_synthetic_index(store, 60, 2, seed=2)
    assert cache.current().version == second and cache.current().n_celebs == 60
    # Corrupt a third version after it was published: the cache keeps serving the second.
    third = make_synthetic_index(store, 70, 2, seed=3)
    store.put(f"index/{third}/embeddings.npy", b"broken")
    assert cache.current().version == second
    assert "sha256" in cache.last_error
    keys = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix="gallery/index/LATEST")
    assert keys["KeyCount"] == 1


def test_api_over_an_s3_index_serves_faces(bucket, tmp_path):
    store = open_store(f"s3://{bucket}/g")
    make_synthetic_index(store, 40, 2, seed=6, with_crops=True)
    app = create_app(Settings(index=f"s3://{bucket}/g", sessions=str(tmp_path / "s.db")))
    with TestClient(app) as client:
        assert client.get("/api/health").json()["celebrities"] == 40
        face = client.post("/api/sessions", json={"rounds": 3}).json()["round"]["faces"][0]
        response = client.get(face["url"])
        assert response.status_code == 200
        assert response.content == store.get(f"faces/{face['image_id']}.jpg")
        assert client.get("/faces/missing.jpg").status_code == 404
