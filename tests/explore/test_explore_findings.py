import numpy as np
import pytest

from idealtype.blobstore import LocalBlobStore
from idealtype.explore.axes import axis_extremes, principal_components
from idealtype.explore.build_report import read_build_report, skipped_files, zero_face_celebs
from idealtype.explore.duplicates import near_duplicate_pairs
from idealtype.explore.findings import ExploreSettings, compute_findings
from idealtype.explore.label_checks import fit_labels
from idealtype.index_format import load_index, normalize_rows
from idealtype.synthetic import make_synthetic_index


def test_leave_one_out_similarity_matches_brute_force():
    rng = np.random.default_rng(1)
    emb = normalize_rows(rng.standard_normal((30, 12)))
    celeb = np.array([0] * 2 + [1] * 5 + [2] + [3] * 22)
    fit = fit_labels(emb, celeb, 4)
    for row in range(len(emb)):
        others = [r for r in range(len(emb)) if celeb[r] == celeb[row] and r != row]
        if not others:
            assert np.isnan(fit.own_similarity[row])
            continue
        loo = emb[others].mean(0)
        expected = emb[row] @ loo / np.linalg.norm(loo)
        assert fit.own_similarity[row] == pytest.approx(expected, abs=1e-5)
        centroids = normalize_rows(np.stack([emb[celeb == c].mean(0) for c in range(4)]))
        sims = centroids @ emb[row]
        sims[celeb[row]] = -np.inf
        assert fit.other_celeb[row] == sims.argmax()
        assert fit.other_similarity[row] == pytest.approx(sims.max(), abs=1e-5)


def test_axis_extremes_take_distinct_people_in_order():
    values = np.array([[5.0], [-3.0], [-2.0], [4.0], [-2.5], [9.0], [0.0]])
    celeb = np.array([0, 1, 1, 2, 3, 2, 4])
    (ends,) = axis_extremes(values, celeb, per_side=2)
    assert ends.low_rows == [1, 4]  # row 2 is celebrity 1 again
    assert ends.high_rows == [5, 0]  # row 3 is celebrity 2 again


def test_principal_components_find_the_planted_direction():
    rng = np.random.default_rng(2)
    emb = rng.standard_normal((400, 16)) * 0.1
    axis = normalize_rows(rng.standard_normal((1, 16)))[0]
    emb += np.outer(rng.standard_normal(400) * 2, axis)
    pca = principal_components(emb, 5)
    assert abs(pca.components[0] @ axis) > 0.99
    assert np.all(np.diff(pca.explained_ratio) <= 0) and pca.explained_ratio[0] > 0.8
    np.testing.assert_allclose(pca.components @ pca.components.T, np.eye(5), atol=1e-5)


def test_duplicate_pairs_span_blocks():
    rng = np.random.default_rng(3)
    emb = normalize_rows(rng.standard_normal((2300, 32)))
    emb[2250] = emb[7]
    emb[1100] = normalize_rows((emb[1099] + 0.01 * rng.standard_normal(32))[None])[0]
    pairs = near_duplicate_pairs(emb, 0.99)
    assert sorted(map(tuple, pairs.rows.tolist())) == [(7, 2250), (1099, 1100)]


def test_clean_gallery_has_no_suspects(tmp_path):
    store = LocalBlobStore(tmp_path)
    make_synthetic_index(store, 30, 3, seed=5)
    findings = compute_findings(load_index(store))
    assert findings["mislabeled"] == findings["unlike_own"] == findings["same_person"] == []
    assert findings["duplicates_across"] == findings["duplicates_within"] == []
    assert findings["too_few_faces"] == []
    assert len(findings["dimensions"]) == 512
    assert all(len(d["low"]) == len(d["high"]) == 6 for d in findings["dimensions"])
    assert len(findings["principal_components"]) == 32
    assert len(findings["spread"]) == 30


def test_planted_problems_are_found(planted_gallery):
    index = load_index(planted_gallery.store)
    findings = compute_findings(index, read_build_report(planted_gallery.store, index.version))
    mislabeled = {m["image_id"]: m for m in findings["mislabeled"]}
    # The moved photo and the copy filed under the wrong person; nothing else.
    assert set(mislabeled) == {planted_gallery.mislabeled_id, planted_gallery.duplicate_ids[1]}
    moved = mislabeled[planted_gallery.mislabeled_id]
    assert (moved["celeb_id"], moved["other_celeb_id"]) == ("c00007", "c00003")
    assert mislabeled[planted_gallery.duplicate_ids[1]]["other_celeb_id"] == "c00010"

    assert [d["image_ids"] for d in findings["duplicates_across"]] == [
        list(planted_gallery.duplicate_ids)
    ]
    assert [d["image_ids"] for d in findings["duplicates_within"]] == [
        list(planted_gallery.within_ids)
    ]
    # pair_star's two photos are unlike each other, but only the group photo is reported
    unlike = {m["image_id"]: m for m in findings["unlike_own"]}
    assert set(unlike) == {planted_gallery.stranger_id, planted_gallery.pair_ids[1]}
    assert findings["summary"]["suspects_explained_by_partner"] == 1
    stranger = unlike[planted_gallery.stranger_id]
    assert stranger["faces_in_photo"] == 3 and stranger["box_outside"] == 0.6
    assert "faces_in_photo" not in mislabeled[planted_gallery.mislabeled_id]
    assert [p["celeb_ids"] for p in findings["same_person"]] == [["c00020", "c00020_alias"]]
    assert findings["same_person"][0]["n_faces"] == [2, 2]

    few = {t["celeb_id"]: t for t in findings["too_few_faces"]}
    assert set(few) == {planted_gallery.solo_celeb, planted_gallery.ghost_celeb}
    assert few[planted_gallery.solo_celeb]["n_faces"] == 1
    assert few[planted_gallery.ghost_celeb] == {
        "celeb_id": "ghost_star", "n_faces": 0, "skipped_files": 1, "image_ids": []
    }
    assert findings["summary"]["single_photo_celebs_not_judged"] == 1
    assert [s["source"] for s in findings["skipped_files"]] == ["ghost_star/a.jpg", "c00002/broken.jpg"]
    # the widest celebrities: pair_star (two strangers' photos), then the three holding a
    # stranger's photo, which each lists first
    widest = {s["celeb_id"]: s["outliers"][0]["image_id"] for s in findings["spread"][:4]}
    assert findings["spread"][0]["celeb_id"] == "pair_star"
    assert {k: v for k, v in widest.items() if k != "pair_star"} == {
        "c00007": planted_gallery.mislabeled_id,
        "c00011": planted_gallery.duplicate_ids[1],
        "c00012": planted_gallery.stranger_id,
    }
    # every image the findings mention is described, with its crop key
    mentioned = {m["image_id"] for m in findings["mislabeled"]}
    mentioned |= {f["image_id"] for d in findings["dimensions"] for f in d["low"] + d["high"]}
    assert mentioned <= set(findings["images"])


def test_without_leave_one_out_a_two_photo_celebrity_would_hide_its_wrong_photo(planted_gallery):
    """Plant the wrong photo in a celebrity with one genuine photo: its own full centroid is half
    the wrong photo, so only the leave-one-out comparison exposes it."""
    index = load_index(planted_gallery.store)
    emb = np.array(index.embeddings)
    celeb = index.image_celeb.copy()
    stranger = int(index.celebs[5]["rows"][0])
    pair_celeb = index.celeb_row["solo_star"]  # solo_star now holds its own photo + a stranger's
    celeb[stranger] = pair_celeb
    fit = fit_labels(emb, celeb, index.n_celebs)
    assert fit.own_similarity[stranger] < 0.2 and fit.other_similarity[stranger] > 0.7
    full_centroid = normalize_rows(emb[celeb == pair_celeb].mean(0, keepdims=True))[0]
    assert emb[stranger] @ full_centroid > 0.6  # what a non-LOO check would have seen


def test_float16_index_and_settings(tmp_path):
    store = LocalBlobStore(tmp_path)
    make_synthetic_index(store, 12, 2, dims=64, dtype="float16")
    settings = ExploreSettings(per_side=3, components=4, min_faces=3)
    findings = compute_findings(load_index(store), settings=settings)
    assert len(findings["dimensions"]) == 64 and len(findings["dimensions"][0]["low"]) == 3
    assert len(findings["principal_components"]) == 4
    assert len(findings["too_few_faces"]) == 12  # every celebrity has 2 < 3 faces
    assert findings["mislabeled"] == []


def test_build_job_report_summary_names_the_faceless_celebrities():
    skipped = skipped_files({"skipped": [
        {"source": "Kim_Tae/.DS_Store", "reason": "hidden_file"},
        {"source": "Lee_Ji/a.jpg", "reason": "no_face", "detail": ""},
        {"source": "stray.jpg", "reason": "not_in_celebrity_folder"},
    ]})
    assert [s["celeb_id"] for s in skipped] == ["Kim_Tae", "Lee_Ji", ""]
    report = {"summary": {"celebrities_without_faces": ["Lee_Ji"],
                          "per_celeb": {"Kim_Tae": {"indexed": 3, "skipped": 1},
                                        "Park_So": {"indexed": 0, "skipped": 2}}}}
    assert zero_face_celebs(report, skipped) == {"Lee_Ji", "Park_So"}
    # an older report without the summary: folders with skipped files are the candidates
    assert zero_face_celebs({}, skipped) == {"Kim_Tae", "Lee_Ji"}
