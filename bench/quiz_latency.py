"""In-process latency of the quiz endpoints' work on synthetic 10k- and 100k-celebrity indexes
(512-d): create-quiz, submit-pick and result, p50/p99 per strategy, side by side.

Two layers are timed: `service` (the quiz engine + SQLite session store, what every request
does) and `lambda` (the Lambda handler — Mangum + the FastAPI app — invoked in process with
API Gateway v2 events built like events/*.json, so routing, validation and JSON are included,
as on AWS minus the network). Target: p99 <= 15 ms at 100k celebrities.

    .venv/bin/python bench/quiz_latency.py [--sizes 10000 100000] [--quizzes 200]
"""

from __future__ import annotations

import os

# As in the serving entry points (idealtype.api sets it, but numpy is imported first here).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_index import REPO, RESULTS, synthetic_index_dir, write_report
from mangum import Mangum

from idealtype.api.app import create_app
from idealtype.api.index_cache import IndexCache
from idealtype.api.settings import Settings
from idealtype.blobstore import LocalBlobStore
from idealtype.quiz.service import QuizService
from idealtype.quiz.strategies import available
from idealtype.sessions.sqlite import SQLiteSessionStore

sys.path.insert(0, str(REPO / "events"))
from make_events import http_api_event

TARGET_P99_MS = 15.0
ROUNDS = 10
CHOICES = 4


def percentiles(samples: list[float]) -> dict[str, float]:
    ms = np.asarray(samples) * 1000
    return {"n": len(ms), "p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p99_ms": round(float(np.percentile(ms, 99)), 3),
            "max_ms": round(float(ms.max()), 3)}


def time_centroid_scan(index, repeats: int = 50) -> dict:
    """The floor under `result`: one centroids @ vector product over every celebrity (memory
    bound: the whole float32 centroid matrix is read once per result)."""
    ideal = np.asarray(index.centroids[0], dtype=np.float32)
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        index.centroids @ ideal
        samples.append(time.perf_counter() - t)
    stats = percentiles(samples)
    stats["megabytes"] = round(index.centroids.nbytes / 1e6, 1)
    stats["gb_per_s_at_p50"] = round(index.centroids.nbytes / 1e6 / stats["p50_ms"], 2)
    return stats


def time_service(service: QuizService, strategy: str, quizzes: int) -> dict[str, dict]:
    samples: dict[str, list[float]] = {"create": [], "pick": [], "result": []}
    for _ in range(quizzes):
        t = time.perf_counter()
        quiz = service.create(choices=CHOICES, rounds=ROUNDS, strategy=strategy)
        samples["create"].append(time.perf_counter() - t)
        sid = quiz.session.session_id
        for n in range(ROUNDS):
            t = time.perf_counter()
            quiz = service.pick(sid, n, quiz.session.shown[n][n % CHOICES])
            samples["pick"].append(time.perf_counter() - t)
        t = time.perf_counter()
        service.result(sid, 7)
        samples["result"].append(time.perf_counter() - t)
    return {name: percentiles(values) for name, values in samples.items()}


class LambdaContext:
    function_name = "idealtype-api"
    aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:idealtype-api"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def time_lambda(handler: Mangum, strategy: str, quizzes: int) -> dict[str, dict]:
    samples: dict[str, list[float]] = {"create": [], "pick": [], "result": []}

    def call(method: str, path: str, query: str = "", body: dict | None = None) -> dict:
        event = http_api_event(method, path, query, body)
        started = time.perf_counter()
        response = handler(event, LambdaContext())
        elapsed = time.perf_counter() - started
        assert response["statusCode"] in (200, 201), response["body"]
        return {"elapsed": elapsed, **json.loads(response["body"])}

    for _ in range(quizzes):
        body = call("POST", "/api/sessions", body={"choices": CHOICES, "rounds": ROUNDS,
                                                    "strategy": strategy})
        samples["create"].append(body["elapsed"])
        sid, rnd = body["session_id"], body["round"]
        for n in range(ROUNDS):
            pick = {"round": n, "image_id": rnd["faces"][n % CHOICES]["image_id"]}
            answer = call("POST", f"/api/sessions/{sid}/picks", body=pick)
            samples["pick"].append(answer["elapsed"])
            rnd = answer["round"]
        samples["result"].append(call("GET", f"/api/sessions/{sid}/result", "k=7")["elapsed"])
    return {name: percentiles(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--images-per-celeb", type=int, default=2)
    parser.add_argument("--quizzes", type=int, default=200, help="quizzes per strategy")
    parser.add_argument("--strategies", nargs="+", default=["random", "cluster"],
                        help=f"any of: {', '.join(available())}")
    parser.add_argument("--out", type=Path, default=RESULTS / "quiz_latency.json")
    args = parser.parse_args(argv)

    report: dict = {"target_p99_ms": TARGET_P99_MS, "choices": CHOICES, "rounds": ROUNDS,
                    "machine": platform.platform(), "sizes": {}}
    print(f"{'celebs':>7} {'layer':>7} {'strategy':>9} {'op':>7} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'max ms':>8}")
    passed = True
    for size in args.sizes:
        index_dir = synthetic_index_dir(size, args.images_per_celeb)
        with tempfile.TemporaryDirectory() as tmp:
            cache = IndexCache(LocalBlobStore(index_dir))
            started = time.perf_counter()
            index = cache.current()
            load_s = time.perf_counter() - started
            service = QuizService(cache, SQLiteSessionStore(Path(tmp) / "s.db"), 3600)
            app = create_app(Settings(index=str(index_dir), sessions=str(Path(tmp) / "a.db")),
                             service=service)
            handler = Mangum(app, lifespan="off")
            entry: dict = {"images": index.n_images, "index_load_s": round(load_s, 3),
                           "service": {}, "lambda": {}}
            entry["centroid_scan"] = scan = time_centroid_scan(index)
            print(f"{size:>7} {'floor':>7} {'-':>9} {'scan':>7} {scan['p50_ms']:>8.2f} "
                  f"{scan['p99_ms']:>8.2f} {scan['max_ms']:>8.2f}  ({scan['megabytes']} MB "
                  f"of centroids, {scan['gb_per_s_at_p50']} GB/s)", flush=True)
            for strategy in args.strategies:
                # Warm up (pool and per-pool precomputation are built on first use).
                time_service(service, strategy, 5)
                time_lambda(handler, strategy, 5)
                for layer, timer, target in (("service", time_service, service),
                                             ("lambda", time_lambda, handler)):
                    stats = timer(target, strategy, args.quizzes)
                    entry[layer][strategy] = stats
                    for op, s in stats.items():
                        print(f"{size:>7} {layer:>7} {strategy:>9} {op:>7} "
                              f"{s['p50_ms']:>8.2f} {s['p99_ms']:>8.2f} {s['max_ms']:>8.2f}",
                              flush=True)
                        passed &= s["p99_ms"] <= TARGET_P99_MS
            report["sizes"][str(size)] = entry
    worst = max(s["p99_ms"] for e in report["sizes"].values() for layer in ("service", "lambda")
                for st in e[layer].values() for s in st.values())
    report["strategies"] = args.strategies
    report["worst_p99_ms"] = worst
    report["target_met"] = bool(passed)
    print(f"worst p99 ({', '.join(args.strategies)}; both layers): {worst:.2f} ms vs target "
          f"{TARGET_P99_MS} ms -> {'OK' if passed else 'MISSED'} "
          f"(ratio {worst / TARGET_P99_MS:.2f} of budget)")
    write_report(args.out, report)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
