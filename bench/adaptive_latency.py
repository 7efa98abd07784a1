"""Per-request cost of the `adaptive` strategy at 100k celebrities (numpy only), beside `random`.

Each API request of a quiz runs one strategy call: a pick runs `next_round`, the result runs
`rank`. The adaptive strategy recomputes its posterior from the history; a warm process reuses
the previous round's likelihood (LikelihoodCache), a cold one (another Lambda container, or
an evicted entry) recomputes every round. Both are timed: "cold" clears the cache before every
call, the worst case. Target: every request ≤ 15 ms.

    .venv/bin/python bench/adaptive_latency.py [--celebs 100000] [--quizzes 30]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the serving entry points do

import argparse
import platform
import time

import numpy as np
from bench_index import RESULTS, synthetic_index_dir, write_report

from idealtype.blobstore import LocalBlobStore
from idealtype.index_format import load_index
from idealtype.quiz.pool import Pool
from idealtype.quiz.strategies import RoundRecord, get_strategy, round_rng
from idealtype.quiz.strategies.adaptive_model import adaptive_model
from idealtype.quiz.strategies.posterior import CACHE

TARGET_MS = 15.0
SHAPES = ((4, 10), (6, 15), (8, 20))  # (choices, rounds): the default and the API's maxima


def ms_stats(samples: list[float]) -> dict[str, float]:
    ms = np.asarray(samples) * 1e3
    return {"n": len(ms), "p50_ms": round(float(np.median(ms)), 2),
            "p95_ms": round(float(np.percentile(ms, 95)), 2), "max_ms": round(float(ms.max()), 2)}


def time_quizzes(strategy, pool: Pool, choices: int, rounds: int, quizzes: int, cold: bool) -> dict:
    """Runs `quizzes` quizzes whose simulated person picks the face nearest a hidden random
    celebrity; times every next_round and the final rank."""
    index = pool.index
    rng = np.random.default_rng(0)
    rounds_t: list[float] = []
    rank_t: list[float] = []
    for q in range(quizzes):
        ideal = index.centroids[int(rng.integers(index.n_celebs))]
        history: list[RoundRecord] = []
        for r in range(rounds):
            if cold:
                CACHE.clear()
            t = time.perf_counter()
            shown = strategy.next_round(pool, history, choices, round_rng(q, r))
            rounds_t.append(time.perf_counter() - t)
            pick = shown[int(np.argmax(index.embeddings[shown] @ ideal))]
            history.append(RoundRecord(tuple(shown), pick))
        if cold:
            CACHE.clear()
        t = time.perf_counter()
        strategy.rank(pool, history, 7)
        rank_t.append(time.perf_counter() - t)
    return {"next_round": ms_stats(rounds_t), "rank": ms_stats(rank_t)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--celebs", type=int, default=100_000)
    parser.add_argument("--quizzes", type=int, default=30)
    args = parser.parse_args()
    index_dir = synthetic_index_dir(args.celebs, 2)
    index = load_index(LocalBlobStore(index_dir))
    pool = Pool(index)
    adaptive, baseline = get_strategy("adaptive"), get_strategy("random")
    t = time.perf_counter()
    adaptive_model(pool, adaptive.cfg)
    model_s = time.perf_counter() - t
    print(f"{index.n_celebs} celebrities, {index.n_images} images; adaptive model built in "
          f"{model_s:.2f} s (once per pool per process)")
    report = {"celebrities": index.n_celebs, "images": index.n_images, "target_ms": TARGET_MS,
              "model_build_s": round(model_s, 3), "machine": platform.platform(), "shapes": {}}
    worst = 0.0
    for choices, rounds in SHAPES:
        shape = f"N={choices},M={rounds}"
        base = time_quizzes(baseline, pool, choices, rounds, args.quizzes, cold=False)
        warm = time_quizzes(adaptive, pool, choices, rounds, args.quizzes, cold=False)
        cold = time_quizzes(adaptive, pool, choices, rounds, args.quizzes, cold=True)
        report["shapes"][shape] = {"random": base, "adaptive_warm": warm, "adaptive_cold": cold}
        for call in ("next_round", "rank"):
            b, w, c = base[call]["p95_ms"], warm[call]["p95_ms"], cold[call]["p95_ms"]
            worst = max(worst, cold[call]["max_ms"])
            print(f"{shape:11s} {call:10s} p95: random {b:6.2f} ms | adaptive warm {w:6.2f} ms "
                  f"({w / max(b, 1e-3):5.1f}x) | adaptive cold {c:6.2f} ms ({c / max(b, 1e-3):5.1f}x)"
                  f" max {cold[call]['max_ms']:.2f} ms")
    report["worst_cold_ms"] = round(worst, 2)
    report["meets_target"] = worst <= TARGET_MS
    print(f"worst cold request {worst:.2f} ms (target ≤ {TARGET_MS} ms): "
          f"{'met' if worst <= TARGET_MS else 'NOT met'}")
    write_report(RESULTS / "adaptive_latency.json", report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
