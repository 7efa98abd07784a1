"""Scale-out check: two `idealtype build --shard i/2` processes running at once, then
`--merge`, publish the same index as one `idealtype build` process on the same photos.

Compared exactly: image rows (ids, sources, people, crops; all but box/prob), celebrities,
report summary and skipped list. Boxes and embeddings: how many rows are bit-identical, the
largest box shift and the lowest per-row cosine (MTCNN's batched CPU arithmetic depends on
which photos share a batch, so a box can move a pixel or two). Times are reported.

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
        emb_single = single.embeddings.astype(np.float32)
        emb_merged = merged.embeddings.astype(np.float32)
        cosines = (emb_single * emb_merged).sum(1) if len(emb_single) == len(emb_merged) else []

        def without_box(images):
            return [{k: v for k, v in im.items() if k not in ("box", "prob")} for im in images]

        box_diff = max(
            (
                max(abs(a - b) for a, b in zip(x["box"], y["box"]))
                for x, y in zip(single.images, merged.images)
            ),
            default=0.0,
        )
        checks = {
            "rows_equal_except_box_prob": without_box(single.images) == without_box(merged.images),
            "rows_bit_identical": sum(x == y for x, y in zip(single.images, merged.images)),
            "rows": single.n_images,
            "box_max_abs_diff_px": round(box_diff, 2),
            "embedding_min_cosine": round(float(np.min(cosines)), 5) if len(cosines) else None,
            "embeddings_max_abs_diff": float(np.abs(emb_single - emb_merged).max()),
            "centroids_max_abs_diff": float(np.abs(single.centroids - merged.centroids).max()),
            "celebs_equal": single.celebs == merged.celebs,
            "clusters_equal": bool(np.array_equal(single.clusters, merged.clusters)),
            "summary_equal": single_report["summary"] == merged_report["summary"],
            "skipped_equal": single_report["skipped"] == merged_report["skipped"],
        }
        # MTCNN's batched CPU arithmetic depends on which photos share a batch (shards batch
        # different neighbours): a float difference can move a box by a pixel or two, which
        # changes that face's crop. Same photos, ids, people, report; boxes within 3 px.
        same = (
            checks["rows_equal_except_box_prob"]
            and checks["celebs_equal"]
            and checks["summary_equal"]
            and checks["skipped_equal"]
            and box_diff <= 3.0
            and checks["embedding_min_cosine"] is not None
            and checks["embedding_min_cosine"] >= 0.95
        )
        result = {
            "photos": args.photos,
            "faces": single.n_images,
            "celebrities": single.n_celebs,
            "single_process_seconds": round(single_seconds, 1),
            "two_shard_processes_seconds": round(shards_seconds, 1),
            "two_shards_plus_merge_seconds": round(sharded_seconds, 1),
            "shard_outputs": [
                line.strip() for out in shard_output for line in out.splitlines()[:1]
            ],
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
