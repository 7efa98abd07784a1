"""What a build computes, and where its shard checkpoints live.

Every setting that changes the embeddings or the set of photos is part of `work_id`: shards
of one build (on one machine or many), a resumed run and the final merge all find the same
checkpoint folder `build-work/<work_id>/` under the destination, and a build with other
settings never picks up stale parts.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass

from idealtype.build.image_decode import DEFAULT_MAX_PIXELS

WORK_ROOT = "build-work"
# Bump whenever the photo -> face -> embedding code changes what it computes for the same
# settings. It is part of `work_id`, so a resumed build never mixes parts of two versions, and
# of the demo's cache key. 2: one face per photo by in-frame area x probability x centrality
# (1 took the largest box, often a neighbour cut by the frame in group shots).
PIPELINE_VERSION = 2


@dataclass(frozen=True)
class BuildSettings:
    source: str  # canonical gallery location (absolute path or s3://bucket/prefix)
    model_id: str = "casia-webface"
    weights_sha256: str = ""
    margin: int = 32  # model-crop margin in pixels of the 160 px input (facenet-pytorch's unit)
    flip_average: bool = False
    min_face_px: int = 40  # shorter box side below this: skipped as face_too_small
    min_detect_px: int = 20  # MTCNN's search floor; smaller than min_face_px so tiny faces are
    # found and reported as too small instead of looking like "no face"
    max_side: int = 1024  # photos are detected at most this large (boxes map back)
    max_pixels: int = DEFAULT_MAX_PIXELS
    limit: int | None = None
    max_per_celeb: int | None = None
    chunk_size: int = 128  # photos per checkpoint part
    pipeline_version: int = PIPELINE_VERSION

    @property
    def manifest_model_id(self) -> str:
        return f"facenet-{self.model_id}"

    def work_id(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def work_prefix(self) -> str:
        return f"{WORK_ROOT}/{self.work_id()}/"

    def shard_prefix(self, shard: int, n_shards: int) -> str:
        return f"{self.work_prefix()}shard-{shard:05d}-of-{n_shards:05d}/"


def canonical_location(location: str) -> str:
    """The same gallery gets the same name from any working directory."""
    if location.startswith("s3://"):
        return location.rstrip("/")
    return os.path.abspath(location)
