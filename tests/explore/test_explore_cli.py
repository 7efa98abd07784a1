import csv
import hashlib
import json
from pathlib import Path

import boto3

from idealtype.blobstore import S3BlobStore
from idealtype.cli import main
from idealtype.synthetic import make_synthetic_index


def snapshot(root):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}


def test_explore_writes_report_and_suggestions_without_touching_the_gallery(
    planted_gallery, tmp_path, capsys
):
    before = snapshot(Path(planted_gallery.root))
    out = tmp_path / "report"
    assert main(["explore", planted_gallery.root, "--out", str(out), "--fix"]) == 0
    assert snapshot(Path(planted_gallery.root)) == before

    findings = json.loads((out / "findings.json").read_text())
    assert (out / "data.js").read_text().startswith("window.EXPLORE_DATA = {")
    for name in ("index.html", "explore.js", "explore.css"):
        assert (out / name).stat().st_size > 0
    copied = {p.stem for p in (out / "faces").glob("*.jpg")}
    assert copied == set(findings["images"]) and findings["summary"]["missing_crops"] == 0
    assert "2 likely mislabeled" in capsys.readouterr().out

    with (out / "fix_suggestions.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows == json.loads((out / "fix_suggestions.json").read_text())
    by_action = {}
    for row in rows:
        by_action.setdefault(row["action"], []).append(row)
    moves = {(r["image_id"], r["celeb_id"], r["to_celeb_id"]) for r in by_action["move"]}
    assert (planted_gallery.mislabeled_id, "c00007", "c00003") in moves
    # the copy under c00011 is the one to drop: the original fits c00010's other photos
    dup_rows = [r for r in by_action["remove_duplicate"] if r["to_celeb_id"]]
    assert [(r["image_id"], r["celeb_id"], r["to_celeb_id"]) for r in dup_rows] == [
        (planted_gallery.duplicate_ids[1], "c00011", "c00010")
    ]
    assert planted_gallery.within_ids[1] in {r["image_id"] for r in by_action["remove_duplicate"]}
    assert {r["celeb_id"] for r in by_action["add_photos"]} == {"solo_star", "ghost_star"}
    # the stranger came from a group photo with a half-cut box: ask about the face, not the label
    checks = {r["image_id"]: r["question"] for r in by_action["check_face"]}
    assert set(checks) == {planted_gallery.stranger_id, planted_gallery.pair_ids[1]}
    assert "3 faces" in checks[planted_gallery.stranger_id]
    assert "60% outside the frame" in checks[planted_gallery.stranger_id]
    assert [(r["celeb_id"], r["to_celeb_id"]) for r in by_action["merge_celebrities"]] == [
        ("c00020", "c00020_alias")
    ]
    assert all("?" in r["question"] for r in rows)


def test_thresholds_are_options(planted_gallery, tmp_path):
    out = tmp_path / "strict"
    # a threshold no pair can reach: no duplicates; min-faces 6 lists every celebrity
    assert main(["explore", planted_gallery.root, "--out", str(out),
                 "--duplicate-across-threshold", "1.5", "--duplicate-within-threshold", "1.5",
                 "--min-faces", "6", "--components", "3"]) == 0
    findings = json.loads((out / "findings.json").read_text())
    assert findings["duplicates_across"] == findings["duplicates_within"] == []
    assert len(findings["principal_components"]) == 3
    assert len(findings["too_few_faces"]) == 28  # 24 synthetic + alias + pair + solo + ghost
    assert not (out / "fix_suggestions.csv").exists()


def test_missing_index_is_a_clear_error(tmp_path, capsys):
    assert main(["explore", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")]) == 2
    assert "cannot load the index" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_counts_that_show_nothing_or_less_are_a_clear_error(planted_gallery, tmp_path, capsys):
    for flags in (["--per-side", "0"], ["--per-side", "-3"], ["--components", "-1"]):
        assert main(["explore", planted_gallery.root, "--out", str(tmp_path / "o"), *flags]) == 2
        assert "--per-side must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_explore_reads_an_s3_index(moto_endpoint, tmp_path):
    boto3.client("s3").create_bucket(Bucket="gallery")
    make_synthetic_index(S3BlobStore("gallery", "prod"), 6, 3, dims=32, with_crops=True)
    out = tmp_path / "s3-report"
    assert main(["explore", "s3://gallery/prod", "--out", str(out)]) == 0
    findings = json.loads((out / "findings.json").read_text())
    assert findings["index"]["location"] == "s3://gallery/prod"
    assert findings["index"]["images"] == 18 and len(findings["dimensions"]) == 32
    assert len(list((out / "faces").glob("*.jpg"))) == len(findings["images"])
