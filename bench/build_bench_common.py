"""Shared bits of the build benchmarks: where the LFW gallery is, where results go."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
DEFAULT_GALLERY = REPO.parent / "shared" / "data" / "lfw"


def gallery_path(flag: str | None) -> Path:
    """--gallery, else $IDEALTYPE_GALLERY, else ../shared/data/lfw; exits with a clear message
    when the folder is absent (a fresh clone has no ../shared)."""
    path = Path(flag or os.environ.get("IDEALTYPE_GALLERY") or DEFAULT_GALLERY)
    if not path.is_dir():
        sys.exit(
            f"gallery folder {path} not found. Give one with --gallery PATH or IDEALTYPE_GALLERY "
            "(one folder per person, e.g. LFW deep-funneled: scikit-learn's fetch_lfw_people "
            "downloads it when online)."
        )
    return path


def lfw_people(gallery: Path) -> dict[str, list[Path]]:
    """person folder -> sorted photo paths."""
    people = {}
    for folder in sorted(p for p in gallery.iterdir() if p.is_dir()):
        photos = sorted(
            p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")
        )
        if photos:
            people[folder.name] = photos
    return people


def machine() -> dict[str, Any]:
    import torch

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "load_average_at_start": os.getloadavg(),
    }


def write_result(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {path}")
    return path
