"""The build job end to end on the test gallery: real MTCNN + FaceNet (converted CASIA weights)."""

from __future__ import annotations

import hashlib
import io
import json
import unicodedata
from dataclasses import replace

import numpy as np
import pytest
from conftest import ASTRONAUT_FOLDER, EXPECTED, EXPECTED_NOTES, assert_same_index
from PIL import Image

from idealtype.blobstore import LocalBlobStore
from idealtype.build.build_settings import BuildSettings, canonical_location
from idealtype.build.merge_publish import MergeError, merge_and_publish
from idealtype.build.shard_runner import ShardRunner
from idealtype.cli import main as cli
from idealtype.index_format import IndexCorrupt, load_index


@pytest.fixture(scope="module")
def facenet():
    from idealtype.build.weights import load_facenet

    return load_facenet()


@pytest.fixture(scope="module")
def single_build(build_gallery, tmp_path_factory):
    """One `idealtype build` run through the CLI, as a user would start it."""
    out = tmp_path_factory.mktemp("single")
    assert cli(["build", str(build_gallery), "--out", str(out), "--no-progress"]) == 0
    store = LocalBlobStore(out)
    index = load_index(store)
    report = json.loads(store.get(f"index/{index.version}/report.json"))
    return store, index, report


def settings_for(gallery, weights_sha256: str, **overrides) -> BuildSettings:
    return BuildSettings(
        source=canonical_location(str(gallery)), weights_sha256=weights_sha256, **overrides
    )


def test_every_file_is_indexed_or_listed_with_its_reason(single_build):
    _, index, report = single_build
    indexed = {image["source"] for image in index.images}
    assert indexed == {s for s, outcome in EXPECTED.items() if outcome == "indexed"}
    reasons = {entry["source"]: entry["reason"] for entry in report["skipped"]}
    assert reasons == {s: outcome for s, outcome in EXPECTED.items() if outcome != "indexed"}
    assert "same bytes as Grace_Hopper/original.jpg" in next(
        e["detail"] for e in report["skipped"] if e["reason"] == "duplicate"
    )
    notes = {entry["source"]: entry["notes"] for entry in report["handled"]}
    for source, note in EXPECTED_NOTES.items():
        assert note in notes[source]


def test_summary_counts(single_build):
    _, index, report = single_build
    summary = report["summary"]
    skipped = [outcome for outcome in EXPECTED.values() if outcome != "indexed"]
    assert summary["files_listed"] == len(EXPECTED)
    assert summary["faces_found"] == index.n_images == len(EXPECTED) - len(skipped)
    assert summary["skipped"] == len(skipped)
    assert summary["skipped_by_reason"] == {r: skipped.count(r) for r in set(skipped)}
    # read = decodable photos (the face rule or the duplicate check came later)
    undecodable = {"empty_file", "not_an_image", "truncated", "too_many_pixels"}
    ignored = {"hidden_file", "not_in_celebrity_folder"}
    assert summary["images_read"] == len(EXPECTED) - len(
        [r for r in skipped if r in undecodable | ignored]
    )
    assert summary["per_celeb"]["Grace_Hopper"] == {"indexed": 8, "skipped": 1}
    assert summary["per_celeb"][ASTRONAUT_FOLDER] == {"indexed": 3, "skipped": 1}
    assert summary["celebrities_without_faces"] == ["Broken", "Coffee_Cup"]
    assert index.manifest["report_summary"] == summary


def test_manifest_model_and_checksums(single_build, facenet):
    store, index, _ = single_build
    manifest = index.manifest
    assert manifest["model"] == {"id": "facenet-casia-webface", "weights_sha256": facenet[1]}
    assert manifest["dims"] == 512 and manifest["dtype"] == "float32"
    for name, entry in manifest["files"].items():
        data = store.get(f"index/{index.version}/{name}")
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]


def test_celebrities_names_tags_and_unicode(single_build):
    _, index, _ = single_build
    celebs = {c["celeb_id"]: c for c in index.celebs}
    assert set(celebs) == {"Grace_Hopper", ASTRONAUT_FOLDER}
    assert unicodedata.is_normalized("NFC", ASTRONAUT_FOLDER)
    assert celebs[ASTRONAUT_FOLDER]["name"] == "Eileen Collins"
    assert celebs["Grace_Hopper"]["tags"] == {"gender": "female", "country": "US"}
    assert index.centroids.shape == (2, 512)


def test_embeddings_recognise_the_same_person(single_build):
    _, index, _ = single_build
    emb = index.embeddings.astype(np.float32)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
    same = index.image_celeb[:, None] == index.image_celeb[None, :]
    sims = emb @ emb.T
    off_diagonal = ~np.eye(len(emb), dtype=bool)
    # every photo is closer to each photo of its own person than to any of the other
    assert sims[same & off_diagonal].min() > sims[~same].max()
    assert sims[same & off_diagonal].min() > 0.5 and sims[~same].max() < 0.4
    # each celebrity's centroid is nearest to its own photos
    assert (np.argmax(emb @ index.centroids.T, axis=1) == index.image_celeb).all()


def test_image_ids_and_display_crops(single_build, build_gallery):
    store, index, _ = single_build
    for image in index.images:
        raw = next(
            p
            for p in build_gallery.rglob("*")
            if unicodedata.normalize("NFC", p.relative_to(build_gallery).as_posix())
            == image["source"]
        ).read_bytes()
        assert image["image_id"] == hashlib.sha256(raw).hexdigest()[:24]
        assert image["crop"] == f"faces/{image['image_id']}.jpg"
        crop = Image.open(io.BytesIO(store.get(image["crop"])))
        assert crop.format == "JPEG" and crop.size == (256, 256)
        x1, y1, x2, y2 = image["box"]
        assert 0 < image["prob"] <= 1 and x2 - x1 >= 40 and y2 - y1 >= 40


def test_corrupted_index_is_refused(single_build, tmp_path):
    store, index, _ = single_build
    copy = LocalBlobStore(tmp_path)
    for key in store.list(f"index/{index.version}/") + ["index/LATEST"]:
        copy.put(key, store.get(key))
    path = tmp_path / "index" / index.version / "images.json"
    path.write_bytes(path.read_bytes().replace(b"Grace_Hopper", b"Grace_Hoppex", 1))
    with pytest.raises(IndexCorrupt, match="sha256"):
        load_index(copy)


def test_float16_option(build_gallery, tmp_path):
    args = ["build", str(build_gallery), "--out", str(tmp_path), "--dtype", "float16"]
    assert cli(args + ["--max-per-celeb", "2", "--no-progress"]) == 0
    index = load_index(LocalBlobStore(tmp_path))
    assert index.embeddings.dtype == np.float16
    # first 2 photos of Grace_Hopper, 우주비행사, Broken (4 non-hidden files); Coffee_Cup has 1
    kept = 2 + 2 + 2 + 1
    ignored = 2  # .DS_Store and README.txt are listed whatever the subset
    assert index.manifest["report_summary"]["files_listed"] == kept + ignored


def test_two_shards_merge_into_the_single_run_index(build_gallery, tmp_path, single_build):
    _, single, single_report = single_build
    out = str(tmp_path)
    base = ["build", str(build_gallery), "--out", out, "--no-progress"]
    assert cli(base + ["--merge"]) == 1  # nothing to merge yet: refused with a message
    assert cli(base + ["--shard", "1/2"]) == 0
    assert cli(base + ["--merge"]) == 1  # shard 0 missing
    assert cli(base + ["--shards", "2", "--shard-index", "0"]) == 0
    assert cli(base + ["--merge"]) == 0
    merged = load_index(LocalBlobStore(out))
    assert merged.version != single.version
    assert_same_index(merged, single)
    report = json.loads(LocalBlobStore(out).get(f"index/{merged.version}/report.json"))
    assert report["summary"] == single_report["summary"]
    assert sorted(report["skipped"], key=str) == sorted(single_report["skipped"], key=str)


def test_duplicates_across_shards_are_settled_like_a_single_run(gallery_copy, tmp_path, facenet):
    # the same photo in two folders (likely in different shards): the first by name wins
    original = (gallery_copy / "Grace_Hopper" / "original.jpg").read_bytes()
    (gallery_copy / "A_First").mkdir()
    (gallery_copy / "A_First" / "same.jpg").write_bytes(original)
    settings = settings_for(gallery_copy, facenet[1], chunk_size=4)
    source, dest = LocalBlobStore(gallery_copy), LocalBlobStore(tmp_path)
    runner = ShardRunner(source, dest, settings, facenet[0])
    for shard in range(3):
        runner.run(shard, 3)
    _, report = merge_and_publish(source, dest, settings)
    duplicates = {e["source"]: e["detail"] for e in report["skipped"] if e["reason"] == "duplicate"}
    assert duplicates == {
        "Grace_Hopper/original.jpg": "same bytes as A_First/same.jpg",
        "Grace_Hopper/zz_copy_of_original.jpg": "same bytes as A_First/same.jpg",
    }


class Interrupted(Exception):
    pass


def test_resume_after_interruption(gallery_copy, tmp_path, facenet):
    settings = settings_for(gallery_copy, facenet[1], chunk_size=4)
    source, dest = LocalBlobStore(gallery_copy), LocalBlobStore(tmp_path)

    class CrashingRunner(ShardRunner):
        parts_done = 0

        def _back(self, front):
            if self.parts_done == 2:
                raise Interrupted
            self.parts_done += 1
            return super()._back(front)

    with pytest.raises(Interrupted):
        CrashingRunner(source, dest, settings, facenet[0]).run(0, 1)
    with pytest.raises(MergeError, match="still running or was interrupted"):
        merge_and_publish(source, dest, settings)

    # a display crop lost since (e.g. deleted by hand): its part is redone, not reused
    parts = [k for k in dest.list(settings.shard_prefix(0, 1)) if k.endswith(".npz")]
    assert len(parts) == 2
    first_crop = min(dest.list("faces/"))
    (tmp_path / first_crop).unlink()

    result = ShardRunner(source, dest, settings, facenet[0]).run(0, 1, resume=True)
    n_parts = -(-(len(EXPECTED) - 2) // 4)  # 18 photos in parts of 4
    assert result.parts_reused == 1 and result.parts_computed == n_parts - 1
    assert dest.exists(first_crop)
    _, report = merge_and_publish(source, dest, settings)
    expected_skips = sum(1 for outcome in EXPECTED.values() if outcome != "indexed")
    assert report["summary"]["skipped"] == expected_skips

    # without --resume everything is computed again
    again = ShardRunner(source, dest, settings, facenet[0]).run(0, 1)
    assert again.parts_reused == 0 and again.parts_computed == n_parts

    # parts of another pipeline version (e.g. the older face rule) are never resumed from
    older = replace(settings, pipeline_version=settings.pipeline_version - 1)
    other = ShardRunner(source, dest, older, facenet[0]).run(0, 1, resume=True)
    assert other.parts_reused == 0 and other.parts_computed == n_parts


def test_changed_gallery_is_not_merged_from_stale_shards(gallery_copy, tmp_path, facenet):
    settings = settings_for(gallery_copy, facenet[1])
    source, dest = LocalBlobStore(gallery_copy), LocalBlobStore(tmp_path)
    ShardRunner(source, dest, settings, facenet[0]).run(0, 1)
    (gallery_copy / "Grace_Hopper" / "late_addition.jpg").write_bytes(b"x")
    with pytest.raises(MergeError, match="different photo list"):
        merge_and_publish(source, dest, settings)


@pytest.mark.parametrize(
    "bad_args",
    [["--shard", "2/2"], ["--shard", "0/2", "--merge"], ["--shard-index", "0"], ["--shard", "x"]],
)
def test_cli_rejects_bad_shard_options(bad_args, build_gallery, tmp_path, capsys):
    try:
        code = cli(["build", str(build_gallery), "--out", str(tmp_path)] + bad_args)
    except SystemExit as exit_:  # argparse's own refusal
        code = exit_.code
    assert code == 2
    assert "shard" in capsys.readouterr().err
    assert not (tmp_path / "index").exists()


def test_cli_refuses_an_index_inside_the_gallery(gallery_copy, capsys):
    assert cli(["build", str(gallery_copy), "--out", str(gallery_copy / "site")]) == 2
    assert "inside SOURCE" in capsys.readouterr().err
    assert not (gallery_copy / "site").exists()


@pytest.mark.parametrize("source", ["missing", "a-file.jpg"])
def test_cli_says_when_the_gallery_folder_is_not_there(tmp_path, capsys, source):
    (tmp_path / "a-file.jpg").write_bytes(b"x")
    assert cli(["build", str(tmp_path / source), "--out", str(tmp_path / "out")]) == 2
    assert f"no gallery folder at {tmp_path / source}" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("flag", "value", "least"), [
    ("--limit", "-1", 1), ("--max-per-celeb", "0", 1), ("--batch-size", "0", 1),
    ("--detect-batch", "0", 1), ("--chunk-size", "0", 1), ("--threads", "-1", 1),
    ("--margin", "-5", 0), ("--min-face", "-1", 0), ("--max-side", "10", 20), ("--shards", "0", 1),
])
def test_cli_refuses_numbers_that_cannot_build(build_gallery, tmp_path, capsys, flag, value, least):
    # Before: 0 batch sizes and threads crashed deep in the build, --limit -1 meant "all but
    # the last photo".
    with pytest.raises(SystemExit) as refused:
        cli(["build", str(build_gallery), "--out", str(tmp_path / "out"), flag, value])
    assert refused.value.code == 2
    assert f"argument {flag}: must be at least {least}, not {value}" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
