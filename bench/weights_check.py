"""Check the converted CASIA-WebFace FaceNet weights against ground-truth embeddings.

The reference file (`../shared/reference/facenet_casia_reference.npz` beside the checkout, or
--reference PATH) holds 8 standardized 160x160 inputs and the embeddings OpenCV's dnn computed
from the original frozen graph. Every row must reach cosine >= 0.9999. Prints a table and writes
bench/results/weights_check.json.

    .venv/bin/python bench/weights_check.py [--reference PATH] [--cache DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from idealtype.build.weights import load_facenet

REPO = Path(__file__).resolve().parents[1]
DEFAULT_REFERENCE = REPO.parent / "shared" / "reference" / "facenet_casia_reference.npz"
RESULTS = REPO / "bench" / "results" / "weights_check.json"
MIN_COSINE = 0.9999


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--cache", type=Path, default=None, help="weights cache directory")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not args.reference.exists():
        print(f"reference embeddings not found at {args.reference}; pass --reference PATH "
              "(the file ships in ../shared/reference/ beside the checkout)", file=sys.stderr)
        return 2

    torch.set_num_threads(2)
    reference = np.load(args.reference)
    inputs, expected = reference["inputs"], reference["embeddings"]
    labels = [str(label) for label in reference["labels"]]

    started = time.perf_counter()
    model, weights_sha256 = load_facenet("casia-webface", args.cache)
    load_seconds = time.perf_counter() - started
    with torch.no_grad():
        # Batch size 1, as the reference was computed; batching must not matter for BN in eval.
        actual = np.concatenate([model(torch.from_numpy(row[None])).numpy() for row in inputs])

    cosines = (actual * expected).sum(1) / (
        np.linalg.norm(actual, axis=1) * np.linalg.norm(expected, axis=1)
    )
    max_abs = np.abs(actual - expected).max(axis=1)
    rows = [
        {"row": i, "label": labels[i], "cosine": float(cosines[i]),
         "max_abs_diff": float(max_abs[i]), "ok": bool(cosines[i] >= MIN_COSINE)}
        for i in range(len(labels))
    ]
    print(f"{'row':>3}  {'label':<40} {'cosine':>10} {'max|diff|':>10}  ok")
    for row in rows:
        print(f"{row['row']:>3}  {row['label']:<40} {row['cosine']:>10.7f} "
              f"{row['max_abs_diff']:>10.2e}  {'yes' if row['ok'] else 'NO'}")
    passed = all(row["ok"] for row in rows)
    print(f"min cosine {cosines.min():.7f} (threshold {MIN_COSINE}); "
          f"weights sha256 {weights_sha256}; load {load_seconds:.1f} s; "
          f"{'PASS' if passed else 'FAIL'}")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "reference": str(args.reference),
        "weights_sha256": weights_sha256,
        "threshold": MIN_COSINE,
        "min_cosine": float(cosines.min()),
        "max_abs_diff": float(max_abs.max()),
        "load_seconds": round(load_seconds, 2),
        "passed": passed,
        "rows": rows,
    }, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
