"""Cold start of the API function: a fresh Python process imports functions/api/app.py, which
builds the app and loads + verifies a 10k-celebrity / 50k-image index (512-d) from a local
folder. Target: import + load <= 1.0 s. Side by side in the same run: the same start with
`import torch` added first (what the serving path would cost if torch crept into it).

Each measurement is a new process; the index files are in the OS page cache after the first
(Lambda reads them from S3 instead — that transfer is not measured here).

    .venv/bin/python bench/cold_start.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_index import REPO, RESULTS, synthetic_index_dir, write_report

TARGET_S = 1.0
ENTRY = REPO / "functions" / "api" / "app.py"

CHILD = """
import time
started = time.perf_counter()
import runpy, sys, json
{preload}
module = runpy.run_path({entry!r})
ready = time.perf_counter()
index = module["app"].state.service.indexes.current()
print(json.dumps({{"import_and_load_s": ready - started, "celebrities": index.n_celebs,
                  "images": index.n_images, "torch_loaded": "torch" in sys.modules}}))
"""


def measure(index_dir: Path, sessions: Path, preload: str = "") -> dict:
    env = {**os.environ, "IDEALTYPE_INDEX": str(index_dir), "IDEALTYPE_SESSIONS": str(sessions)}
    code = CHILD.format(preload=preload, entry=str(ENTRY))
    spawned = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["process_wall_s"] = time.perf_counter() - spawned
    return result


def summary(runs: list[dict], key: str) -> dict:
    values = [r[key] for r in runs]
    return {"median_s": round(statistics.median(values), 3), "max_s": round(max(values), 3),
            "min_s": round(min(values), 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--celebs", type=int, default=10_000)
    parser.add_argument("--images-per-celeb", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS / "cold_start.json")
    args = parser.parse_args(argv)

    report: dict = {"target_s": TARGET_S, "machine": platform.platform(), "variants": {}}
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        sessions = Path(tmp) / "s.db"
        for dtype in ("float32", "float16"):
            index_dir = synthetic_index_dir(args.celebs, args.images_per_celeb, dtype)
            measure(index_dir, sessions)  # warm the page cache: every measured run alike
            runs = [measure(index_dir, sessions) for _ in range(args.repeats)]
            assert not any(r["torch_loaded"] for r in runs)
            stats = summary(runs, "import_and_load_s")
            report["variants"][f"api_{dtype}"] = {
                "images": runs[0]["images"], "celebrities": runs[0]["celebrities"],
                "import_and_load": stats, "process_wall": summary(runs, "process_wall_s"),
                "runs": runs}
            ok &= stats["median_s"] <= TARGET_S
            print(f"api, {dtype} index ({runs[0]['images']} images): import+load median "
                  f"{stats['median_s']:.3f} s (max {stats['max_s']:.3f}); whole process "
                  f"{report['variants'][f'api_{dtype}']['process_wall']['median_s']:.3f} s",
                  flush=True)
        torch_runs = [measure(synthetic_index_dir(args.celebs, args.images_per_celeb), sessions,
                              preload="import torch") for _ in range(2)]
        torch_stats = summary(torch_runs, "import_and_load_s")
        report["variants"]["api_float32_with_torch_imported"] = {
            "import_and_load": torch_stats, "runs": torch_runs}
    base = report["variants"]["api_float32"]["import_and_load"]["median_s"]
    report["torch_over_api_ratio"] = round(torch_stats["median_s"] / base, 2)
    report["target_met"] = bool(ok)
    print(f"with `import torch` added: {torch_stats['median_s']:.3f} s "
          f"({report['torch_over_api_ratio']}x the API's cold start)")
    print(f"target import+load <= {TARGET_S} s: {'OK' if ok else 'MISSED'} "
          f"(float32 median {base:.3f} s = {base / TARGET_S:.2f} of budget)")
    write_report(args.out, report)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
