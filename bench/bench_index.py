"""Synthetic indexes for the serving benchmarks, cached under var/bench/ (built once: a
100k-celebrity index takes a while to publish)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from idealtype.blobstore import LocalBlobStore
from idealtype.index_format import IndexNotFound, latest_version
from idealtype.synthetic import make_synthetic_index

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "var" / "bench"
RESULTS = REPO / "bench" / "results"


def synthetic_index_dir(n_celebs: int, images_per_celeb: int, dtype: str = "float32") -> Path:
    """Folder of a published synthetic index (n_celebs x images_per_celeb, 512-d)."""
    root = CACHE / f"synthetic-{n_celebs}x{images_per_celeb}-{dtype}"
    store = LocalBlobStore(root)
    try:
        latest_version(store)
    except IndexNotFound:
        started = time.perf_counter()
        print(f"building synthetic index {root.name} (cached for next runs) ...", flush=True)
        make_synthetic_index(store, n_celebs, images_per_celeb, dtype=dtype)
        print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)
    return root


def write_report(path: Path, report: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {path}")
