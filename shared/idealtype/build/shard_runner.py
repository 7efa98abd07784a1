"""Runner: process shard i of n of a gallery, in checkpointed parts, resumable.

A shard's photos (chosen by a stable hash of their name, see gallery_source.shard_of) are cut
into parts of `chunk_size` in sorted order. Each finished part is written as one blob
(`part-NNNNN.npz`: the outcome of every photo + embeddings of the indexed ones), so an
interrupted run loses at most one part; with `resume=True` finished parts whose photo list
still matches are reused. A shard ends by writing `done.json`, which the merge step checks.

Pipeline per part: fetch + decode (thread pool, one part ahead, overlapping the torch work)
→ duplicate check → MTCNN (batched by canvas size) → face rule → FaceNet (batched) → display
crops written to `faces/<image_id>.jpg` in the destination.
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import json
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from idealtype.blobstore import BlobNotFound, BlobStore
from idealtype.build.build_settings import BuildSettings
from idealtype.build.face_crops import display_crop_jpeg, model_input
from idealtype.build.face_detect import FaceDetector, choose_face
from idealtype.build.face_embed import EMBEDDING_DIMS, FaceEmbedder
from idealtype.build.gallery_source import GalleryItem, list_gallery, select_subset, shard_of
from idealtype.build.image_decode import BadImage, DecodedImage, decode_image
from idealtype.index_format import face_crop_key

IO_THREADS = 4  # fetching from S3 and JPEG work release the GIL; torch keeps the cores busy


def image_id_of(data: bytes) -> str:
    """Stable id of a photo: a hash of its bytes (same photo, same id, on any machine)."""
    return hashlib.sha256(data).hexdigest()[:24]


def keys_sha(items: list[GalleryItem]) -> str:
    return hashlib.sha256("\n".join(item.source for item in items).encode()).hexdigest()


def shard_items(source: BlobStore, settings: BuildSettings, shard: int, n_shards: int):
    """(this shard's photos, files ignored by the listing) — both deterministic."""
    listing = list_gallery(source)
    items = select_subset(listing.items, limit=settings.limit, max_per_celeb=settings.max_per_celeb)
    mine = [item for item in items if shard_of(item.source, n_shards) == shard]
    ignored = [entry for entry in listing.ignored if shard_of(entry["source"], n_shards) == shard]
    return mine, ignored


@dataclass
class Fetched:
    item: GalleryItem
    image_id: str | None = None
    decoded: DecodedImage | None = None
    error: BadImage | None = None


@dataclass
class Part:
    records: list[dict[str, Any]]  # one per photo, in sorted order
    embeddings: np.ndarray  # (indexed photos, 512), row = record["row"]

    def to_bytes(self, items_sha: str) -> bytes:
        buffer = io.BytesIO()
        np.savez(
            buffer,
            embeddings=self.embeddings.astype(np.float32),
            records=np.frombuffer(json.dumps(self.records, ensure_ascii=False).encode(), np.uint8),
            keys_sha=np.frombuffer(items_sha.encode(), np.uint8),
        )
        return buffer.getvalue()

    @staticmethod
    def from_bytes(data: bytes) -> tuple[Part, str]:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            records = json.loads(arrays["records"].tobytes().decode())
            part = Part(records=records, embeddings=arrays["embeddings"])
            return part, arrays["keys_sha"].tobytes().decode()


Chosen = tuple[dict[str, Any], DecodedImage, tuple[float, float, float, float]]


@dataclass
class Front:
    records: list[dict[str, Any]]
    chosen: list[Chosen]  # indexed photos: (record, image, face box); record["row"] = position
    inputs: torch.Tensor | None  # (len(chosen), 3, 160, 160) model crops


@dataclass
class ShardResult:
    shard: int
    n_shards: int
    counts: Counter = field(default_factory=Counter)  # status/reason tallies for the summary
    parts_reused: int = 0
    parts_computed: int = 0


class ShardRunner:
    def __init__(
        self,
        source: BlobStore,
        dest: BlobStore,
        settings: BuildSettings,
        model: torch.nn.Module,
        *,
        detect_batch: int = 16,
        embed_batch: int = 32,
    ):
        self.source, self.dest, self.settings = source, dest, settings
        self.detector = FaceDetector(
            min_detect_px=settings.min_detect_px,
            max_side=settings.max_side,
            batch_size=detect_batch,
        )
        self.embedder = FaceEmbedder(
            model, batch_size=embed_batch, flip_average=settings.flip_average
        )

    # -- stages ---------------------------------------------------------------------------
    def _fetch(self, item: GalleryItem) -> Fetched:
        try:
            data = self.source.get(item.key)
        except BlobNotFound:
            return Fetched(item, error=BadImage("unreadable", "vanished after listing"))
        except OSError as err:
            return Fetched(item, error=BadImage("unreadable", str(err)))
        image_id = image_id_of(data)
        try:
            return Fetched(item, image_id, decoded=decode_image(data, self.settings.max_pixels))
        except BadImage as err:
            return Fetched(item, image_id, error=err)

    def _front(self, fetched: list[Fetched], seen: dict[str, str]) -> Front:
        """Duplicates, MTCNN, the face rule and the model crops of one part (in order: `seen`
        carries the duplicate check from part to part)."""
        records: list[dict[str, Any]] = []
        candidates: list[tuple[dict[str, Any], DecodedImage]] = []
        for f in fetched:
            record: dict[str, Any] = {
                "source": f.item.source,
                "celeb_id": f.item.celeb_id,
                "image_id": f.image_id,
                "status": "skipped",
            }
            records.append(record)
            if f.image_id is not None and f.image_id in seen:
                record.update(reason="duplicate", detail=f"same bytes as {seen[f.image_id]}")
                continue
            if f.image_id is not None:
                seen[f.image_id] = f.item.source
            if f.error is not None:
                record.update(reason=f.error.reason, detail=f.error.detail)
                continue
            assert f.decoded is not None
            record.update(size=list(f.decoded.rgb.size), notes=list(f.decoded.notes))
            candidates.append((record, f.decoded))

        detections = self.detector.detect([decoded.rgb for _, decoded in candidates])
        chosen: list[Chosen] = []
        for (record, decoded), faces in zip(candidates, detections):
            choice = choose_face(faces, self.settings.min_face_px, decoded.rgb.size)
            record["faces"] = choice.n_faces
            if choice.face is None:
                detail = f"{choice.n_faces} face(s) under {self.settings.min_face_px}px"
                record.update(reason=choice.reason, detail=detail if choice.n_faces else "")
                continue
            if choice.n_faces > 1:
                record["notes"].append(f"several_faces:{choice.n_faces}")
            record.update(
                status="indexed",
                box=[round(v, 1) for v in choice.face.box],
                prob=round(choice.face.prob, 5),
                crop=face_crop_key(record["image_id"]),
                row=len(chosen),
            )
            chosen.append((record, decoded, choice.face.box))
        for record in records:
            if not record.get("notes", True):
                del record["notes"]
        inputs = (
            torch.stack([model_input(im.rgb, box, self.settings.margin) for _, im, box in chosen])
            if chosen
            else None
        )
        return Front(records, chosen, inputs)

    def _back(self, front: Front) -> Part:
        """FaceNet on the part's crops, and its display crops."""
        if front.inputs is None:
            embeddings = np.zeros((0, EMBEDDING_DIMS), dtype=np.float32)
        else:
            embeddings = self.embedder.embed(front.inputs)
        self._write_crops(front.chosen)
        return Part(records=front.records, embeddings=embeddings)

    def _write_crops(self, chosen) -> None:
        def write(entry) -> None:
            record, decoded, box = entry
            self.dest.put(record["crop"], display_crop_jpeg(decoded.rgb, box), "image/jpeg")

        with ThreadPoolExecutor(IO_THREADS) as pool:
            list(pool.map(write, chosen))

    # -- runner ---------------------------------------------------------------------------
    def run(self, shard: int, n_shards: int, *, resume: bool = False, progress=None) -> ShardResult:
        if not 0 <= shard < n_shards:
            raise ValueError(f"shard {shard} is not in 0..{n_shards - 1}")
        items, ignored = shard_items(self.source, self.settings, shard, n_shards)
        prefix = self.settings.shard_prefix(shard, n_shards)
        chunks = [
            items[i : i + self.settings.chunk_size]
            for i in range(0, len(items), self.settings.chunk_size)
        ]
        result = ShardResult(shard, n_shards)
        seen: dict[str, str] = {}
        bar = (
            progress(total=len(items), desc=f"shard {shard}/{n_shards}", unit="img")
            if progress
            else None
        )
        # Until this shard finishes, its done.json says so: a merge must never combine a
        # finished earlier run's marker with parts this run is rewriting.
        self.dest.put(prefix + "done.json", json.dumps({"finished": False}).encode())
        crops = set(self.dest.list("faces/")) if resume else set()
        reused = [
            self._reusable(prefix, k, chunk, crops) if resume else None
            for k, chunk in enumerate(chunks)
        ]
        fetches: list[list[Future[Fetched]] | None] = [None] * len(chunks)
        fronts: list[Future[Front | Part] | None] = [None] * len(chunks)
        # Three overlapping stages: I/O threads fetch + decode part k+2, one thread detects
        # part k+1, this thread embeds part k. With one torch thread per stage the two torch
        # stages keep two cores busy without OpenMP's barrier overhead on tiny MTCNN ops.
        with (
            ThreadPoolExecutor(IO_THREADS) as io_pool,
            ThreadPoolExecutor(1) as front_pool,
        ):

            def front(k: int) -> Front | Part:
                if reused[k] is not None:
                    _remember(seen, reused[k].records)
                    return reused[k]
                return self._front([future.result() for future in fetches[k]], seen)

            def fetch(k: int) -> None:
                if k < len(chunks) and reused[k] is None and fetches[k] is None:
                    fetches[k] = [io_pool.submit(self._fetch, item) for item in chunks[k]]

            def detect(k: int) -> None:
                if k < len(chunks) and fronts[k] is None:
                    fetch(k)
                    fronts[k] = front_pool.submit(front, k)

            for k, chunk in enumerate(chunks):
                detect(k)
                detect(k + 1)
                fetch(k + 2)
                done_front = fronts[k].result()
                # Drop the futures: they hold the part's decoded photos and crops (~0.5 MB a
                # photo), which otherwise pile up over a whole gallery.
                fetches[k] = fronts[k] = None
                if isinstance(done_front, Part):
                    part = done_front
                    result.parts_reused += 1
                else:
                    part = self._back(done_front)
                    self.dest.put(f"{prefix}part-{k:05d}.npz", part.to_bytes(keys_sha(chunk)))
                    result.parts_computed += 1
                _tally(result.counts, part.records)
                release_freed_memory()
                if bar is not None:
                    bar.update(len(chunk))
                    bar.set_postfix(indexed=result.counts["indexed"], refresh=False)
        if bar is not None:
            bar.close()
        done = {
            "finished": True,
            "shard": shard,
            "n_shards": n_shards,
            "parts": len(chunks),
            "items": len(items),
            "items_sha": keys_sha(items),
            "ignored": ignored,
            "counts": dict(result.counts),
        }
        self.dest.put(prefix + "done.json", json.dumps(done, ensure_ascii=False).encode())
        return result

    def _reusable(
        self, prefix: str, k: int, chunk: list[GalleryItem], crops: set[str]
    ) -> Part | None:
        """The finished part k, if it is intact, made from these photos, and its display crops
        are all still there (else it is computed again)."""
        try:
            part, sha = Part.from_bytes(self.dest.get(f"{prefix}part-{k:05d}.npz"))
        except (BlobNotFound, ValueError, KeyError, OSError):
            return None  # missing or damaged (e.g. cut off mid-upload): recompute
        if sha != keys_sha(chunk):
            return None
        if any(r["crop"] not in crops for r in part.records if r["status"] == "indexed"):
            return None
        return part


def release_freed_memory() -> None:
    """Give freed heap back to the OS: glibc keeps the fragments of thousands of differently
    sized photos and MTCNN box batches (measured: detection alone +100 MB per 1,000 photos
    without it, flat with it)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _glibc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc only (not musl/macOS)
        return libc
    except (OSError, AttributeError):
        return None


_LIBC = _glibc()


def _remember(seen: dict[str, str], records: list[dict[str, Any]]) -> None:
    """Feed a reused part's photos into the duplicate check, as if it had just run."""
    for record in records:
        if record.get("image_id") and record.get("reason") != "duplicate":
            seen.setdefault(record["image_id"], record["source"])


def _tally(counts: Counter, records: list[dict[str, Any]]) -> None:
    for record in records:
        counts[record["status"]] += 1
        if record["status"] == "skipped":
            counts["skipped:" + record["reason"]] += 1
