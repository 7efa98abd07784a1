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
from .label_checks import LabelFit, celeb_spread, fit_labels, photo_suspects

FINDINGS_FORMAT = "idealtype-explore/1"


@dataclass
class ExploreSettings:
    """Defaults calibrated on LFW (10,055 photos, 4,600 people) with the CASIA-WebFace FaceNet:
    same-person photo pairs have median cos 0.74 (5th percentile 0.44), different people 0.05
    (99.99th percentile 0.60); a photo's best unrelated celebrity centroid has median 0.55."""

    per_side: int = 6  # faces shown at each end of an axis
    components: int = 32  # principal components shown
    # A photo is unlike its celebrity below this cos to the others' mean (leave-one-out). On LFW
    # the photos under 0.3 are 3/4 group photos where another face was indexed; above 0.3 the
    # share of group photos falls back to the gallery's 15%.
    mislabel_own_max: float = 0.3
    # ...and likely mislabeled if another celebrity matches it like a genuine same-person match
    # would (≥ 0.6, above 90% of photos' best unrelated centroid) by at least this margin.
    mislabel_other_min: float = 0.6
    mislabel_margin: float = 0.1
    # One picture filed under two people: different people's photos never reached 0.9 on LFW
    # (all 8 LFW pairs above it are the same picture), so 0.9 is safe across people...
    duplicate_across_threshold: float = 0.90
    # ...while one person's photos of one moment reach 0.92-0.95: within a person, only ≥ 0.95
    # (burst shots and re-saved copies) counts as a duplicate.
    duplicate_within_threshold: float = 0.95
    # Two celebrities whose centroids are this close are likely one person under two names
    # (LFW: Sepp/Joseph Blatter 0.85, Talisa Soto/Bratt 0.79) or hold each other's photos.
    same_person_threshold: float = 0.78
    # A suspect from a photo with several faces, or whose indexed box lies this much outside the
    # frame, may simply have had the wrong face indexed: the suggestion says so.
    wrong_face_box_outside: float = 0.25
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


def box_outside_fraction(image: dict[str, Any]) -> float | None:
    """Share of the indexed face box outside the photo (a half face cut by the frame)."""
    box, size = image.get("box"), image.get("size")
    if not box or not size or len(box) != 4 or len(size) != 2:
        return None
    x1, y1, x2, y2 = (float(v) for v in box)
    area = (x2 - x1) * (y2 - y1)
    if area <= 0:
        return None
    inside = max(0.0, min(x2, size[0]) - max(x1, 0.0)) * max(0.0, min(y2, size[1]) - max(y1, 0.0))
    return 1 - inside / area


def face_pick_hints(image: dict[str, Any]) -> dict[str, Any]:
    """What the build recorded about choosing this face (present only when worth a look)."""
    hints: dict[str, Any] = {}
    if int(image.get("faces") or 1) > 1:
        hints["faces_in_photo"] = int(image["faces"])
    outside = box_outside_fraction(image)
    if outside is not None and outside >= 0.05:
        hints["box_outside"] = round(outside, 3)
    return hints


def axis_entries(
    refs: ImageRefs, values: np.ndarray, extremes: list[AxisExtremes]
) -> list[dict[str, Any]]:
    def faces(column: np.ndarray, rows: list[int]) -> list[dict[str, Any]]:
        return [{"image_id": refs.ref(r), "value": rounded(column[r])} for r in rows]

    return [
        {
            "index": axis,
            "mean": rounded(values[:, axis].mean()),
            "std": rounded(values[:, axis].std()),
            "low": faces(values[:, axis], ends.low_rows),
            "high": faces(values[:, axis], ends.high_rows),
        }
        for axis, ends in enumerate(extremes)
    ]


def nearest_rows(target: np.ndarray, rows: np.ndarray, embeddings: np.ndarray, k: int) -> list[int]:
    sims = embeddings[rows] @ target
    return [int(r) for r in rows[np.argsort(-sims, kind="stable")[:k]]]


class FindingsBuilder:
    def __init__(self, index: GalleryIndex, settings: ExploreSettings):
        self.index = index
        self.settings = settings
        self.emb = normalize_rows(np.asarray(index.embeddings, dtype=np.float32))  # float16 too
        self.celeb_of_row = index.image_celeb.astype(np.int64)
        self.celeb_ids = [c["celeb_id"] for c in index.celebs]
        self.rows_of_celeb = [np.asarray(c["rows"], dtype=np.int64) for c in index.celebs]
        self.refs = ImageRefs(index)
        self.fit: LabelFit = fit_labels(self.emb, self.celeb_of_row, index.n_celebs)

    def axes(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        s, refs, celeb = self.settings, self.refs, self.celeb_of_row
        dims = axis_entries(refs, self.emb, axis_extremes(self.emb, celeb, s.per_side))
        pca = principal_components(self.emb, s.components)
        pcs = axis_entries(refs, pca.projections, axis_extremes(pca.projections, celeb, s.per_side))
        for entry, ratio in zip(pcs, pca.explained_ratio):
            entry["explained_variance_ratio"] = rounded(ratio, 5)
        return dims, pcs

    def spread(self) -> list[dict[str, Any]]:
        return [
            {
                "celeb_id": self.celeb_ids[s.celeb],
                "n_faces": s.n_faces,
                "spread": rounded(s.spread),
                "outliers": [
                    {
                        "image_id": self.refs.ref(r),
                        "own_similarity": rounded(self.fit.own_similarity[r]),
                    }
                    for r in s.outlier_rows
                ],
            }
            for s in celeb_spread(self.emb, self.celeb_of_row, self.fit, self.settings.outliers)
        ]

    def photo_suspect(self, row: int, with_other: bool) -> dict[str, Any]:
        fit, k = self.fit, self.settings.examples
        own, other = int(self.celeb_of_row[row]), int(fit.other_celeb[row])
        own_rows = self.rows_of_celeb[own][self.rows_of_celeb[own] != row]
        entry = {
            "image_id": self.refs.ref(row),
            "celeb_id": self.celeb_ids[own],
            "own_similarity": rounded(fit.own_similarity[row]),
            "other_celeb_id": self.celeb_ids[other],
            "other_similarity": rounded(fit.other_similarity[row]),
            "own_examples": [
                self.refs.ref(r) for r in nearest_rows(self.emb[row], own_rows, self.emb, k)
            ],
            **face_pick_hints(self.index.images[row]),
        }
        if with_other:
            entry["margin"] = rounded(fit.other_similarity[row] - fit.own_similarity[row])
            entry["other_examples"] = [
                self.refs.ref(r)
                for r in nearest_rows(self.emb[row], self.rows_of_celeb[other], self.emb, k)
            ]
        return entry

    def wrong_face_suspected(self, row: int) -> bool:
        hints = face_pick_hints(self.index.images[row])
        return bool(hints.get("faces_in_photo")) or (
            hints.get("box_outside", 0) >= self.settings.wrong_face_box_outside
        )

    def explained_by_partner(self, row: int, flagged: set[int]) -> bool:
        """A celebrity with two photos, one of them a wrong face from a group photo: both look
        unlike "the others", but only the group photo is the problem, so the clean one is not
        reported (on LFW this removed most false "move" suggestions)."""
        rows = self.rows_of_celeb[self.celeb_of_row[row]]
        if len(rows) != 2:
            return False
        partner = int(rows[0] if rows[1] == row else rows[1])
        return (
            partner in flagged
            and self.wrong_face_suspected(partner)
            and not self.wrong_face_suspected(row)
        )

    def photo_suspects(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
        s = self.settings
        mislabeled, unlike = photo_suspects(
            self.fit, s.mislabel_own_max, s.mislabel_other_min, s.mislabel_margin
        )
        flagged = {int(r) for r in mislabeled} | {int(r) for r in unlike}
        explained = {r for r in flagged if self.explained_by_partner(r, flagged)}
        return (
            [self.photo_suspect(int(r), with_other=True) for r in mislabeled if r not in explained],
            [self.photo_suspect(int(r), with_other=False) for r in unlike if r not in explained],
            len(explained),
        )

    def duplicates(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool]:
        s, fit, celeb = self.settings, self.fit, self.celeb_of_row
        pairs = near_duplicate_pairs(
            self.emb,
            min(s.duplicate_across_threshold, s.duplicate_within_threshold),
            s.max_duplicate_pairs,
        )
        across, within = [], []
        for (a, b), sim in zip(pairs.rows, pairs.similarity):
            same = celeb[a] == celeb[b]
            if sim < (s.duplicate_within_threshold if same else s.duplicate_across_threshold):
                continue
            (within if same else across).append(
                {
                    "image_ids": [self.refs.ref(a), self.refs.ref(b)],
                    "celeb_ids": [self.celeb_ids[celeb[a]], self.celeb_ids[celeb[b]]],
                    "similarity": rounded(sim),
                    "own_similarity": [
                        rounded(fit.own_similarity[a]),
                        rounded(fit.own_similarity[b]),
                    ],
                }
            )
        return across, within, pairs.truncated

    def same_person(self, across: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Celebrity pairs with near centroids, except those a shared picture already explains."""
        explained = {frozenset(d["celeb_ids"]) for d in across}
        pairs = near_duplicate_pairs(
            self.fit.centroids,
            self.settings.same_person_threshold,
            self.settings.max_duplicate_pairs,
        )
        result = []
        for (a, b), sim in zip(pairs.rows, pairs.similarity):
            ids = [self.celeb_ids[a], self.celeb_ids[b]]
            if frozenset(ids) in explained:
                continue
            examples = [  # each side's photos most like the other side: the evidence
                [
                    self.refs.ref(r)
                    for r in nearest_rows(
                        self.fit.centroids[o],
                        self.rows_of_celeb[c],
                        self.emb,
                        self.settings.examples,
                    )
                ]
                for c, o in ((a, b), (b, a))
            ]
            result.append(
                {
                    "celeb_ids": ids,
                    "similarity": rounded(sim),
                    "n_faces": [int(self.fit.counts[a]), int(self.fit.counts[b])],
                    "examples": examples,
                }
            )
        return result

    def too_few(
        self, report: dict[str, Any], skipped: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        skipped_per_celeb: dict[str, int] = {}
        for item in skipped:
            celeb = item.get("celeb_id") or celeb_of_source(item.get("source", ""))
            skipped_per_celeb[celeb] = skipped_per_celeb.get(celeb, 0) + 1
        few = [
            {
                "celeb_id": self.celeb_ids[c],
                "n_faces": int(self.fit.counts[c]),
                "skipped_files": skipped_per_celeb.get(self.celeb_ids[c], 0),
                "image_ids": [self.refs.ref(r) for r in self.rows_of_celeb[c]],
            }
            for c in np.flatnonzero(self.fit.counts < self.settings.min_faces)
        ]
        # Celebrities whose every photo was skipped never reach the index: only the report knows.
        few += [
            {
                "celeb_id": cid,
                "n_faces": 0,
                "skipped_files": skipped_per_celeb.get(cid, 0),
                "image_ids": [],
            }
            for cid in sorted(zero_face_celebs(report, skipped) - set(self.celeb_ids))
        ]
        few.sort(key=lambda t: (t["n_faces"], t["celeb_id"]))
        return few


def compute_findings(
    index: GalleryIndex,
    report: dict[str, Any] | None = None,
    settings: ExploreSettings | None = None,
    location: str = "",
) -> dict[str, Any]:
    settings = settings or ExploreSettings()
    report = report or {}
    build = FindingsBuilder(index, settings)
    dims, pcs = build.axes()
    mislabeled, unlike, explained = build.photo_suspects()
    across, within, truncated = build.duplicates()
    same_person = build.same_person(across)
    skipped = skipped_files(report)
    too_few = build.too_few(report, skipped)

    celebs = {
        c["celeb_id"]: {"name": c.get("name", c["celeb_id"]), "n_faces": int(build.fit.counts[i])}
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
            "dims": int(build.emb.shape[1]),
            "images": index.n_images,
            "celebrities": index.n_celebs,
        },
        "settings": asdict(settings),
        "summary": {
            "mislabeled": len(mislabeled),
            "unlike_own": len(unlike),
            "suspects_explained_by_partner": explained,
            "duplicates_across": len(across),
            "duplicates_within": len(within),
            "duplicate_pairs_truncated": truncated,
            "same_person": len(same_person),
            "too_few_faces": len(too_few),
            "single_photo_celebs_not_judged": int((build.fit.counts == 1).sum()),
            "skipped_files": len(skipped),
        },
        "celebs": celebs,
        "images": build.refs.table,
        "dimensions": dims,
        "principal_components": pcs,
        "spread": build.spread(),
        "mislabeled": mislabeled,
        "unlike_own": unlike,
        "duplicates_across": across,
        "duplicates_within": within,
        "same_person": same_person,
        "too_few_faces": too_few,
        "skipped_files": skipped,
    }
