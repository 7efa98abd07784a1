"""Scale-out check: two `idealtype build --shard i/2` processes running at once, then
`--merge`, publish the same index as one `idealtype build` process on the same photos.

Compared: image rows (ids, sources, boxes, crops), celebrities, report summary and skipped
list exactly; embeddings and centroids to float tolerance (batch composition differs between
the runs, and CPU kernels may round differently per batch). Times are reported, not targets.

    python bench/shard_merge.py [--gallery PATH] [--photos 400]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from build_bench_common import gallery_path, machine, write_result

IDEALTYPE = [sys.executable, "-m", "idealtype.cli", "build"]


def build(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(IDEALTYPE + args + ["--no-progress"], stdout=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen) -> str:
    out, _ = proc.communicate()
    if proc.returncode != 0:
        sys.exit(f"{proc.args} failed with {proc.returncode}")
    return out


def load(out: Path):
    from idealtype.blobstore import LocalBlobStore
    from idealtype.index_format import load_index

    store = LocalBlobStore(out)
    index = load_index(store)
    return index, json.loads(store.get(f"index/{index.version}/report.json"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gallery", help="default $IDEALTYPE_GALLERY or ../shared/data/lfw")
    parser.add_argument("--photos", type=int, default=400)
    args = parser.parse_args()
    gallery = str(gallery_path(args.gallery))
    subset = ["--limit", str(args.photos)]

    with tempfile.TemporaryDirectory() as tmp:
        single_out, sharded_out = Path(tmp, "single"), Path(tmp, "sharded")
        started = time.perf_counter()
        finish(build([gallery, "--out", str(single_out)] + subset))
        single_seconds = time.perf_counter() - started

        started = time.perf_counter()
        shards = [
            build([gallery, "--out", str(sharded_out), "--shard", f"{i}/2"] + subset)
            for i in range(2)
        ]
        shard_output = [finish(proc) for proc in shards]
        shards_seconds = time.perf_counter() - started
        finish(build([gallery, "--out", str(sharded_out), "--merge"] + subset))
        sharded_seconds = time.perf_counter() - started

        single, single_report = load(single_out)
        merged, merged_report = load(sharded_out)
        emb_diff = float(
            np.abs(single.embeddings.astype(np.float32) - merged.embeddings.astype(np.float32)).max()
        )
        centroid_diff = float(np.abs(single.centroids - merged.centroids).max())
        checks = {
            "images_equal": single.images == merged.images,
            "celebs_equal": single.celebs == merged.celebs,
            "clusters_equal": bool(np.array_equal(single.clusters, merged.clusters)),
            "summary_equal": single_report["summary"] == merged_report["summary"],
            "skipped_equal": single_report["skipped"] == merged_report["skipped"],
            "embeddings_max_abs_diff": emb_diff,
            "centroids_max_abs_diff": centroid_diff,
            "embeddings_close": emb_diff < 1e-4,
        }
        same = all(v for k, v in checks.items() if k.endswith(("_equal", "_close")))
        result = {
            "photos": args.photos,
            "faces": single.n_images,
            "celebrities": single.n_celebs,
            "single_process_seconds": round(single_seconds, 1),
            "two_shard_processes_seconds": round(shards_seconds, 1),
            "two_shards_plus_merge_seconds": round(sharded_seconds, 1),
            "shard_outputs": [line.strip() for out in shard_output for line in out.splitlines()[:1]],
            "checks": checks,
            "merged_equals_single": same,
            "machine": machine(),
        }
    print(json.dumps(checks, indent=1))
    print(
        f"single process {single_seconds:.1f}s, 2 shard processes {shards_seconds:.1f}s "
        f"(+ merge {sharded_seconds - shards_seconds:.1f}s); merged == single: {same}"
    )
    write_result("shard_merge.json", result)
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
