"""Next-round (warm, or with --cold) and result time of the served `adaptive` against a variant
of its configuration, interleaved in one process on the same quiz histories at 100k celebrities.

Why interleaved: on a shared VM two runs of bench/adaptive_latency.py can differ by more than a
change of 1-2 ms does. Here every request of one side is followed (or preceded, alternating) by
the same request of the other, so drift in the machine's speed hits both alike.

Each history is a simulated person's quiz (Luce, β=20, an ideal drawn from the pool's people)
played with the served strategy; for round k, both sides first answer the request of round
k − 1 from an empty cache (which leaves its likelihoods there, as a warm process has them), then
the timed request of round k. With --cold the cache is emptied again before it, and the request
starts from the live set the quiz item kept after round k − 1, as in a process that did not
serve that pick. A result is timed as the service runs it: `rank` from the state the quiz item
keeps after the last pick (each side's own `final_state`, untimed).

The core's speed is probed just before every timed request (bench_index.SpeedProbe): on a
shared VM it drifts by up to ~1.7x second by second. Besides all requests, each side's figures
are also given over the requests timed at full speed (probe within 10% of the run's 10th
percentile), which is what a core of its own would serve.

With --revision REV the variant side is the served strategy of git revision REV instead
(code_revision.py: its own copy of the serving code, index load and caches), plus the
configuration changes if given: a code change timed against the code before it.

    .venv/bin/python bench/adaptive_config_ab.py '{"pair_pool": 24}' [--gallery lfw-mix]
        [--quizzes 8] [--repeats 3] [--choices 4] [--rounds 10] [--offer-none] [--cold] [--out PATH]
    .venv/bin/python bench/adaptive_config_ab.py --revision 2a27693 --offer-none
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the serving entry points do

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from adaptive_latency import gallery_dir, ms_stats
from bench_index import RESULTS, SpeedProbe, cpu_profile, full_speed, write_report
from code_revision import served_code_at

from idealtype.blobstore import LocalBlobStore
from idealtype.evaluation.users import Chooser, luce
from idealtype.index_format import load_index
from idealtype.quiz.pool import Pool
from idealtype.quiz.strategies import RoundRecord, round_rng
from idealtype.quiz.strategies.adaptive import AdaptiveStrategy
from idealtype.quiz.strategies.adaptive_config import DEFAULT
from idealtype.quiz.strategies.posterior import CACHE

RESULT_TURNS = 4  # each result is timed this many times a repeat (a result is one request a quiz)


def histories(strategy: AdaptiveStrategy, pool: Pool, quizzes: int, choices: int,
              rounds: int, offer_none: bool) -> list[list[RoundRecord]]:
    index = pool.index
    chooser = Chooser(luce(20.0), index.embeddings, 0)
    rng = np.random.default_rng(0)
    out = []
    for q in range(quizzes):
        ideal = index.centroids[pool.celeb_rows[int(rng.integers(len(pool)))]]
        history: list[RoundRecord] = []
        for r in range(rounds):
            shown = strategy.next_round(pool, history, choices, round_rng(q, r))
            history.append(RoundRecord(tuple(shown), chooser.choose(shown, ideal, rng), offer_none))
        out.append(history)
    return out


def side_by_side(label: str, samples: dict[str, list[float]], probes: dict[str, list[float]],
                 reference: float) -> dict[str, dict]:
    """Each side's timing records (adaptive_latency.ms_stats), printed side by side, and under
    "full_speed" those of its requests timed while the core ran at full speed (bench_index.
    full_speed; `reference`: the run's full-speed probe)."""
    stats = {}
    for name, times in samples.items():
        fast = full_speed(times, probes[name], reference)
        stats[name] = {**ms_stats(times), "full_speed": ms_stats(fast) if fast else {"n": 0}}
    for key, what in (("", "all"), ("full_speed", "at full speed")):
        s, v = (stats[name][key] if key else stats[name] for name in ("served", "variant"))
        if not (s["n"] and v["n"]):
            print(f"{label}, {what}: no request on one side")
            continue
        print(f"{label}, {what} (n={s['n']}/{v['n']}): served median {s['p50_ms']} p95 "
              f"{s['p95_ms']} ms | variant median {v['p50_ms']} p95 {v['p95_ms']} ms "
              f"({v['p50_ms'] / s['p50_ms']:.2f}x at the median, {v['p95_ms'] / s['p95_ms']:.2f}x "
              f"at p95)")
    return stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", nargs="?", default="{}",
                        help="JSON object of AdaptiveConfig fields to change (default: none)")
    parser.add_argument("--revision", default=None,
                        help="the variant runs the serving code of this git revision (its own "
                             "package copy, index load and caches; code_revision.py)")
    parser.add_argument("--gallery", default="lfw-mix", help="synthetic or lfw-mix")
    parser.add_argument("--celebs", type=int, default=100_000)
    parser.add_argument("--lfw-index", default=None, help="real index the lfw-mix gallery grows from")
    parser.add_argument("--quizzes", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--choices", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--offer-none", action="store_true",
                        help="rounds offer \"none of these\" (as the API does by default); the "
                             "simulated person never answers it")
    parser.add_argument("--cold", action="store_true",
                        help="next rounds in a process that did not serve the previous pick")
    parser.add_argument("--out", type=Path, default=RESULTS / "adaptive_config_ab.json")
    args = parser.parse_args()
    changes = json.loads(args.variant)
    index_dir = gallery_dir(args.gallery, args.celebs, args.lfw_index)
    if index_dir is None:
        return 1
    pool = Pool(load_index(LocalBlobStore(index_dir)))
    # Each side: its strategy, its pool and its likelihood cache.
    sides = {"served": (AdaptiveStrategy(DEFAULT), pool, CACHE)}
    if args.revision:
        code = served_code_at(args.revision)
        sides["variant"] = (code.AdaptiveStrategy(replace(code.DEFAULT, **changes)),
                            code.Pool(code.load_index(code.LocalBlobStore(index_dir))), code.CACHE)
    else:
        sides["variant"] = (AdaptiveStrategy(replace(DEFAULT, **changes)), pool, CACHE)
    played = histories(sides["served"][0], pool, args.quizzes, args.choices, args.rounds,
                       args.offer_none)
    times: dict[str, dict[int, list[float]]] = {name: {} for name in sides}
    results: dict[str, list[float]] = {name: [] for name in sides}
    # The core's speed just before each timed request, in the same order as the times.
    probe = SpeedProbe()
    speed: dict[str, dict[int, list[float]]] = {name: {} for name in sides}
    result_speed: dict[str, list[float]] = {name: [] for name in sides}
    states = {name: [strategy.final_state(own, h) for h in played]
              for name, (strategy, own, _) in sides.items()}
    for rep in range(args.repeats):
        for i, history in enumerate(played):
            for k in range(len(history)):
                order = list(sides) if (rep + k) % 2 else list(sides)[::-1]
                for name in order:
                    strategy, own, cache = sides[name]
                    # Only this side's round k − 1 in the cache: else the side timed second
                    # would find round k's likelihoods left there by the first.
                    cache.clear()
                    kept = strategy.next_round_state(own, history[:k - 1], args.choices,
                                                     round_rng(1, k))[1] if k else None
                    if args.cold:  # another process: only the live set the quiz item kept
                        cache.clear()
                    speed[name].setdefault(k, []).append(probe())
                    started = time.perf_counter()
                    strategy.next_round_state(own, history[:k], args.choices, round_rng(2, k), kept)
                    times[name].setdefault(k, []).append(time.perf_counter() - started)
            for turn in range(RESULT_TURNS):
                for name in (list(sides) if turn % 2 else list(sides)[::-1]):
                    result_speed[name].append(probe())
                    started = time.perf_counter()
                    strategy, own, _ = sides[name]
                    strategy.rank(own, history, 7, states[name][i])
                    results[name].append(time.perf_counter() - started)
    report = {"variant": changes, "revision": code.commit if args.revision else None,
              "gallery": args.gallery, "celebrities": len(pool),
              "choices": args.choices, "rounds": args.rounds, "offer_none": args.offer_none,
              "cold": args.cold, "cpu": cpu_profile(), "by_round": {}}
    for k in sorted(times["served"]):
        a, b = ms_stats(times["served"][k]), ms_stats(times["variant"][k])
        report["by_round"][k] = {"served": a, "variant": b}
        print(f"round {k}: median served {a['p50_ms']:6.2f} ms, variant {b['p50_ms']:6.2f} ms "
              f"({b['p50_ms'] / a['p50_ms']:.2f}x)")
    flat = {name: [t for v in times[name].values() for t in v] for name in sides}
    flat_speed = {name: [p for v in speed[name].values() for p in v] for name in sides}
    every = [p for name in sides for p in flat_speed[name] + result_speed[name]]
    reference = float(np.percentile(every, 10))
    report["speed_probe_ns"] = {"p10": round(reference, 3),
                                "p50": round(float(np.median(every)), 3),
                                "max": round(float(np.max(every)), 3)}
    print(f"core speed (float32 exp, ns per element) before the timed requests: p10 "
          f"{reference:.3f}, median {np.median(every):.3f}, max {np.max(every):.3f}")
    report["all"] = side_by_side("next rounds", flat, flat_speed, reference)
    report["result"] = side_by_side("results", results, result_speed, reference)
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
