"""Writes the explorer's static report: index.html + explore.js/.css (package assets), data.js
(the findings as a script, since browsers refuse fetch() on file:// pages), findings.json, and
the face crops the findings mention under faces/, so DIR opens from disk or any static host."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any

from ..blobstore import BlobNotFound, BlobStore

ASSETS = ("index.html", "explore.js", "explore.css")
SAFE_ID = re.compile(r"^[A-Za-z0-9_.-]+$")
FETCH_THREADS = 16  # crops are small objects; S3 latency, not bandwidth, is the limit


def copy_crops(store: BlobStore, images: dict[str, dict[str, Any]], faces_dir: Path) -> list[str]:
    """Copy each mentioned crop to faces/<image_id>.jpg; returns the image ids with no crop."""
    faces_dir.mkdir(parents=True, exist_ok=True)

    def copy(item: tuple[str, dict[str, Any]]) -> str | None:
        image_id, image = item
        if not SAFE_ID.match(image_id) or image_id.startswith("."):
            raise ValueError(f"image_id {image_id!r} is not usable as a file name")
        target = faces_dir / f"{image_id}.jpg"
        try:
            data = store.get(image["crop"])
        except BlobNotFound:
            return image_id
        target.write_bytes(data)
        return None

    with ThreadPoolExecutor(FETCH_THREADS) as pool:
        return [m for m in pool.map(copy, images.items()) if m is not None]


def write_report(out_dir: Path, findings: dict[str, Any], store: BlobStore) -> dict[str, Any]:
    """Write the report into `out_dir` (created if needed; other files there are left alone)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    missing = copy_crops(store, findings["images"], out_dir / "faces")
    findings["summary"]["missing_crops"] = len(missing)
    text = json.dumps(findings, ensure_ascii=False, separators=(",", ":"))
    (out_dir / "findings.json").write_text(text, encoding="utf-8")
    (out_dir / "data.js").write_text(f"window.EXPLORE_DATA = {text};\n", encoding="utf-8")
    assets = resources.files(__package__) / "assets"
    for name in ASSETS:
        (out_dir / name).write_bytes((assets / name).read_bytes())
    return {"index_html": out_dir / "index.html", "missing_crops": missing}
