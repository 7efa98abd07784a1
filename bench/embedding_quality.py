"""Embedding quality of the build pipeline on LFW: crop margin and flip-averaging variants,
side by side with the plain margin-0 baseline, measured in one run.

Protocol (leave-one-out): every photo of a person with >= 2 photos is a probe; the gallery is
every other embedded photo of the whole LFW folder (people with one photo are distractors).
- rank-1: the probe's nearest other photo (cosine) shows the same person.
- verification ROC AUC: over all pairs of probe photos, same person vs different people.
Faces come from the build job's own detector and face rule (FaceDetector + choose_face), so
the numbers describe what `idealtype build` publishes. Detections are cached (they do not
depend on margin/flip); each margin costs one FaceNet pass over plain and mirrored crops.

    python bench/embedding_quality.py                       # whole LFW, margins 0,32,44 ± flip
    python bench/embedding_quality.py --max-people 300      # quick look
    python bench/embedding_quality.py --variants 0,32,32+flip --from-index /work/var/lfw-index \
        --boxes-from-index     # reuse an index's boxes and (plain) embeddings: 2 passes, not 4
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np
from build_bench_common import gallery_path, lfw_people, machine, write_result

from idealtype.build.face_embed import unit_rows as unit

BASELINE = {"margin": 0, "flip": False}
TARGETS = {"rank1": 0.89, "auc": 0.985}


def evaluation_set(gallery: Path, max_people: int | None) -> tuple[list[Path], np.ndarray]:
    """(photos, person index of each). With max_people: the first N people with >= 2 photos
    and no distractors (a quick subset)."""
    people = lfw_people(gallery)
    if max_people is not None:
        people = dict([kv for kv in people.items() if len(kv[1]) >= 2][:max_people])
    photos, labels = [], []
    for label, paths in enumerate(people.values()):
        photos.extend(paths)
        labels.extend([label] * len(paths))
    return photos, np.array(labels)


def detect_all(photos: list[Path], cache: Path, min_face_px: int) -> np.ndarray:
    """(n, 4) chosen face box per photo, NaN where no usable face. Cached on disk."""
    key = hashlib.sha256(("\n".join(map(str, photos)) + f"|{min_face_px}").encode()).hexdigest()
    path = cache / f"lfw-boxes-{key[:16]}.npy"
    if path.exists():
        return np.load(path)
    from PIL import Image
    from tqdm import tqdm

    from idealtype.build.face_detect import FaceDetector, choose_face

    detector = FaceDetector(batch_size=16)
    boxes = np.full((len(photos), 4), np.nan)
    step = 64
    for start in tqdm(range(0, len(photos), step), desc="detect", unit="batch"):
        images = [Image.open(p).convert("RGB") for p in photos[start : start + step]]
        for i, faces in enumerate(detector.detect(images)):
            face = choose_face(faces, min_face_px).face
            if face is not None:
                boxes[start + i] = face.box
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, boxes)
    return boxes


def embed_crops(
    photos: list[Path],
    boxes: np.ndarray,
    wanted: dict[int, set[str]],
    batch: int,
    bf16: bool,
) -> dict[tuple[int, str], np.ndarray]:
    """(margin, "plain"|"mirror") -> unit embeddings of the crops (or of their mirror images),
    computing only what `wanted` ({margin: {"plain", "mirror"}}) asks for."""
    import torch
    from PIL import Image
    from tqdm import tqdm

    from idealtype.build.face_crops import model_input
    from idealtype.build.face_embed import FaceEmbedder
    from idealtype.build.weights import load_facenet

    model, _ = load_facenet()
    embedder = FaceEmbedder(model, batch_size=batch, bf16=bf16)
    found = np.flatnonzero(~np.isnan(boxes[:, 0]))
    out = {
        (m, kind): np.zeros((len(photos), 512), np.float32)
        for m, kinds in wanted.items()
        for kind in kinds
    }
    step = 128
    for start in tqdm(range(0, len(found), step), desc=f"embed {wanted}", unit="batch"):
        rows = found[start : start + step]
        images = [Image.open(photos[r]).convert("RGB") for r in rows]
        for margin, kinds in wanted.items():
            crops = torch.stack(
                [model_input(im, tuple(boxes[r]), margin) for im, r in zip(images, rows)]
            )
            if "plain" in kinds:
                out[(margin, "plain")][rows] = embedder.embed_plain(crops)
            if "mirror" in kinds:
                out[(margin, "mirror")][rows] = embedder.embed_plain(torch.flip(crops, [3]))
    return out


def score(embeddings: np.ndarray, labels: np.ndarray, valid: np.ndarray) -> dict[str, float]:
    """Leave-one-out rank-1 and pairwise verification AUC over photos with a face."""
    emb = unit(embeddings[valid].astype(np.float32))
    lab = labels[valid]
    counts = np.bincount(lab)
    probe = counts[lab] >= 2
    hits = []
    for start in range(0, len(emb), 2048):
        sims = emb[start : start + 2048] @ emb.T
        np.fill_diagonal(sims[:, start : start + 2048], -np.inf)
        nearest = sims.argmax(1)
        hits.append(lab[nearest] == lab[start : start + 2048])
    hits = np.concatenate(hits)[probe]
    # AUC (Mann-Whitney) over all pairs of probe photos.
    p_emb, p_lab = emb[probe], lab[probe]
    sims = p_emb @ p_emb.T
    upper = np.triu_indices(len(p_emb), 1)
    pair_sims = sims[upper]
    same = p_lab[upper[0]] == p_lab[upper[1]]
    negatives = np.sort(pair_sims[~same])
    positives = pair_sims[same]
    below = np.searchsorted(negatives, positives, side="left")
    ties = np.searchsorted(negatives, positives, side="right") - below
    auc = float((below + 0.5 * ties).sum() / (len(positives) * len(negatives)))
    return {
        "rank1": round(float(hits.mean()), 4),
        "auc": round(auc, 5),
        "probes": int(probe.sum()),
        "images": len(emb),
        "pairs_same": len(positives),
        "pairs_different": len(negatives),
    }


def index_rows(index_dir: str, photos: list[Path], gallery: Path):
    """(index, row of each photo in it or -1)."""
    from idealtype.blobstore import open_store
    from idealtype.index_format import load_index

    index = load_index(open_store(index_dir))
    row_of = {image["source"]: row for row, image in enumerate(index.images)}
    rows = np.array([row_of.get(p.relative_to(gallery).as_posix(), -1) for p in photos])
    return index, rows


def parse_variant(text: str) -> tuple[int, bool]:
    margin, _, flip = text.strip().partition("+")
    if flip not in ("", "flip"):
        raise SystemExit(f"variant {text!r}: write MARGIN or MARGIN+flip")
    return int(margin), flip == "flip"


def index_settings(location: str, index) -> dict | None:
    """The build settings recorded in the index's report (None if absent)."""
    from idealtype.blobstore import open_store

    report = json.loads(open_store(location).get(f"index/{index.version}/report.json"))
    return report.get("settings")


def index_embeddings(index, rows: np.ndarray) -> np.ndarray:
    """Embeddings of a published index aligned to the photos (zeros where not indexed)."""
    out = np.zeros((len(rows), index.embeddings.shape[1]), np.float32)
    out[rows >= 0] = index.embeddings[rows[rows >= 0]]
    return out


def index_boxes(index, rows: np.ndarray) -> np.ndarray:
    """The face boxes the build job chose (same detector and rule as detect_all)."""
    boxes = np.full((len(rows), 4), np.nan)
    for i, row in enumerate(rows):
        if row >= 0:
            boxes[i] = index.images[row]["box"]
    return boxes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--gallery", help="LFW folder (default $IDEALTYPE_GALLERY or ../shared/data/lfw)"
    )
    parser.add_argument(
        "--variants",
        default="0,0+flip,32,32+flip,44,44+flip",
        help="comma list of MARGIN or MARGIN+flip (margin-0 no-flip is the baseline)",
    )
    parser.add_argument(
        "--max-people", type=int, help="quick subset: first N people with >= 2 photos"
    )
    parser.add_argument("--min-face", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--bf16", action="store_true", help="also score bfloat16 FaceNet (autocast)"
    )
    parser.add_argument("--from-index", help="also score the embeddings of this published index")
    parser.add_argument(
        "--boxes-from-index",
        action="store_true",
        help="take the face boxes from --from-index instead of running MTCNN again",
    )
    parser.add_argument("--cache", default=str(Path.home() / ".cache" / "idealtype" / "bench"))
    parser.add_argument("--out", default="embedding_quality.json")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    gallery = gallery_path(args.gallery)
    started = time.perf_counter()
    photos, labels = evaluation_set(gallery, args.max_people)
    print(f"{len(photos)} photos of {labels.max() + 1} people from {gallery}", flush=True)
    index = rows = None
    if args.from_index:
        index, rows = index_rows(args.from_index, photos, gallery)
    if index is not None and args.boxes_from_index:
        boxes = index_boxes(index, rows)
    else:
        boxes = detect_all(photos, Path(args.cache), args.min_face)
    valid = ~np.isnan(boxes[:, 0])
    print(f"faces found in {valid.sum()} of {len(photos)} photos", flush=True)

    variants = []
    requested = [parse_variant(v) for v in args.variants.split(",")]
    reused: dict[tuple[int, str], np.ndarray] = {}
    if index is not None and not args.bf16:
        settings = index_settings(args.from_index, index)
        if settings and not settings.get("flip_average"):
            # the index already holds the plain embeddings of its own margin
            reused[(settings["margin"], "plain")] = index_embeddings(index, rows)
    for bf16 in [False, True] if args.bf16 else [False]:
        wanted: dict[int, set[str]] = {}
        for margin, flip in requested:
            for kind in ("plain", "mirror") if flip else ("plain",):
                if bf16 or (margin, kind) not in reused:
                    wanted.setdefault(margin, set()).add(kind)
        embedded = {
            **({} if bf16 else reused),
            **embed_crops(photos, boxes, wanted, args.batch_size, bf16),
        }
        for margin, flip in requested:
            emb = embedded[(margin, "plain")]
            if flip:
                emb = unit(emb) + unit(embedded[(margin, "mirror")])
            row = {"margin": margin, "flip": flip, "precision": "bf16" if bf16 else "fp32"}
            if not bf16 and (margin, "plain") in reused:
                row["plain_embeddings"] = "from the index"
            row.update(score(emb, labels, valid))
            variants.append(row)
            print(json.dumps(row), flush=True)
    fp32 = [v for v in variants if v["precision"] == "fp32"]
    baseline = next(v for v in fp32 if v["margin"] == 0 and not v["flip"])
    best = max(fp32, key=lambda v: (v["rank1"] + v["auc"], v["auc"]))
    result = {
        "protocol": "leave-one-out over LFW photos; probes = people with >= 2 photos; gallery "
        "= all other photos" + (" (subset, no distractors)" if args.max_people else ""),
        "gallery": str(gallery),
        "photos": len(photos),
        "faces_found": int(valid.sum()),
        "boxes": f"from index {args.from_index}" if args.boxes_from_index else "detected here",
        "targets": TARGETS,
        "baseline": baseline,
        "best": best,
        "best_vs_baseline": {
            "rank1": round(best["rank1"] - baseline["rank1"], 4),
            "auc": round(best["auc"] - baseline["auc"], 5),
        },
        "meets_targets": best["rank1"] >= TARGETS["rank1"] and best["auc"] >= TARGETS["auc"],
        "variants": variants,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(),
    }
    if index is not None:
        emb = index_embeddings(index, rows)
        in_index = np.abs(emb).sum(1) > 0
        result["index"] = {"location": args.from_index, **score(emb, labels, in_index)}
        print("index:", json.dumps(result["index"]))
    print(f"baseline margin 0: rank-1 {baseline['rank1']:.4f}  AUC {baseline['auc']:.5f}")
    print(
        f"best margin {best['margin']} flip {best['flip']}: rank-1 {best['rank1']:.4f}  "
        f"AUC {best['auc']:.5f}  (targets {TARGETS['rank1']} / {TARGETS['auc']})"
    )
    write_result(args.out, result)


if __name__ == "__main__":
    main()
