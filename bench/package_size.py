"""Size and cold-import time of the API function's Lambda artifacts, as `sam build` makes them
("raw") and after infra/precompile.py ("lean": numpy's tests pruned, everything compiled to
unchecked-hash .pyc), measured side by side in one run.

Size: unzipped bytes of the function folder plus its layers (Lambda's limit is 250 MB for the
sum; our goal is <= 100 MB) and the zipped bytes uploaded. Import time: a fresh python3.12
process with bytecode writing off (Lambda's code folders are read-only) runs the built handler
module (import + app + loading a small local index), through infra/invoke_built.py.

    .venv/bin/python bench/package_size.py [--build-dir DIR] [--repeats 7]
Needs the SAM venv (infra/setup_sam_venv.sh). Writes bench/results/package_size.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY312 = ROOT / ".venv-sam" / "py312" / "bin" / "python3.12"
ARTIFACTS = ("ApiFunction", "CoreLayer", "ServingDepsLayer")
GOAL_MB = 100
LAMBDA_LIMIT_MB = 250


def tree_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def zipped_bytes(folder: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.tell()


def sizes(build: Path) -> dict:
    per = {
        name: {"unzipped_mb": tree_bytes(build / name) / 1e6, "zipped_mb": zipped_bytes(build / name) / 1e6}
        for name in ARTIFACTS
    }
    return {
        "artifacts": per,
        "unzipped_mb": sum(a["unzipped_mb"] for a in per.values()),
        "zipped_mb": sum(a["zipped_mb"] for a in per.values()),
        "pyc_files": sum(1 for _ in build.rglob("*.pyc")),
    }


def sam_build(build: Path) -> None:
    subprocess.run(
        [ROOT / "infra" / "sam.sh", "build", "ApiFunction", "--build-dir", build,
         "--cache-dir", ROOT / ".aws-sam" / "cache", "--cached"],
        cwd=ROOT, check=True, capture_output=True,
    )


def cold_init_seconds(build: Path, env: dict[str, str]) -> tuple[float, bool]:
    """One fresh process: seconds to import the handler module (app + index load)."""
    done = subprocess.run(
        [PY312, "-s", ROOT / "infra" / "invoke_built.py", "--build-dir", build,
         "--runtime-dir", ROOT / ".venv-sam" / "lambda-runtime", ROOT / "events" / "health.json"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )
    init, response = (json.loads(line) for line in done.stdout.splitlines()[:2])
    if response["statusCode"] != 200:
        raise RuntimeError(f"built handler answered {response['statusCode']}: {done.stderr[-2000:]}")
    return init["init_seconds"], init["torch_loaded"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, help="an existing `sam build` output (raw)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "package_size.json")
    args = parser.parse_args(argv)
    if not PY312.exists():
        print("SAM venv missing: run infra/setup_sam_venv.sh", file=sys.stderr)
        return 2

    from idealtype.blobstore import LocalBlobStore
    from idealtype.synthetic import make_synthetic_index

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        raw = tmp / "raw"
        if args.build_dir:
            shutil.copytree(args.build_dir, raw)
        else:
            print("sam build ApiFunction ...", flush=True)
            sam_build(raw)
        lean = tmp / "lean"
        shutil.copytree(raw, lean)
        for pyc_dir in [p for p in raw.rglob("__pycache__")]:
            shutil.rmtree(pyc_dir)  # "raw" means no .pyc at all, as sam build leaves it
        subprocess.run([PY312, ROOT / "infra" / "precompile.py", lean], check=True)

        make_synthetic_index(LocalBlobStore(tmp / "index"), 200, 3)
        env = {"PATH": os.environ["PATH"], "PYTHONDONTWRITEBYTECODE": "1",
               "IDEALTYPE_INDEX": str(tmp / "index"),
               "IDEALTYPE_SESSIONS": str(tmp / "sessions.sqlite3")}
        times: dict[str, list[float]] = {"raw": [], "lean": []}
        torch_loaded = False
        cold_init_seconds(lean, env)  # warm the OS file cache for both layouts' shared files
        for _ in range(args.repeats):  # interleaved, so drift affects both alike
            for name, build in (("raw", raw), ("lean", lean)):
                seconds, loaded = cold_init_seconds(build, env)
                times[name].append(seconds)
                torch_loaded |= loaded
        result = {"raw": sizes(raw), "lean": sizes(lean)}

    for name in ("raw", "lean"):
        result[name]["init_seconds_median"] = statistics.median(times[name])
        result[name]["init_seconds_all"] = times[name]
    result |= {
        "goal_unzipped_mb": GOAL_MB,
        "lambda_limit_unzipped_mb": LAMBDA_LIMIT_MB,
        "lean_meets_goal": result["lean"]["unzipped_mb"] <= GOAL_MB,
        "init_speedup_lean_vs_raw": result["raw"]["init_seconds_median"]
        / result["lean"]["init_seconds_median"],
        "torch_loaded": torch_loaded,
        "repeats": args.repeats,
        "index": "synthetic, 200 celebrities x 3 images, local folder; sessions in SQLite",
    }

    print(f"{'':10}{'unzipped MB':>12}{'zipped MB':>11}{'.pyc':>7}{'init s (median)':>17}")
    for name in ("raw", "lean"):
        r = result[name]
        print(f"{name:10}{r['unzipped_mb']:12.1f}{r['zipped_mb']:11.1f}{r['pyc_files']:7d}"
              f"{r['init_seconds_median']:17.3f}")
    for artifact in ARTIFACTS:
        a = result["lean"]["artifacts"][artifact]
        print(f"  lean {artifact:18}{a['unzipped_mb']:8.1f} MB unzipped {a['zipped_mb']:8.1f} MB zipped")
    print(f"lean / goal: {result['lean']['unzipped_mb']:.1f} / {GOAL_MB} MB "
          f"({'meets' if result['lean_meets_goal'] else 'MISSES'} the goal; Lambda limit "
          f"{LAMBDA_LIMIT_MB} MB); init raw/lean = {result['init_speedup_lean_vs_raw']:.2f}x; "
          f"torch imported: {torch_loaded}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
