"""Identification quality of published indexes, side by side: leave-one-out rank-1 and pairwise
verification AUC of the stored embeddings against their celebrity labels (the protocol of
embedding_quality.py, without embedding anything again). Use it to compare two builds of one
gallery, e.g. before and after a change to the face rule:

    .venv/bin/python bench/index_quality.py /work/var/lfw-index /work/var/lfw-index-v2

A wrong face in a photo (a neighbour picked in a group shot) lowers both figures, so the
better build of the same photos scores higher.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from bench_index import RESULTS, write_report
from build_bench_common import machine
from embedding_quality import score

from idealtype.blobstore import open_store
from idealtype.index_format import load_index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("indexes", nargs="+", help="index locations (folder or s3://)")
    parser.add_argument("--out", default=str(RESULTS / "index_quality.json"))
    args = parser.parse_args()
    rows = []
    for location in args.indexes:
        started = time.perf_counter()
        index = load_index(open_store(location))
        labels = np.asarray(index.image_celeb)
        row = {"index": location, "version": index.version, "model": index.manifest.get("model"),
               "celebrities": index.n_celebs,
               **score(np.asarray(index.embeddings), labels, np.ones(len(labels), bool)),
               "seconds": round(time.perf_counter() - started, 1)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    first = rows[0]
    for row in rows[1:]:
        print(f"{row['version']} vs {first['version']}: rank-1 {row['rank1']:.4f} vs "
              f"{first['rank1']:.4f} ({row['rank1'] - first['rank1']:+.4f}), AUC {row['auc']:.5f} "
              f"vs {first['auc']:.5f} ({row['auc'] - first['auc']:+.5f})")
    write_report(Path(args.out), {"protocol": "leave-one-out rank-1 / pairwise AUC over the stored "
                            "embeddings; probes = celebrities with >= 2 faces",
                            "indexes": rows, "machine": machine()})


if __name__ == "__main__":
    main()
