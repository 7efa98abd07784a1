"""The versioned gallery index: writing (publish) and reading (load + verify).

Layout under a blob store root (see DESIGN.md):
    index/<version>/manifest.json   format_version, model, dims, counts, per-file sha256, report
    index/<version>/embeddings.npy  (n_images, 512) float32|float16, rows L2-normalized
    index/<version>/images.json     per row: image_id, celeb_id, source, box, prob, crop
    index/<version>/celebs.json     per celebrity: celeb_id, name, tags, rows
    index/<version>/centroids.npy   (n_celebs, 512) float32, normalized mean of the celeb's rows
    index/<version>/clusters.npy    (n_celebs,) int32 k-means label of each centroid
    index/<version>/report.json     the full build report
    index/LATEST                    the current version id, switched only after verification
    faces/<image_id>.jpg            display crops, shared across versions (content-addressed)
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from .blobstore import BlobStore
from .kmeans import kmeans

FORMAT_VERSION = 1
LATEST_KEY = "index/LATEST"
ARRAY_FILES = ("embeddings.npy", "centroids.npy", "clusters.npy")
JSON_FILES = ("images.json", "celebs.json", "report.json")


class IndexError_(Exception):
    """Base for index problems (named with a trailing underscore to not shadow IndexError)."""


class IndexNotFound(IndexError_):
    pass


class IndexCorrupt(IndexError_):
    """A file is missing, its checksum does not match, or the format is not understood."""


def version_prefix(version: str) -> str:
    return f"index/{version}/"


def face_crop_key(image_id: str) -> str:
    return f"faces/{image_id}.jpg"


def new_version_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def normalize_rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


@dataclass
class GalleryIndex:
    """A loaded, verified index. Arrays are read-only; row i of `embeddings` is `images[i]`."""

    version: str
    manifest: dict[str, Any]
    embeddings: np.ndarray
    images: list[dict[str, Any]]
    celebs: list[dict[str, Any]]
    centroids: np.ndarray
    clusters: np.ndarray
    image_celeb: np.ndarray = field(init=False)  # (n_images,) celebrity row of each image
    image_row: dict[str, int] = field(init=False)  # image_id -> row
    celeb_row: dict[str, int] = field(init=False)  # celeb_id -> row

    def __post_init__(self) -> None:
        self.celeb_row = {c["celeb_id"]: i for i, c in enumerate(self.celebs)}
        self.image_row = {im["image_id"]: i for i, im in enumerate(self.images)}
        self.image_celeb = np.array(
            [self.celeb_row[im["celeb_id"]] for im in self.images], dtype=np.int32
        )

    @property
    def n_images(self) -> int:
        return len(self.images)

    @property
    def n_celebs(self) -> int:
        return len(self.celebs)


def build_celebs(
    embeddings: np.ndarray,
    images: list[dict[str, Any]],
    celeb_info: dict[str, dict[str, Any]] | None = None,
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Group image rows by celeb_id (sorted) and compute normalized centroids.

    `celeb_info` maps celeb_id -> {"name": ..., "tags": {...}} (from celebs.csv); missing
    names fall back to the folder name with underscores as spaces.
    """
    celeb_info = celeb_info or {}
    rows_by_celeb: dict[str, list[int]] = {}
    for row, image in enumerate(images):
        rows_by_celeb.setdefault(image["celeb_id"], []).append(row)
    celebs = []
    centroids = np.zeros((len(rows_by_celeb), embeddings.shape[1]), dtype=np.float32)
    emb32 = np.asarray(embeddings, dtype=np.float32)
    for i, celeb_id in enumerate(sorted(rows_by_celeb)):
        rows = rows_by_celeb[celeb_id]
        info = celeb_info.get(celeb_id, {})
        celebs.append(
            {
                "celeb_id": celeb_id,
                "name": info.get("name") or celeb_id.replace("_", " "),
                "tags": dict(info.get("tags") or {}),
                "rows": rows,
            }
        )
        centroids[i] = emb32[rows].mean(0)
    return celebs, normalize_rows(centroids) if len(celebs) else centroids


def default_cluster_count(n_celebs: int) -> int:
    # About sqrt(n/2) clusters, bounded so a round of up to 6 faces can draw from distinct clusters.
    return int(min(64, max(6, round((n_celebs / 2) ** 0.5)))) if n_celebs else 0


def publish_index(
    store: BlobStore,
    embeddings: np.ndarray,
    images: list[dict[str, Any]],
    *,
    model_id: str,
    weights_sha256: str,
    celeb_info: dict[str, dict[str, Any]] | None = None,
    report: dict[str, Any] | None = None,
    dtype: str = "float32",
    version: str | None = None,
    n_clusters: int | None = None,
) -> str:
    """Write a complete index version, verify it by reading it back, then switch LATEST.

    `images[i]` describes `embeddings[i]`; each needs image_id and celeb_id (plus source, box,
    prob, crop as produced by the build job). Returns the version id.
    """
    if dtype not in ("float32", "float16"):
        raise ValueError("dtype must be float32 or float16")
    embeddings = normalize_rows(embeddings)
    if embeddings.shape[0] != len(images):
        raise ValueError(f"{embeddings.shape[0]} embeddings but {len(images)} image records")
    if len({im["image_id"] for im in images}) != len(images):
        raise ValueError("image_id values must be unique")
    celebs, centroids = build_celebs(embeddings, images, celeb_info)
    clusters = kmeans(centroids, n_clusters or default_cluster_count(len(celebs)), seed=0)
    version = version or new_version_id()
    report = report or {}

    blobs = {
        "embeddings.npy": npy_bytes(embeddings.astype(dtype)),
        "centroids.npy": npy_bytes(centroids),
        "clusters.npy": npy_bytes(clusters),
        "images.json": json.dumps(images, ensure_ascii=False).encode(),
        "celebs.json": json.dumps(celebs, ensure_ascii=False).encode(),
        "report.json": json.dumps(report, ensure_ascii=False, indent=1).encode(),
    }
    prefix = version_prefix(version)
    for name, data in blobs.items():
        store.put(prefix + name, data, "application/json" if name.endswith(".json") else None)
    manifest = {
        "format_version": FORMAT_VERSION,
        "version": version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": {"id": model_id, "weights_sha256": weights_sha256},
        "dims": int(embeddings.shape[1]),
        "dtype": dtype,
        "counts": {
            "images": len(images),
            "celebrities": len(celebs),
            "clusters": int(clusters.max() + 1) if len(clusters) else 0,
        },
        "files": {name: {"sha256": sha256(data), "bytes": len(data)} for name, data in blobs.items()},
        "report_summary": report.get("summary", {}),
    }
    store.put(prefix + "manifest.json", json.dumps(manifest, indent=1).encode(), "application/json")
    load_index(store, version)  # raises if anything we wrote does not read back intact
    store.put_text(LATEST_KEY, version + "\n")
    return version


def latest_version(store: BlobStore) -> str:
    from .blobstore import BlobNotFound

    try:
        return store.get_text(LATEST_KEY).strip()
    except BlobNotFound:
        raise IndexNotFound(f"no index in {store.location} (missing {LATEST_KEY})") from None


def load_manifest(store: BlobStore, version: str) -> dict[str, Any]:
    from .blobstore import BlobNotFound

    try:
        manifest = json.loads(store.get(version_prefix(version) + "manifest.json"))
    except BlobNotFound:
        raise IndexNotFound(f"index version {version!r} not found in {store.location}") from None
    except ValueError as err:
        raise IndexCorrupt(f"manifest of {version!r} is not valid JSON: {err}") from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexCorrupt(
            f"index {version!r} has format_version {manifest.get('format_version')!r}; "
            f"this code reads {FORMAT_VERSION}"
        )
    return manifest


def load_index(store: BlobStore, version: str | None = None) -> GalleryIndex:
    """Load and verify an index version (default: LATEST). Raises IndexCorrupt on any mismatch."""
    from .blobstore import BlobNotFound

    version = version or latest_version(store)
    manifest = load_manifest(store, version)
    prefix = version_prefix(version)
    raw: dict[str, bytes] = {}
    # report.json is for people; the cold start reads only what serving needs.
    for name in ARRAY_FILES + ("images.json", "celebs.json"):
        expected = manifest["files"].get(name)
        if expected is None:
            raise IndexCorrupt(f"manifest of {version!r} does not list {name}")
        try:
            data = store.get(prefix + name)
        except BlobNotFound:
            raise IndexCorrupt(f"{name} of index {version!r} is missing") from None
        if sha256(data) != expected["sha256"]:
            raise IndexCorrupt(f"{name} of index {version!r} fails its sha256 check")
        raw[name] = data
    arrays = {
        name: np.load(io.BytesIO(raw[name]), allow_pickle=False) for name in ARRAY_FILES
    }
    for array in arrays.values():
        array.setflags(write=False)
    return GalleryIndex(
        version=version,
        manifest=manifest,
        embeddings=arrays["embeddings.npy"],
        images=json.loads(raw["images.json"]),
        celebs=json.loads(raw["celebs.json"]),
        centroids=arrays["centroids.npy"],
        clusters=arrays["clusters.npy"],
    )
