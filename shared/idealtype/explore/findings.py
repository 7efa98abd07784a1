"""Everything the explorer finds in one index, as one JSON-ready dict (findings.json, and the
data the HTML report renders). Thresholds live in ExploreSettings with the reasons for them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..index_format import GalleryIndex, normalize_rows
from .axes import AxisExtremes, axis_extremes, principal_components
from .build_report import celeb_of_source, skipped_files, zero_face_celebs
from .duplicates import near_duplicate_pairs
from .label_checks import celeb_spread, fit_labels, likely_mislabeled

FINDINGS_FORMAT = "idealtype-explore/1"


@dataclass
class ExploreSettings:
    per_side: int = 6  # faces shown at each end of an axis
    components: int = 32  # principal components shown
    # Likely mislabeled: cos to own leave-one-out centroid below `mislabel_own_max` AND at least
    # `mislabel_margin` more similar to another celebrity's centroid. Calibrated on LFW with the
    # CASIA-WebFace FaceNet (see the explorer's notes); synthetic galleries separate far wider.
    mislabel_own_max: float = 0.35
    mislabel_margin: float = 0.10
    # Near-identical embeddings: a re-encoded or resized copy of one picture stays above ~0.97;
    # two different photos of one person rarely pass 0.93.
    duplicate_threshold: float = 0.95
    min_faces: int = 2  # celebrities with fewer usable faces are listed (and can't be judged)
    examples: int = 3  # photos shown beside a suspect: its own celebrity's and the other's
    outliers: int = 6  # photos shown per celebrity in the spread table
    max_duplicate_pairs: int = 20000


class ImageRefs:
    """Collects the photos the findings mention, so the report copies only their crops."""

    def __init__(self, index: GalleryIndex):
        self.index = index
        self.table: dict[str, dict[str, Any]] = {}

    def ref(self, row: int) -> str:
        image = self.index.images[row]
        image_id = image["image_id"]
        if image_id not in self.table:
            self.table[image_id] = {
                "celeb_id": image["celeb_id"],
                "source": image.get("source", ""),
                "crop": image.get("crop") or f"faces/{image_id}.jpg",
            }
        return image_id


def rounded(value: float, digits: int = 4) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), digits)


def axis_entries(
    refs: ImageRefs, values: np.ndarray, extremes: list[AxisExtremes]
) -> list[dict[str, Any]]:
    entries = []
    for axis, ends in enumerate(extremes):
        column = values[:, axis]
        entries.append(
            {
                "index": axis,
                "mean": rounded(column.mean()),
                "std": rounded(column.std()),
                "low": [{"image_id": refs.ref(r), "value": rounded(column[r])} for r in ends.low_rows],
                "high": [
                    {"image_id": refs.ref(r), "value": rounded(column[r])} for r in ends.high_rows
                ],
            }
        )
    return entries


def nearest_rows(x: np.ndarray, rows: np.ndarray, embeddings: np.ndarray, k: int) -> list[int]:
    sims = embeddings[rows] @ x
    return [int(r) for r in rows[np.argsort(-sims, kind="stable")[:k]]]


def compute_findings(
    index: GalleryIndex,
    report: dict[str, Any] | None = None,
    settings: ExploreSettings | None = None,
    location: str = "",
) -> dict[str, Any]:
    settings = settings or ExploreSettings()
    report = report or {}
    emb = normalize_rows(np.asarray(index.embeddings, dtype=np.float32))  # float16 indexes too
    celeb_of_row = index.image_celeb.astype(np.int64)
    celeb_ids = [c["celeb_id"] for c in index.celebs]
    refs = ImageRefs(index)

    dims = axis_entries(refs, emb, axis_extremes(emb, celeb_of_row, settings.per_side))
    pca = principal_components(emb, settings.components)
    pcs = axis_entries(
        refs, pca.projections, axis_extremes(pca.projections, celeb_of_row, settings.per_side)
    )
    for entry, ratio in zip(pcs, pca.explained_ratio):
        entry["explained_variance_ratio"] = rounded(ratio, 5)

    fit = fit_labels(emb, celeb_of_row, index.n_celebs)
    rows_of_celeb = [np.asarray(c["rows"], dtype=np.int64) for c in index.celebs]

    spread = [
        {
            "celeb_id": celeb_ids[s.celeb],
            "n_faces": s.n_faces,
            "spread": rounded(s.spread),
            "outliers": [
                {"image_id": refs.ref(r), "own_similarity": rounded(fit.own_similarity[r])}
                for r in s.outlier_rows
            ],
        }
        for s in celeb_spread(emb, celeb_of_row, fit, settings.outliers)
    ]

    mislabeled = []
    for row in likely_mislabeled(fit, settings.mislabel_own_max, settings.mislabel_margin):
        own, other = int(celeb_of_row[row]), int(fit.other_celeb[row])
        own_rows = rows_of_celeb[own][rows_of_celeb[own] != row]
        mislabeled.append(
            {
                "image_id": refs.ref(row),
                "celeb_id": celeb_ids[own],
                "own_similarity": rounded(fit.own_similarity[row]),
                "other_celeb_id": celeb_ids[other],
                "other_similarity": rounded(fit.other_similarity[row]),
                "margin": rounded(fit.other_similarity[row] - fit.own_similarity[row]),
                "own_examples": [
                    refs.ref(r) for r in nearest_rows(emb[row], own_rows, emb, settings.examples)
                ],
                "other_examples": [
                    refs.ref(r)
                    for r in nearest_rows(emb[row], rows_of_celeb[other], emb, settings.examples)
                ],
            }
        )

    pairs = near_duplicate_pairs(emb, settings.duplicate_threshold, settings.max_duplicate_pairs)
    duplicates_across, duplicates_within = [], []
    for (a, b), sim in zip(pairs.rows, pairs.similarity):
        entry = {
            "image_ids": [refs.ref(a), refs.ref(b)],
            "celeb_ids": [celeb_ids[celeb_of_row[a]], celeb_ids[celeb_of_row[b]]],
            "similarity": rounded(sim),
            "own_similarity": [rounded(fit.own_similarity[a]), rounded(fit.own_similarity[b])],
        }
        same = celeb_of_row[a] == celeb_of_row[b]
        (duplicates_within if same else duplicates_across).append(entry)

    skipped = skipped_files(report)
    skipped_per_celeb: dict[str, int] = {}
    for item in skipped:
        celeb = item.get("celeb_id") or celeb_of_source(item.get("source", ""))
        skipped_per_celeb[celeb] = skipped_per_celeb.get(celeb, 0) + 1
    too_few = [
        {
            "celeb_id": celeb_ids[c],
            "n_faces": int(fit.counts[c]),
            "skipped_files": skipped_per_celeb.get(celeb_ids[c], 0),
            "image_ids": [refs.ref(r) for r in rows_of_celeb[c]],
        }
        for c in np.flatnonzero(fit.counts < settings.min_faces)
    ]
    # Celebrities whose every photo was skipped never reach the index: only the report knows them.
    known = set(celeb_ids)
    too_few += [
        {"celeb_id": cid, "n_faces": 0, "skipped_files": skipped_per_celeb.get(cid, 0), "image_ids": []}
        for cid in sorted(zero_face_celebs(report, skipped) - known)
    ]
    too_few.sort(key=lambda t: (t["n_faces"], t["celeb_id"]))

    celebs = {
        c["celeb_id"]: {"name": c.get("name", c["celeb_id"]), "n_faces": int(fit.counts[i])}
        for i, c in enumerate(index.celebs)
    }
    for entry in too_few:
        celebs.setdefault(entry["celeb_id"], {"name": entry["celeb_id"], "n_faces": 0})
    manifest = index.manifest
    return {
        "format": FINDINGS_FORMAT,
        "index": {
            "location": location,
            "version": index.version,
            "created_at": manifest.get("created_at"),
            "model": (manifest.get("model") or {}).get("id"),
            "dims": int(emb.shape[1]),
            "images": index.n_images,
            "celebrities": index.n_celebs,
        },
        "settings": asdict(settings),
        "summary": {
            "mislabeled": len(mislabeled),
            "duplicates_across": len(duplicates_across),
            "duplicates_within": len(duplicates_within),
            "duplicate_pairs_truncated": pairs.truncated,
            "too_few_faces": len(too_few),
            "single_photo_celebs_not_judged": int((fit.counts == 1).sum()),
            "skipped_files": len(skipped),
        },
        "celebs": celebs,
        "images": refs.table,
        "dimensions": dims,
        "principal_components": pcs,
        "spread": spread,
        "mislabeled": mislabeled,
        "duplicates_across": duplicates_across,
        "duplicates_within": duplicates_within,
        "too_few_faces": too_few,
        "skipped_files": skipped,
    }
