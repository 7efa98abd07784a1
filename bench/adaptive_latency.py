"""Per-request cost of the `adaptive` strategy at 100k celebrities (numpy only), beside `random`.

Each API request of a quiz runs the strategy's calls for it: a pick runs `is_done` (adaptive
finishes early once its posterior has settled) and then `next_round_state` (its state, the
posterior's live particles, is kept in the quiz item for the next pick) or, in the pick that
finishes the quiz, `final_state` (kept in the quiz item); the result runs `rank` from that
state. Quizzes play until the strategy is done, so an early finish shortens them. The
adaptive strategy recomputes its posterior from the history; a warm process reuses the
previous round's likelihood (LikelihoodCache), a cold one (another Lambda container, or
an evicted entry) recomputes every round for the particles the item's state keeps. Both are
timed: "cold" clears the cache before every call, the worst case; also cold for quizzes that
offer "none of these" (the API's default), whose person answers it when no face reaches their
bar. Target: every request ≤ 15 ms. `result_recomputed` is the result of a quiz item without a
kept state (written before it existed, or on another index version).

Two galleries: `synthetic` (the lead's: people are independent random directions, energy spread
over all 512 dimensions, a worst case for anything low-rank) and `lfw-mix` (FaceNet-like,
grown from a real LFW index: needs --lfw-index or $IDEALTYPE_LFW_INDEX; skipped otherwise).

    .venv/bin/python bench/adaptive_latency.py [--celebs 100000] [--quizzes 30]
        [--galleries synthetic,lfw-mix] [--lfw-index /work/var/lfw-index]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the serving entry points do

import argparse
import math
import platform
import time
from pathlib import Path

import numpy as np
import orjson
from bench_index import (
    RESULTS,
    cpu_profile,
    lfw_index_location,
    lfw_mix_index_dir,
    synthetic_index_dir,
    write_report,
)

from idealtype.blobstore import LocalBlobStore
from idealtype.evaluation.users import Chooser, luce, offered_none
from idealtype.index_format import load_index
from idealtype.quiz.pool import Pool
from idealtype.quiz.strategies import RoundRecord, get_strategy, round_rng
from idealtype.quiz.strategies.adaptive_live import LIVE_FORMAT, live_from_state
from idealtype.quiz.strategies.adaptive_model import adaptive_model
from idealtype.quiz.strategies.base import picked_rounds
from idealtype.quiz.strategies.posterior import CACHE

TARGET_MS = 15.0
# Strategy calls per request kind; the target applies to the first three (the fourth is the
# fallback for quiz items without a kept state).
CALLS = ("next_round", "last_pick", "result", "result_recomputed")
SHAPES = ((4, 10), (6, 15), (8, 20))  # (choices, rounds): the default and the API's maxima
NONE_BAR_SHARE = 0.1  # a person offered "none of these" answers it below their top 10%


def ms_stats(samples: list[float]) -> dict[str, float]:
    ms = np.asarray(samples) * 1e3
    return {"n": len(ms), "p50_ms": round(float(np.median(ms)), 2),
            "p95_ms": round(float(np.percentile(ms, 95)), 2), "max_ms": round(float(ms.max()), 2)}


def time_quizzes(strategy, pool: Pool, choices: int, rounds: int, quizzes: int, cold: bool,
                 none_offered: bool = False) -> dict:
    """Runs `quizzes` quizzes whose simulated person picks the face nearest a hidden random
    celebrity; times the strategy call of every request (see the module docstring). With
    `none_offered` the quiz offers "none of these" (as the API does by default) and the
    person answers it when no face reaches their bar (the top 10% of the pool)."""
    index = pool.index
    rng = np.random.default_rng(0)
    # The evaluation's noiseless person (β = ∞), with a bar when "none of these" is offered.
    person = offered_none(math.inf, NONE_BAR_SHARE) if none_offered else luce(math.inf)
    chooser = Chooser(person, index.embeddings, 0, index.centroids[pool.celeb_rows])
    times: dict[str, list[float]] = {call: [] for call in CALLS}
    state_bytes: list[int] = []  # JSON size of the state each pick keeps for the next one
    live: dict[int, int] = {}  # round -> most particles a state after it kept alive (adaptive)

    def timed(call: str, fn, *args, **kwargs):
        if cold:
            CACHE.clear()
        t = time.perf_counter()
        out = fn(*args, **kwargs)
        times[call].append(time.perf_counter() - t)
        return out

    def pick_request(history: list[RoundRecord], quiz: int, kept):
        """What the service runs for a pick: the early-finish check, then the next round or,
        when the quiz is done, the result's state (timed as one request, under its kind)."""
        if cold:
            CACHE.clear()
        t = time.perf_counter()
        if strategy.is_done(pool, history, rounds, kept):
            out = None, strategy.final_state(pool, history, kept)
        else:
            out = strategy.next_round_state(pool, history, choices,
                                            round_rng(quiz, len(history)), kept)
        times["next_round" if out[0] is not None else "last_pick"].append(time.perf_counter() - t)
        return out

    for q in range(quizzes):
        ideal = index.centroids[int(rng.integers(index.n_celebs))]
        history: list[RoundRecord] = []
        # The quiz's creation draws the first round; every pick then runs pick_request. The
        # strategy's state goes through JSON, as a store keeps it.
        shown, kept = timed("next_round", strategy.next_round_state, pool, history, choices,
                            round_rng(q, 0), None)
        while shown is not None:
            kept = orjson.loads(orjson.dumps(kept))
            pick = chooser.choose(shown, ideal, rng)  # (β = ∞: the rng is not drawn from)
            history.append(RoundRecord(tuple(shown), pick, none_offered))
            shown, kept = pick_request(history, q, kept)
            if shown is not None:
                state_bytes.append(len(orjson.dumps(kept)))
                count = live_count(strategy, pool, history, kept)
                live[len(history)] = max(live.get(len(history), 0), count)
        state = orjson.loads(orjson.dumps(kept))
        timed("result", strategy.rank, pool, history, 7, state=state)
        timed("result_recomputed", strategy.rank, pool, history, 7)
    report = {call: ms_stats(samples) for call, samples in times.items()}
    report["round_state_bytes_max"] = max(state_bytes)
    if any(live.values()):
        # What keeping the live particles' likelihoods in the item instead (so a cold request
        # would skip the earlier rounds) would take in the quiz's second half, where cold
        # requests cost most: 2 bytes per particle, decisiveness level and bar level (README,
        # "Why the cold next rounds ... stay over the bound").
        cfg = strategy.cfg
        levels = len(cfg.betas) * (1 + len(cfg.none_bar_shares) if none_offered else 1)
        report["live_particles_by_round"] = [live[r] for r in sorted(live)]
        late = [live[r] * levels * 2 for r in sorted(live) if r > rounds // 2]
        report["late_likelihood_state_bytes"] = [min(late), max(late)] if late else None
    return report


def live_count(strategy, pool: Pool, history: list[RoundRecord], kept) -> int:
    """How many particles the adaptive state `kept` keeps alive after `history` (0 for a
    strategy without one)."""
    if not isinstance(kept, dict) or kept.get("format") != LIVE_FORMAT:
        return 0
    model = adaptive_model(pool, strategy.cfg)
    found = live_from_state(model, strategy.cfg, kept, picked_rounds(history))
    return len(model.log_prior) if found is None else len(found[1])


def ratio(ms: float, baseline_ms: float) -> str:
    """" (12.3x)" beside `random`, or nothing where random does no work (last_pick)."""
    return f" ({ms / baseline_ms:5.1f}x)" if baseline_ms >= 0.01 else ""


def gallery_dir(name: str, celebs: int, lfw_flag: str | None):
    if name == "synthetic":
        return synthetic_index_dir(celebs, 2)
    if name == "lfw-mix":
        lfw = lfw_index_location(lfw_flag)
        return lfw_mix_index_dir(lfw, celebs, 2) if lfw else None
    raise SystemExit(f"unknown gallery {name!r} (synthetic, lfw-mix)")


def bench_gallery(name: str, index_dir, quizzes: int) -> tuple[dict, float]:
    """Report of one gallery and its worst cold request (ms)."""
    index = load_index(LocalBlobStore(index_dir))
    pool = Pool(index)
    adaptive, baseline = get_strategy("adaptive"), get_strategy("random")
    t = time.perf_counter()
    adaptive_model(pool, adaptive.cfg)
    model_s = time.perf_counter() - t
    print(f"[{name}] {index.n_celebs} celebrities, {index.n_images} images; adaptive model built "
          f"in {model_s:.2f} s (once per pool per process)")
    report = {"celebrities": index.n_celebs, "images": index.n_images,
              "model_build_s": round(model_s, 3), "shapes": {}}
    worst = 0.0
    for choices, rounds in SHAPES:
        shape = f"N={choices},M={rounds}"
        if choices * rounds > len(pool.celeb_rows):
            # A quiz never shows a person twice: the API refuses this shape for this pool
            # (pool_too_small), so there is no request to time.
            print(f"[{name}] {shape:11s} skipped: a quiz of this shape shows "
                  f"{choices * rounds} people, the pool has {len(pool.celeb_rows)}", flush=True)
            continue
        base = time_quizzes(baseline, pool, choices, rounds, quizzes, cold=False)
        warm = time_quizzes(adaptive, pool, choices, rounds, quizzes, cold=False)
        cold = time_quizzes(adaptive, pool, choices, rounds, quizzes, cold=True)
        cold_none = time_quizzes(adaptive, pool, choices, rounds, quizzes, cold=True,
                                 none_offered=True)
        report["shapes"][shape] = {"random": base, "adaptive_warm": warm, "adaptive_cold": cold,
                                   "adaptive_cold_none_offered": cold_none}
        for call in CALLS:
            b, w, c = base[call]["p95_ms"], warm[call]["p95_ms"], cold[call]["p95_ms"]
            cn = cold_none[call]["p95_ms"]
            if call != "result_recomputed":
                worst = max(worst, cold[call]["max_ms"], cold_none[call]["max_ms"])
            print(f"[{name}] {shape:11s} {call:17s} p95: random {b:6.2f} ms | adaptive warm "
                  f"{w:6.2f} ms{ratio(w, b)} | adaptive cold {c:6.2f} ms{ratio(c, b)} "
                  f"max {cold[call]['max_ms']:.2f} ms | cold, none offered {cn:6.2f} ms "
                  f"max {cold_none[call]['max_ms']:.2f} ms", flush=True)
        late = cold["late_likelihood_state_bytes"]
        print(f"[{name}] {shape:11s} state kept per pick ≤ {cold['round_state_bytes_max']} B; "
              f"live particles after each round {cold['live_particles_by_round']}"
              + (f": keeping their likelihoods after rounds > M/2 would take "
                 f"{late[0] / 1e3:.0f}-{late[1] / 1e3:.0f} KB" if late else ""), flush=True)
    return report, worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--celebs", type=int, default=100_000)
    parser.add_argument("--quizzes", type=int, default=30)
    parser.add_argument("--galleries", default="synthetic,lfw-mix")
    parser.add_argument("--lfw-index", default=None, help="real index the lfw-mix gallery grows from")
    parser.add_argument("--out", type=Path, default=RESULTS / "adaptive_latency.json")
    args = parser.parse_args()
    cpu = cpu_profile()
    print(f"CPU: {cpu['model']}; numpy SIMD {', '.join(cpu['numpy_simd'])}; one core: float32 "
          f"product {cpu['sgemm_gflops']} GFLOP/s, exp {cpu['exp_f32_ns']} ns", flush=True)
    report = {"target_ms": TARGET_MS, "machine": platform.platform(), "cpu": cpu,
              "load_average": os.getloadavg(), "galleries": {}}
    worst = 0.0
    for name in args.galleries.split(","):
        index_dir = gallery_dir(name, args.celebs, args.lfw_index)
        if index_dir is None:
            continue
        report["galleries"][name], gallery_worst = bench_gallery(name, index_dir, args.quizzes)
        worst = max(worst, gallery_worst)
    report["load_average_after"] = os.getloadavg()
    report["worst_cold_ms"] = round(worst, 2)
    report["meets_target"] = worst <= TARGET_MS
    print(f"worst cold request {worst:.2f} ms (target ≤ {TARGET_MS} ms): "
          f"{'met' if worst <= TARGET_MS else 'NOT met'}; load average {os.getloadavg()}")
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
