"""Writer stage: merge the shards' checkpoint parts into one index and publish it.

A one-process build is the same code with one shard, so "shards merged" and "single run" are
equal by construction (bench/shard_merge.py checks it with real processes). Duplicates
across shards are settled here: rows are taken in sorted source order and the first photo
with a given image_id wins, exactly as a single run's in-order duplicate check decides.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict
from typing import Any

import numpy as np

from idealtype.blobstore import BlobNotFound, BlobStore
from idealtype.build.build_settings import BuildSettings
from idealtype.build.face_embed import EMBEDDING_DIMS
from idealtype.build.gallery_source import list_gallery, read_celeb_info, select_subset, shard_of
from idealtype.build.shard_runner import Part, keys_sha
from idealtype.index_format import publish_index

IMAGE_FIELDS = ("image_id", "celeb_id", "source", "box", "prob", "crop", "faces", "size")
_DONE = re.compile(r"shard-(\d+)-of-(\d+)/done\.json$")


class MergeError(RuntimeError):
    """The shards cannot be merged (missing, unfinished, or built from another listing)."""


def complete_shard_count(dest: BlobStore, settings: BuildSettings) -> int:
    """The n of the one shard set (i of n) whose every shard has finished."""
    done: dict[int, set[int]] = {}
    for key in dest.list(settings.work_prefix()):
        match = _DONE.search(key)
        if match:
            done.setdefault(int(match.group(2)), set()).add(int(match.group(1)))
    complete = sorted(n for n, shards in done.items() if shards == set(range(n)))
    if len(complete) == 1:
        return complete[0]
    if not complete:
        missing = {n: sorted(set(range(n)) - shards) for n, shards in done.items()}
        raise MergeError(
            f"no complete shard set under {dest.location}/{settings.work_prefix()} "
            f"(unfinished: {missing or 'none started'}); run the missing shards first"
        )
    raise MergeError(f"complete shard sets for n={complete}; say which with --shards N")


def load_shard_parts(
    source: BlobStore, dest: BlobStore, settings: BuildSettings, n_shards: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(every photo's record with its embedding attached, files the listing ignored)."""
    listing = list_gallery(source)
    items = select_subset(listing.items, limit=settings.limit, max_per_celeb=settings.max_per_celeb)
    by_shard: dict[int, list] = {i: [] for i in range(n_shards)}
    for item in items:
        by_shard[shard_of(item.source, n_shards)].append(item)
    records: list[dict[str, Any]] = []
    ignored: list[dict[str, Any]] = []
    for shard in range(n_shards):
        prefix = settings.shard_prefix(shard, n_shards)
        try:
            done = json.loads(dest.get(prefix + "done.json"))
        except BlobNotFound:
            raise MergeError(f"shard {shard} of {n_shards} has not finished") from None
        if not done.get("finished"):
            raise MergeError(f"shard {shard} of {n_shards} is still running or was interrupted")
        mine = by_shard[shard]
        if done["items_sha"] != keys_sha(mine):
            raise MergeError(
                f"shard {shard} of {n_shards} was built from a different photo list than the "
                "gallery has now; run it again (with --resume to keep what still matches)"
            )
        ignored.extend(done.get("ignored", []))
        size = settings.chunk_size
        for k in range(done["parts"]):
            chunk = mine[k * size : (k + 1) * size]
            try:
                part, sha = Part.from_bytes(dest.get(f"{prefix}part-{k:05d}.npz"))
            except (BlobNotFound, ValueError, KeyError, OSError):
                sha = None
            if sha != keys_sha(chunk):
                raise MergeError(
                    f"part {k} of shard {shard} is missing, damaged or not from its photo list; "
                    f"run the shard again with --resume (it recomputes only such parts)"
                )
            for record in part.records:
                if record["status"] == "indexed":
                    record["embedding"] = part.embeddings[record.pop("row")]
                records.append(record)
    return records, ignored


def settle_duplicates(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sorted by source; a later photo with the bytes of an earlier one becomes a duplicate."""
    records = sorted(records, key=lambda r: r["source"])
    first: dict[str, str] = {}
    for record in records:
        image_id = record.get("image_id")
        if image_id is None:
            continue
        if image_id in first:
            record.update(
                status="skipped", reason="duplicate", detail=f"same bytes as {first[image_id]}"
            )
            for key in ("embedding", "box", "prob", "crop", "faces"):
                record.pop(key, None)
        else:
            first[image_id] = record["source"]
    return records


def build_report(
    records: list[dict[str, Any]],
    ignored: list[dict[str, Any]],
    settings: BuildSettings,
    n_shards: int,
    csv_problems: list[str],
) -> dict[str, Any]:
    skipped = Counter(r["reason"] for r in records if r["status"] == "skipped")
    skipped.update(entry["reason"] for entry in ignored)
    handled = Counter(
        note.split(":")[0]
        for r in records
        if r["status"] == "indexed"
        for note in r.get("notes", [])
    )
    per_celeb: dict[str, dict[str, int]] = {}
    for record in records:
        counts = per_celeb.setdefault(record["celeb_id"], {"indexed": 0, "skipped": 0})
        counts["indexed" if record["status"] == "indexed" else "skipped"] += 1
    decode_failures = {"empty_file", "not_an_image", "too_many_pixels", "truncated", "unreadable"}
    summary = {
        "files_listed": len(records) + len(ignored),
        "images_read": sum(
            1 for r in records if r["status"] == "indexed" or r["reason"] not in decode_failures
        ),
        "faces_found": sum(1 for r in records if r["status"] == "indexed"),
        "skipped": sum(skipped.values()),
        "skipped_by_reason": dict(sorted(skipped.items())),
        "handled_by_note": dict(sorted(handled.items())),
        "celebrities": sum(1 for c in per_celeb.values() if c["indexed"]),
        "celebrities_without_faces": sorted(k for k, c in per_celeb.items() if not c["indexed"]),
        "per_celeb": dict(sorted(per_celeb.items())),
    }
    return {
        "summary": summary,
        "skipped": [
            {"source": r["source"], "reason": r["reason"], "detail": r.get("detail", "")}
            for r in records
            if r["status"] == "skipped"
        ]
        + ignored,
        "handled": [
            {"source": r["source"], "notes": r["notes"]}
            for r in records
            if r["status"] == "indexed" and r.get("notes")
        ],
        "celebs_csv_problems": csv_problems,
        "settings": {**asdict(settings), "n_shards": n_shards},
    }


def merge_and_publish(
    source: BlobStore,
    dest: BlobStore,
    settings: BuildSettings,
    *,
    n_shards: int | None = None,
    dtype: str = "float32",
) -> tuple[str, dict[str, Any]]:
    """Merge finished shards, publish the index (LATEST switches after verification).
    Returns (version, report)."""
    n_shards = n_shards or complete_shard_count(dest, settings)
    records, ignored = load_shard_parts(source, dest, settings, n_shards)
    records = settle_duplicates(records)
    indexed = [r for r in records if r["status"] == "indexed"]
    if not indexed:
        raise MergeError("no face was found in any photo; nothing to publish")
    embeddings = np.stack([r["embedding"] for r in indexed]).astype(np.float32)
    assert embeddings.shape[1] == EMBEDDING_DIMS
    images = [{key: r[key] for key in IMAGE_FIELDS if key in r} for r in indexed]
    celeb_info, csv_problems = read_celeb_info(source)
    report = build_report(records, ignored, settings, n_shards, csv_problems)
    version = publish_index(
        dest,
        embeddings,
        images,
        model_id=settings.manifest_model_id,
        weights_sha256=settings.weights_sha256,
        celeb_info=celeb_info,
        report=report,
        dtype=dtype,
    )
    return version, report
