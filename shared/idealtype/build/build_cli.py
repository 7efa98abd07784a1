"""`idealtype build SOURCE --out DEST`: photos → published FaceNet index.

One process:            idealtype build photos/ --out index/
Many workers (any order, any machines sharing DEST), then one merge:
                        idealtype build s3://b/photos --out s3://b/site --shard 0/4   (… 3/4)
                        idealtype build s3://b/photos --out s3://b/site --merge
Every shard/merge call must use the same photo-selecting and embedding options; they name
the shared checkpoint folder (DEST/build-work/<id>/). `--resume` reuses finished parts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from ..cli_args import at_least


def _shard_spec(text: str) -> tuple[int, int]:
    try:
        index, count = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard wants i/n, e.g. 0/4, not {text!r}") from None
    if count < 1 or not 0 <= index < count:
        raise argparse.ArgumentTypeError(f"--shard {text}: need 0 <= i < n")
    return index, count


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from idealtype.build.build_settings import BuildSettings

    defaults = BuildSettings(source="")
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "source", help="gallery: folder or s3://bucket/prefix, one folder per person"
    )
    parser.add_argument("--out", required=True, help="destination: folder or s3://bucket/prefix")
    work = parser.add_argument_group("sharding")
    work.add_argument("--shard", type=_shard_spec, metavar="I/N", help="run only shard I of N")
    work.add_argument(
        "--shards", type=at_least(1), metavar="N",
        help="number of shards (with --shard-index or --merge)",
    )
    work.add_argument("--shard-index", type=at_least(0), metavar="I",
                      help="run only shard I of --shards N")
    work.add_argument("--merge", action="store_true", help="merge finished shards and publish")
    work.add_argument("--resume", action="store_true", help="reuse finished checkpoint parts")
    subset = parser.add_argument_group("which photos")
    subset.add_argument("--limit", type=at_least(1),
                        help="at most this many photos (first in name order)")
    subset.add_argument("--max-per-celeb", type=at_least(1),
                        help="at most this many photos per person")
    model = parser.add_argument_group("faces and embeddings")
    model.add_argument("--model", default=defaults.model_id, choices=("casia-webface", "vggface2"))
    model.add_argument(
        "--margin",
        type=at_least(0),
        default=defaults.margin,
        help=f"model-crop margin, px of the 160 px input (default {defaults.margin})",
    )
    model.add_argument(
        "--flip-average",
        action="store_true",
        help="average each face's embedding with its mirror image's (2x FaceNet cost)",
    )
    model.add_argument(
        "--min-face",
        type=at_least(0),
        default=defaults.min_face_px,
        help=f"skip faces whose box is smaller (px, default {defaults.min_face_px})",
    )
    model.add_argument(
        "--max-side",
        # (MTCNN looks for faces of at least min_detect_px on the scaled photo.)
        type=at_least(defaults.min_detect_px),
        default=defaults.max_side,
        help="detect on photos scaled down to this longest side",
    )
    model.add_argument("--dtype", choices=("float32", "float16"), default="float32")
    speed = parser.add_argument_group("speed")
    speed.add_argument("--batch-size", type=at_least(1), default=32, help="FaceNet batch size")
    speed.add_argument("--detect-batch", type=at_least(1), default=16, help="MTCNN batch size")
    speed.add_argument(
        "--chunk-size", type=at_least(1), default=defaults.chunk_size,
        help="photos per checkpoint part",
    )
    speed.add_argument(
        "--threads",
        type=at_least(1),
        default=1,
        help="torch threads per stage (default 1: detection and embedding already run as two "
        "parallel stages)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def _settings(args: argparse.Namespace, weights_sha256: str):
    from idealtype.build.build_settings import BuildSettings, canonical_location

    return BuildSettings(
        source=canonical_location(args.source),
        model_id=args.model,
        weights_sha256=weights_sha256,
        margin=args.margin,
        flip_average=args.flip_average,
        min_face_px=args.min_face,
        max_side=args.max_side,
        limit=args.limit,
        max_per_celeb=args.max_per_celeb,
        chunk_size=args.chunk_size,
    )


def _nested(inner: str, outer: str) -> bool:
    from idealtype.build.build_settings import canonical_location

    inner, outer = canonical_location(inner).rstrip("/"), canonical_location(outer).rstrip("/")
    return inner == outer or inner.startswith(outer + "/")


def _print_summary(version: str, report: dict[str, Any], dest: str, seconds: float) -> None:
    summary = report["summary"]
    print(f"published index {version} to {dest} in {seconds:.0f}s")
    print(
        f"  files listed {summary['files_listed']}, images read {summary['images_read']}, "
        f"faces indexed {summary['faces_found']}, celebrities {summary['celebrities']}"
    )
    if summary["skipped_by_reason"]:
        reasons = ", ".join(f"{k} {v}" for k, v in summary["skipped_by_reason"].items())
        print(f"  skipped {summary['skipped']}: {reasons}")
    if summary["handled_by_note"]:
        print("  handled: " + ", ".join(f"{k} {v}" for k, v in summary["handled_by_note"].items()))
    if summary["celebrities_without_faces"]:
        names = summary["celebrities_without_faces"]
        print(
            f"  no usable face for {len(names)} celebrities: {', '.join(names[:10])}"
            + (" …" if len(names) > 10 else "")
        )
    print(f"  full report: {dest}/index/{version}/report.json")


def run(args: argparse.Namespace) -> int:
    if args.shard is not None and (args.shards is not None or args.shard_index is not None):
        print("use either --shard I/N or --shards N --shard-index I", file=sys.stderr)
        return 2
    if args.shard_index is not None:
        if args.shards is None or not 0 <= args.shard_index < args.shards:
            print("--shard-index I needs --shards N with 0 <= I < N", file=sys.stderr)
            return 2
        args.shard = (args.shard_index, args.shards)
    if args.merge and args.shard is not None:
        print("--merge publishes finished shards; run shards without it", file=sys.stderr)
        return 2
    if not args.source.startswith("s3://") and not Path(args.source).is_dir():
        print(f"no gallery folder at {args.source}: SOURCE is a folder (or s3://bucket/prefix) "
              "with one sub-folder of photos per person", file=sys.stderr)
        return 2
    if _nested(args.out, args.source):
        print("--out must not be inside SOURCE (the index would be read as photos)", file=sys.stderr)
        return 2

    import torch
    from tqdm import tqdm

    from idealtype.blobstore import open_store
    from idealtype.build.merge_publish import MergeError, merge_and_publish
    from idealtype.build.shard_runner import ShardRunner
    from idealtype.build.weights import WeightsUnavailable, load_facenet, weights_file

    if args.threads:
        torch.set_num_threads(args.threads)
    source, dest = open_store(args.source), open_store(args.out)
    started = time.monotonic()
    try:
        if args.merge:
            settings = _settings(args, weights_file(args.model)[1])
            version, report = merge_and_publish(
                source, dest, settings, n_shards=args.shards, dtype=args.dtype
            )
            _print_summary(version, report, dest.location, time.monotonic() - started)
            return 0
        model, weights_sha256 = load_facenet(args.model)
        settings = _settings(args, weights_sha256)
        shard, n_shards = args.shard or (0, 1)
        runner = ShardRunner(
            source,
            dest,
            settings,
            model,
            detect_batch=args.detect_batch,
            embed_batch=args.batch_size,
        )
        result = runner.run(
            shard, n_shards, resume=args.resume, progress=None if args.no_progress else tqdm
        )
        counts = dict(sorted(result.counts.items()))
        print(
            f"shard {shard}/{n_shards}: {json.dumps(counts, ensure_ascii=False)} "
            f"(parts computed {result.parts_computed}, reused {result.parts_reused})"
        )
        if args.shard is not None:
            print(
                f"when all {n_shards} shards are done: idealtype build {args.source} "
                f"--out {args.out} --merge (same options)"
            )
            return 0
        version, report = merge_and_publish(source, dest, settings, n_shards=1, dtype=args.dtype)
        _print_summary(version, report, dest.location, time.monotonic() - started)
        return 0
    except (MergeError, WeightsUnavailable) as err:
        print(f"idealtype build: {err}", file=sys.stderr)
        return 1
