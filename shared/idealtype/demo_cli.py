"""`idealtype demo`: build the demo index from a local gallery (cached) and serve the quiz.

The default demo is a subset (every `--every`-th person, at most 2 photos each: about 1,000
photos of ~770 people from LFW, a couple of minutes on 2 cores); `--full` indexes the whole
gallery. The index is cached under `var/` and reused while the gallery and options are unchanged.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .cli_args import at_least, port_number

REPO = Path(__file__).resolve().parents[2]
DEFAULT_GALLERY = REPO.parent / "shared" / "data" / "lfw"

NO_GALLERY = """\
idealtype demo: no gallery folder at {path}
A gallery is a folder with one sub-folder of photos per person (optional celebs.csv).
Point IDEALTYPE_GALLERY (or --gallery) at one, for example:
  - this project's development gallery: ../shared/data/lfw beside the checkout;
  - online: the public LFW set, e.g. `python -c "from sklearn.datasets import fetch_lfw_people;
    fetch_lfw_people(download_if_missing=True)"` then use ~/scikit_learn_data/lfw_home/lfw_funneled;
  - any folder-per-person photo collection of your own.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gallery", default=os.environ.get("IDEALTYPE_GALLERY"),
                        help=f"gallery folder (default: $IDEALTYPE_GALLERY or {DEFAULT_GALLERY})")
    parser.add_argument("--out", default=str(REPO / "var" / "demo"),
                        help="where the demo index and sessions live (default: var/demo)")
    parser.add_argument("--full", action="store_true", help="index every photo of the gallery")
    parser.add_argument("--every", type=at_least(1), default=6,
                        help="subset: keep every N-th person in name order (default 6)")
    parser.add_argument("--per-person", type=at_least(1), default=2,
                        help="subset: at most this many photos per person (default 2)")
    # (argparse passes a string default through `type` too: a bad $PORT is refused here.)
    parser.add_argument("--port", type=port_number, default=os.environ.get("PORT", "8000"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--build-only", action="store_true", help="build (or reuse) and exit")


def subset_gallery(gallery: Path, target: Path, every: int, per_person: int) -> int:
    """Copy every `every`-th person of `gallery` (name order), at most `per_person` photos each,
    into `target`, so the build job sees an ordinary gallery. Returns the number of people."""
    people = sorted(p for p in gallery.iterdir() if p.is_dir())[::every]
    if target.exists():
        shutil.rmtree(target)
    for person in people:
        photos = sorted(p for p in person.iterdir() if p.is_file())[:per_person]
        (target / person.name).mkdir(parents=True)
        for photo in photos:
            shutil.copyfile(photo, target / person.name / photo.name)
    if (gallery / "celebs.csv").is_file():
        shutil.copyfile(gallery / "celebs.csv", target / "celebs.csv")
    return len(people)


def recipe_key(gallery: Path) -> str:
    """Identifies what the cached index was built from: the gallery's listing and sizes, and
    the build pipeline's version (a new face rule must not serve the old cached index)."""
    from .build.build_settings import PIPELINE_VERSION

    listing = sorted(
        f"{p.parent.name}/{p.name}:{p.stat().st_size}" for p in gallery.glob("*/*") if p.is_file()
    )
    return hashlib.sha256(json.dumps([str(gallery), listing, PIPELINE_VERSION]).encode()).hexdigest()


def run(args: argparse.Namespace) -> int:
    gallery = Path(args.gallery or DEFAULT_GALLERY).expanduser()
    if not gallery.is_dir():
        print(NO_GALLERY.format(path=gallery), file=sys.stderr)
        return 2
    out = Path(args.out)
    index_dir = out / "index"
    source = gallery
    if not args.full:
        source = out / "gallery-subset"
        people = subset_gallery(gallery, source, args.every, args.per_person)
        print(f"demo subset: {people} people (every {args.every}th), "
              f"at most {args.per_person} photos each; --full for the whole gallery")
    key = recipe_key(source)
    recipe_file = out / "recipe.sha256"
    if (index_dir / "index" / "LATEST").is_file() and recipe_file.is_file() \
            and recipe_file.read_text().strip() == key:
        print(f"reusing the cached demo index in {index_dir}")
    else:
        command = [sys.executable, "-m", "idealtype.cli", "build", str(source),
                   "--out", str(index_dir), "--resume"]
        print("building the demo index:", " ".join(command), flush=True)
        # A separate process: torch stays out of the serving process.
        if subprocess.run(command, check=False).returncode != 0:
            print("idealtype demo: the build failed (see above)", file=sys.stderr)
            return 1
        recipe_file.write_text(key + "\n")
    if args.build_only:
        return 0
    from . import serve_cli

    # Through serve's own parser, so every serve option it adds gets its default here too.
    serve_parser = argparse.ArgumentParser(prog="idealtype serve")
    serve_cli.add_arguments(serve_parser)
    serve_args = serve_parser.parse_args([
        "--index", str(index_dir), "--port", str(args.port), "--host", args.host,
        "--sessions", str(out / "sessions.sqlite3"),
    ])
    return serve_cli.run(serve_args)
