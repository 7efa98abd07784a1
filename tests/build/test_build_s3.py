"""S3 source and destination, against moto's server over HTTP on 127.0.0.1."""

from __future__ import annotations

import io
import json

import boto3
from conftest import EXPECTED, gallery_files
from PIL import Image
from test_build_pipeline import assert_same_index

from idealtype.blobstore import S3BlobStore
from idealtype.cli import main as cli
from idealtype.index_format import load_index


def test_build_from_s3_to_s3_with_shards(moto_endpoint, build_gallery, tmp_path):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="photos-in")
    s3.create_bucket(Bucket="site-out")
    for key, data in gallery_files().items():
        s3.put_object(Bucket="photos-in", Key=f"gallery/{key}", Body=data)

    base = ["build", "s3://photos-in/gallery", "--out", "s3://site-out/idx", "--no-progress"]
    assert cli(base + ["--shard", "0/2"]) == 0
    assert cli(base + ["--shard", "1/2"]) == 0
    assert cli(base + ["--merge"]) == 0

    store = S3BlobStore("site-out", "idx")
    index = load_index(store)
    assert {im["source"] for im in index.images} == {
        s for s, outcome in EXPECTED.items() if outcome == "indexed"
    }
    report = json.loads(store.get(f"index/{index.version}/report.json"))
    assert {e["source"]: e["reason"] for e in report["skipped"]} == {
        s: outcome for s, outcome in EXPECTED.items() if outcome != "indexed"
    }
    for image in index.images:
        crop = Image.open(io.BytesIO(store.get(image["crop"])))
        assert crop.size == (256, 256)
    head = s3.head_object(Bucket="site-out", Key=f"idx/{index.images[0]['crop']}")
    assert head["ContentType"] == "image/jpeg"

    # the same gallery from a local folder gives the same index
    local_out = tmp_path / "local"
    assert cli(["build", str(build_gallery), "--out", str(local_out), "--no-progress"]) == 0
    from idealtype.blobstore import LocalBlobStore

    assert_same_index(load_index(LocalBlobStore(local_out)), index)
