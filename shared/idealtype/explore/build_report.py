"""Reading the build job's report.json (index/<version>/report.json) for what never reached the
index: skipped files and the celebrities left with no usable face. Read leniently: the report is
for people, so a missing or older report only means these sections stay empty."""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any

from ..blobstore import BlobNotFound, BlobStore
from ..index_format import version_prefix

SOURCE_KEYS = ("source", "key", "path", "file")


def celeb_of_source(source: str) -> str:
    """Galleries are one folder per celebrity, so a photo's folder name is its celeb id."""
    return PurePosixPath(str(source).replace("\\", "/")).parent.name


def skipped_item(raw: Any, reason: str = "") -> dict[str, Any]:
    if not isinstance(raw, dict):
        return {"source": str(raw), "reason": reason, "celeb_id": celeb_of_source(str(raw))}
    source = next((str(raw[k]) for k in SOURCE_KEYS if raw.get(k)), "")
    item = {
        "source": source,
        "reason": str(raw.get("reason") or reason),
        "celeb_id": str(raw.get("celeb_id") or celeb_of_source(source)),
    }
    if raw.get("detail"):
        item["detail"] = str(raw["detail"])
    return item


def skipped_files(report: dict[str, Any]) -> list[dict[str, Any]]:
    """`skipped` as a list of {source, reason, ...} or as {reason: [sources]}."""
    raw = report.get("skipped") or report.get("skipped_files") or []
    if isinstance(raw, dict):
        return [skipped_item(s, str(reason)) for reason, items in raw.items() for s in items]
    return [skipped_item(s) for s in raw]


def zero_face_celebs(report: dict[str, Any], skipped: list[dict[str, Any]]) -> set[str]:
    """Celebrities the build saw but indexed no face of. The build job's summary lists them
    (`celebrities_without_faces`, `per_celeb` with `indexed` counts); for a report without
    them, every folder with a skipped file is a candidate and the caller drops those that made
    it into the index."""
    summary = report.get("summary") if isinstance(report.get("summary"), dict) else {}
    listed = summary.get("celebrities_without_faces")
    per_celeb = summary.get("per_celeb")
    if isinstance(listed, list) or isinstance(per_celeb, dict):
        names = {str(c) for c in listed or []}
        for celeb_id, counts in (per_celeb or {}).items():
            if isinstance(counts, dict) and counts.get("indexed") == 0:
                names.add(str(celeb_id))
        return names
    return {item["celeb_id"] for item in skipped if item.get("celeb_id")}


def read_build_report(store: BlobStore, version: str) -> dict[str, Any]:
    try:
        report = json.loads(store.get(version_prefix(version) + "report.json"))
    except (BlobNotFound, ValueError):
        return {}
    return report if isinstance(report, dict) else {}
