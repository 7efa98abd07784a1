"""Make `sam build`'s zip artifacts lean and precompiled before `sam deploy`.

Run it with the Lambda runtime's Python (3.12), since .pyc files are version-specific:

    python3.12 infra/precompile.py .aws-sam/build

1. Drops the test suites that numpy ships (~15 MB unzipped, never imported at run time).
2. Compiles every .py to __pycache__/*.cpython-312.pyc. Lambda's code directories are read-only,
   so without this every cold start compiles all imported modules in memory again. The pyc files
   use the `unchecked-hash` mode: zip archives keep modification times at 2-second precision,
   so timestamp-checked pycs could be judged stale after unzipping and silently ignored.
Container-image artifacts (directories without .py files at their root or in python/) are left
alone; only folders next to the built template are touched.
"""

from __future__ import annotations

import argparse
import compileall
import py_compile
import shutil
import sys
from pathlib import Path

PRUNE_GLOBS = ("numpy/**/tests", "numpy/tests")


def prune(artifact: Path) -> int:
    """Delete packaged test suites; returns bytes freed."""
    freed = 0
    for pattern in PRUNE_GLOBS:
        for folder in sorted(artifact.rglob(pattern), key=lambda p: len(p.parts), reverse=True):
            if folder.is_dir():
                freed += sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
                shutil.rmtree(folder)
    return freed


def precompile(artifact: Path) -> bool:
    return compileall.compile_dir(
        artifact,
        quiet=1,
        workers=0,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )


def artifacts(build_dir: Path) -> list[Path]:
    return sorted(p for p in build_dir.iterdir() if p.is_dir() and any(p.rglob("*.py")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", type=Path, help="sam build's output (.aws-sam/build)")
    args = parser.parse_args(argv)
    if sys.version_info[:2] != (3, 12):
        print(f"run this with python3.12 (the Lambda runtime), not {sys.version.split()[0]}",
              file=sys.stderr)
        return 2
    found = artifacts(args.build_dir)
    if not found:
        print(f"no built Python artifacts in {args.build_dir}: run `sam build` first", file=sys.stderr)
        return 1
    ok = True
    for artifact in found:
        freed = prune(artifact)
        compiled = precompile(artifact)
        ok &= compiled
        status = "ok" if compiled else "SOME FILES FAILED TO COMPILE"
        print(f"{artifact.name}: pruned {freed / 1e6:.1f} MB, compiled ({status})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
