"""The serving code of another git revision, importable beside the working tree's: its
`shared/idealtype` exported to a temporary folder as the package `idealtype_at_<rev>`, so one
process can time both on the same requests (bench/adaptive_config_ab.py --revision). The
serving modules import each other relatively, so the copy uses its own modules throughout;
it loads its own index and keeps its own caches."""

from __future__ import annotations

import atexit
import importlib
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parent.parent


def served_code_at(revision: str) -> SimpleNamespace:
    """load_index, LocalBlobStore, Pool, AdaptiveStrategy, DEFAULT and the likelihood CACHE of
    `revision` (anything `git rev-parse` takes)."""
    commit = subprocess.run(["git", "rev-parse", "--short", revision], cwd=REPO, check=True,
                            capture_output=True, text=True).stdout.strip()
    archive = subprocess.run(["git", "archive", commit, "shared/idealtype"], cwd=REPO,
                             check=True, capture_output=True).stdout
    root = Path(tempfile.mkdtemp(prefix="idealtype-rev-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(root, filter="data")
    name = f"idealtype_at_{commit}"
    (root / "shared" / "idealtype").rename(root / name)
    sys.path.insert(0, str(root))

    def module(path: str):
        return importlib.import_module(f"{name}.{path}")

    adaptive = module("quiz.strategies.adaptive")
    return SimpleNamespace(
        commit=commit,
        load_index=module("index_format").load_index,
        LocalBlobStore=module("blobstore").LocalBlobStore,
        Pool=module("quiz.pool").Pool,
        AdaptiveStrategy=adaptive.AdaptiveStrategy,
        DEFAULT=module("quiz.strategies.adaptive_config").DEFAULT,
        CACHE=module("quiz.strategies.posterior").CACHE,
    )
