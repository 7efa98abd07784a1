"""Reader stage: list a gallery (local folder or S3 prefix) and read its celebs.csv.

Layout: `<root>/<celebrity folder>/<photo>` (deeper folders belong to the top-level
celebrity), plus an optional `<root>/celebs.csv`. Folder names may be any Unicode; celebrity
ids are their NFC form, so a Korean folder written on macOS (NFD) and on Linux (NFC) is the
same person.
"""

from __future__ import annotations

import csv
import hashlib
import io
import unicodedata
from dataclasses import dataclass
from typing import Any

from idealtype.blobstore import BlobNotFound, BlobStore

CELEBS_CSV = "celebs.csv"
ID_COLUMNS = ("folder", "celeb_id", "id")
NAME_COLUMNS = ("name", "display_name")


@dataclass(frozen=True)
class GalleryItem:
    key: str  # key in the source store, as listed (used to read the bytes)
    celeb_id: str  # NFC top-level folder name
    source: str  # NFC key: the stable name of this photo in records, sorting and sharding


@dataclass
class GalleryListing:
    items: list[GalleryItem]  # sorted by `source`
    ignored: list[dict[str, str]]  # files not inside a celebrity folder, with reason


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def list_gallery(store: BlobStore) -> GalleryListing:
    items: list[GalleryItem] = []
    ignored: list[dict[str, str]] = []
    for key in store.list(""):
        parts = key.split("/")
        if len(parts) < 2:
            if key != CELEBS_CSV:
                ignored.append({"source": nfc(key), "reason": "not_in_celebrity_folder"})
            continue
        if any(part.startswith(".") for part in parts):
            # .DS_Store, ._AppleDouble, editor swap files: listed, never decoded.
            ignored.append({"source": nfc(key), "reason": "hidden_file"})
            continue
        items.append(GalleryItem(key=key, celeb_id=nfc(parts[0]), source=nfc(key)))
    items.sort(key=lambda item: item.source)
    return GalleryListing(items=items, ignored=ignored)


def select_subset(
    items: list[GalleryItem], *, limit: int | None = None, max_per_celeb: int | None = None
) -> list[GalleryItem]:
    """Deterministic subset: the first `max_per_celeb` photos of each celebrity (sorted by
    name), then the first `limit` photos overall."""
    if max_per_celeb is not None:
        seen: dict[str, int] = {}
        kept = []
        for item in items:
            seen[item.celeb_id] = seen.get(item.celeb_id, 0) + 1
            if seen[item.celeb_id] <= max_per_celeb:
                kept.append(item)
        items = kept
    return items[:limit] if limit is not None else items


def shard_of(source: str, n_shards: int) -> int:
    """Stable shard of a photo (same on every machine and Python run, unlike hash())."""
    digest = hashlib.sha1(source.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % n_shards


def read_celeb_info(store: BlobStore) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """celebs.csv -> ({celeb_id: {"name", "tags"}}, problems). Missing file -> ({}, []).

    Columns: `folder` (or `celeb_id`/`id`), `name` (or `display_name`); every other column is
    a tag (empty cells omitted). Problems (bad rows) are returned for the report, not raised.
    """
    try:
        raw = store.get(CELEBS_CSV)
    except BlobNotFound:
        return {}, []
    problems: list[str] = []
    try:
        text = raw.decode("utf-8-sig")  # Excel writes a BOM
    except UnicodeDecodeError as err:
        return {}, [f"{CELEBS_CSV} is not UTF-8 ({err}); ignored"]
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip() for f in reader.fieldnames or []]
    id_column = next((c for c in ID_COLUMNS if c in fields), None)
    if id_column is None:
        return {}, [f"{CELEBS_CSV} has no column named one of {ID_COLUMNS}; ignored"]
    name_column = next((c for c in NAME_COLUMNS if c in fields), None)
    info: dict[str, dict[str, Any]] = {}
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
        celeb_id = nfc(row.get(id_column, ""))
        if not celeb_id:
            problems.append(f"{CELEBS_CSV} line {line}: empty {id_column}; row ignored")
            continue
        if celeb_id in info:
            problems.append(f"{CELEBS_CSV} line {line}: {celeb_id!r} listed again; later row wins")
        tags = {
            key: nfc(value)
            for key, value in row.items()
            if key not in (id_column, name_column) and key and value
        }
        info[celeb_id] = {
            "name": nfc(row.get(name_column, "")) if name_column else "",
            "tags": tags,
        }
    return info, problems
