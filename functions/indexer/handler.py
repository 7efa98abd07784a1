"""Build-job worker on AWS Lambda (container image, see infra/indexer.Dockerfile).

One function, three actions, chained by the Step Functions state machine in
infra/build_index.asl.json (plan → distributed map of shards → merge):

    {"action": "plan",  "request": {...}}           → a plan: where, how many shards, options
    {"action": "shard", "plan": {...}, "shard": i}  → runs shard i of n (resumes finished parts)
    {"action": "merge", "plan": {...}}              → merges the shards, publishes, switches LATEST

The request (the state machine's input) may hold: `source` (default env IDEALTYPE_GALLERY),
`dest` (default env IDEALTYPE_INDEX), `shards` (default: photos / `images_per_shard`), `dtype`,
and `options` for the build (limit, max_per_celeb, model_id, margin, flip_average, min_face_px,
min_detect_px, max_side, chunk_size) — the same settings `idealtype build` takes, so a shard
here computes exactly what `idealtype build --shard i/n` computes locally.
"""

from __future__ import annotations

import math
import os
from typing import Any

DEFAULT_IMAGES_PER_SHARD = 500  # ~1-2 min of a 3 GB worker; far from Lambda's 15-minute cap
MAX_SHARDS = 1000
OPTION_NAMES = {
    "limit", "max_per_celeb", "model_id", "margin", "flip_average", "min_face_px",
    "min_detect_px", "max_side", "chunk_size",
}
_models: dict[str, Any] = {}  # FaceNet per model id, kept while the container stays warm


class BadRequest(ValueError):
    """The request cannot be run as given; the message says why (shown by Step Functions)."""


def _location(request: dict[str, Any], key: str, env_name: str) -> str:
    value = request.get(key) or os.environ.get(env_name)
    if not value:
        raise BadRequest(f"no {key!r} in the request and {env_name} is not set")
    return str(value)


def _options(raw: Any) -> dict[str, Any]:
    options = dict(raw or {})
    unknown = set(options) - OPTION_NAMES
    if unknown:
        raise BadRequest(f"unknown build options {sorted(unknown)}; known: {sorted(OPTION_NAMES)}")
    return options


def _settings(plan: dict[str, Any], weights_sha256: str):
    from idealtype.build.build_settings import BuildSettings, canonical_location

    return BuildSettings(
        source=canonical_location(plan["source"]), weights_sha256=weights_sha256, **plan["options"]
    )


def _model(model_id: str):
    from idealtype.build.weights import load_facenet

    if model_id not in _models:
        _models[model_id] = load_facenet(model_id)
    return _models[model_id]


def plan(request: dict[str, Any]) -> dict[str, Any]:
    from idealtype.blobstore import open_store
    from idealtype.build.gallery_source import list_gallery, select_subset

    source = _location(request, "source", "IDEALTYPE_GALLERY")
    dest = _location(request, "dest", "IDEALTYPE_INDEX")
    options = _options(request.get("options"))
    dtype = request.get("dtype", "float32")
    if dtype not in ("float32", "float16"):
        raise BadRequest(f"dtype must be float32 or float16, not {dtype!r}")
    items = select_subset(
        list_gallery(open_store(source)).items,
        limit=options.get("limit"),
        max_per_celeb=options.get("max_per_celeb"),
    )
    if not items:
        raise BadRequest(f"no photos in {source} (expected <celebrity folder>/<photo>)")
    shards = request.get("shards")
    if shards is None:
        per_shard = int(request.get("images_per_shard", DEFAULT_IMAGES_PER_SHARD))
        shards = math.ceil(len(items) / max(1, per_shard))
    shards = int(shards)
    if not 1 <= shards <= MAX_SHARDS:
        raise BadRequest(f"shards must be within 1..{MAX_SHARDS}, not {shards}")
    return {
        "source": source,
        "dest": dest,
        "options": options,
        "dtype": dtype,
        "photos": len(items),
        "shards": shards,
        "shard_ids": list(range(shards)),
    }


def shard(plan: dict[str, Any], index: int) -> dict[str, Any]:
    from idealtype.blobstore import open_store
    from idealtype.build.shard_runner import ShardRunner

    model, weights_sha256 = _model(plan["options"].get("model_id", "casia-webface"))
    runner = ShardRunner(
        open_store(plan["source"]), open_store(plan["dest"]), _settings(plan, weights_sha256), model
    )
    # Always resume: a retried shard (timeout, throttling) continues from its finished parts.
    result = runner.run(int(index), int(plan["shards"]), resume=True)
    return {
        "shard": result.shard,
        "shards": result.n_shards,
        "counts": dict(result.counts),
        "parts_computed": result.parts_computed,
        "parts_reused": result.parts_reused,
    }


def merge(plan: dict[str, Any]) -> dict[str, Any]:
    from idealtype.blobstore import open_store
    from idealtype.build.merge_publish import merge_and_publish
    from idealtype.build.weights import weights_file

    _, weights_sha256 = weights_file(plan["options"].get("model_id", "casia-webface"))
    dest = open_store(plan["dest"])
    version, report = merge_and_publish(
        open_store(plan["source"]), dest, _settings(plan, weights_sha256),
        n_shards=int(plan["shards"]), dtype=plan["dtype"],
    )
    return {"version": version, "index": dest.location, "summary": report["summary"]}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    action = event.get("action")
    if action == "plan":
        return plan(event.get("request") or {})
    if action == "shard":
        return shard(event["plan"], event["shard"])
    if action == "merge":
        return merge(event["plan"])
    raise BadRequest(f"unknown action {action!r}; expected plan, shard or merge")

