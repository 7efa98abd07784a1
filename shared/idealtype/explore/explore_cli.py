"""`idealtype explore INDEX --out DIR [--fix]`: the gallery explorer's HTML report + findings."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import fields
from pathlib import Path

from .findings import ExploreSettings

THRESHOLD_HELP = {
    "per_side": "faces at each end of an axis",
    "components": "principal components to show",
    "mislabel_own_max": "a photo is unlike its celebrity below this cos to the others' mean",
    "mislabel_other_min": "...and likely mislabeled if another celebrity reaches this cos",
    "mislabel_margin": "...by at least this much more than its own",
    "duplicate_across_threshold": "cos at which two photos of different people are one picture",
    "duplicate_within_threshold": "cos at which two photos of one person are one picture",
    "same_person_threshold": "centroid cos at which two celebrities may be one person",
    "min_faces": "list celebrities with fewer usable faces than this",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("index", help="index location: a local folder or s3://bucket/prefix")
    parser.add_argument("--out", required=True, type=Path, help="report folder (created)")
    parser.add_argument("--version", help="index version (default: the one LATEST names)")
    parser.add_argument(
        "--fix", action="store_true",
        help="also write fix_suggestions.json/.csv (questions for a person; the gallery is "
        "never edited)",
    )
    defaults = ExploreSettings()
    for f in fields(ExploreSettings):
        if f.name in THRESHOLD_HELP:
            parser.add_argument(
                "--" + f.name.replace("_", "-"), type=type(getattr(defaults, f.name)),
                default=getattr(defaults, f.name),
                help=f"{THRESHOLD_HELP[f.name]} (default {getattr(defaults, f.name)})",
            )


def run(args: argparse.Namespace) -> int:
    from ..blobstore import open_store
    from ..index_format import IndexError_, load_index
    from .build_report import read_build_report
    from .findings import compute_findings
    from .fix_suggestions import fix_suggestions, write_fix_suggestions
    from .report_html import write_report

    settings = ExploreSettings(
        **{name: getattr(args, name) for name in THRESHOLD_HELP if hasattr(args, name)}
    )
    if settings.per_side < 1 or settings.components < 0:
        print("explore: --per-side must be at least 1 and --components at least 0",
              file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        store = open_store(args.index)
        index = load_index(store, args.version)
    except (IndexError_, ValueError) as err:
        print(f"explore: cannot load the index at {args.index}: {err}", file=sys.stderr)
        return 2
    print(f"explore: {index.n_images} faces of {index.n_celebs} celebrities, version {index.version}")
    findings = compute_findings(
        index, read_build_report(store, index.version), settings, location=str(args.index)
    )
    result = write_report(args.out, findings, store)
    written = [result["index_html"], args.out / "findings.json"]
    if args.fix:
        written += write_fix_suggestions(args.out, fix_suggestions(findings))
    summary = findings["summary"]
    print(
        f"explore: {summary['mislabeled']} likely mislabeled, "
        f"{summary['unlike_own']} unlike their celebrity, "
        f"{summary['duplicates_across']} duplicate pairs across people, "
        f"{summary['duplicates_within']} within one person, "
        f"{summary['same_person']} celebrity pairs that may be one person, "
        f"{summary['too_few_faces']} celebrities with < {settings.min_faces} faces, "
        f"{summary['skipped_files']} skipped files in the build report; "
        f"{len(findings['images'])} crops copied ({len(result['missing_crops'])} missing) "
        f"in {time.monotonic() - started:.1f}s"
    )
    for path in written:
        print(f"  {path}")
    return 0
