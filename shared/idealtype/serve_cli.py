"""`idealtype serve`: one local process (uvicorn) serving the API, the face crops and the
frontend folder, with the embedded defaults (local index folder + SQLite sessions)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from dataclasses import replace
from pathlib import Path

from .cli_args import port_number

# The repo's frontend/ (this file is shared/idealtype/serve_cli.py).
REPO_FRONTEND = Path(__file__).resolve().parents[2] / "frontend"

# uvicorn's HTTP parsers and event loops: "auto" takes the C ones (httptools, uvloop; both in
# uvicorn[standard], the `local` extra) when installed, else the pure-Python h11 and asyncio.
HTTP_CHOICES = ("auto", "h11", "httptools")
LOOP_CHOICES = ("auto", "asyncio", "uvloop")
# Choices that are separate packages, each importable under its own name.
OPTIONAL_PACKAGES = ("httptools", "uvloop")


LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")  # uvicorn's


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index", default=None,
                        help="index location as given to `idealtype build --out` (folder or "
                             "s3://bucket/prefix); default: $IDEALTYPE_INDEX or var/index")
    parser.add_argument("--port", type=port_number, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--sessions", default=None,
                        help="SQLite file or dynamodb://table; default: $IDEALTYPE_SESSIONS or "
                             "<index folder>/../sessions.sqlite3 (var/sessions.sqlite3 for S3)")
    parser.add_argument("--frontend", default=None,
                        help=f"folder served at / (default: {REPO_FRONTEND} if present)")
    parser.add_argument("--log-level", choices=LOG_LEVELS, default="warning")
    parser.add_argument("--http", choices=HTTP_CHOICES, default="auto",
                        help="uvicorn's HTTP parser (auto: httptools when installed, else h11)")
    parser.add_argument("--loop", choices=LOOP_CHOICES, default="auto",
                        help="uvicorn's event loop (auto: uvloop when installed, else asyncio)")


def installed(module: str) -> bool:
    """Importable, as uvicorn tests it (a present but broken install counts as absent)."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def resolve_stack(http: str, loop: str) -> tuple[str, str]:
    """The (parser, loop) uvicorn will run for these flags, resolving "auto" as uvicorn does.
    Raises ValueError naming the package when an explicit choice is not installed (uvicorn
    would otherwise fail later with a bare ImportError)."""
    for choice in (http, loop):
        if choice in OPTIONAL_PACKAGES and not installed(choice):
            raise ValueError(f"{choice} is not installed (pip install {choice}, or the "
                             "project's `local` extra, which brings uvicorn[standard])")
    if http == "auto":
        http = "httptools" if installed("httptools") else "h11"
    if loop == "auto":
        loop = "uvloop" if installed("uvloop") else "asyncio"
    return http, loop


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from .api.app import create_app
    from .api.settings import Settings
    from .index_format import IndexError_

    try:
        http, loop = resolve_stack(args.http, args.loop)
    except ValueError as err:
        print(f"idealtype serve: {err}", file=sys.stderr)
        return 2
    if args.frontend is not None and not Path(args.frontend).is_dir():
        print(f"idealtype serve: no frontend folder at {args.frontend}", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    index = args.index or settings.index
    sessions = args.sessions or os.environ.get("IDEALTYPE_SESSIONS") or (
        str(Path(index).parent / "sessions.sqlite3") if not index.startswith("s3://")
        else settings.sessions
    )
    frontend = args.frontend or settings.frontend_dir or (
        str(REPO_FRONTEND) if REPO_FRONTEND.is_dir() else None
    )
    settings = replace(settings, index=index, sessions=sessions, frontend_dir=frontend)
    app = create_app(settings)
    try:
        # Load (and verify) once, through the app's own cache, before the first request.
        loaded = app.state.service.indexes.current()
    except IndexError_ as err:
        print(f"idealtype serve: cannot load an index from {index}: {err}\n"
              f"Build one first: idealtype build --out {index} ...", file=sys.stderr)
        return 2
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    print(f"idealtype: index {loaded.version} ({loaded.n_celebs} celebrities, "
          f"{loaded.n_images} faces) from {index}; sessions in {sessions}"
          + (f"; frontend from {frontend}" if frontend else "; no frontend folder")
          + f"; uvicorn on {http} + {loop}")
    print(f"Serving on http://{shown_host}:{args.port}/  (API docs: /api/docs; Ctrl+C stops)",
          flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, http=http,
                loop=loop)
    return 0
