"""Over-HTTP throughput of the pick endpoint vs a trivial endpoint (GET /api/health) of the
same app, measured side by side in one run against a local `idealtype serve` (uvicorn, one
process, SQLite sessions) on a synthetic index. Target: pick >= 60% of the trivial endpoint.

The load generator is a small asyncio HTTP/1.1 keep-alive client (orjson for the pick bodies,
so the client's own JSON work stays small next to the server's); it runs in this process, so
client and server share the machine's cores like any local test. Measurements alternate
(trivial, pick, trivial, pick, ...) so background load hits both alike. Besides requests/s the
server's CPU time per request is reported for both (from /proc): on a loaded shared machine it
varies less than throughput.

    .venv/bin/python bench/http_throughput.py [--celebs 10000] [--seconds 5] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import orjson
from bench_index import RESULTS, synthetic_index_dir, write_report

TARGET_RATIO = 0.60
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_server(index_dir: Path, sessions: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "idealtype.cli", "serve", "--index", str(index_dir),
         "--port", str(port), "--sessions", str(sessions), "--frontend", str(sessions.parent)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read()}")
        try:
            urllib.request.urlopen(f"http://{HOST}:{port}/api/health", timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def cpu_seconds(pid: int) -> float:
    """User+system CPU time the server process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def request_bytes(method: str, path: str, body: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nAccept: application/json\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return status, await reader.readexactly(length)


async def create_sessions(port: int, count: int, rounds: int) -> list[dict]:
    reader, writer = await asyncio.open_connection(HOST, port)
    body = orjson.dumps({"choices": 4, "rounds": rounds, "strategy": "random"})
    sessions = []
    for _ in range(count):
        writer.write(request_bytes("POST", "/api/sessions", body))
        status, payload = await read_response(reader)
        assert status == 201, payload
        created = orjson.loads(payload)
        sessions.append({"id": created["session_id"], "round": created["round"]})
    writer.close()
    return sessions


async def run_load(port: int, seconds: float, connections: int, kind: str,
                   sessions: list[dict]) -> dict:
    """Requests/s with `connections` keep-alive connections for `seconds`."""
    counts = {"ok": 0, "error": 0}
    deadline = time.perf_counter() + seconds
    health = request_bytes("GET", "/api/health")

    async def worker(own: list[dict]) -> None:
        # Each connection plays its own quizzes: no two in-flight picks on one quiz.
        reader, writer = await asyncio.open_connection(HOST, port)
        while time.perf_counter() < deadline:
            if kind == "trivial":
                writer.write(health)
                status, _ = await read_response(reader)
            else:
                session = own[-1]
                rnd = session["round"]
                pick = orjson.dumps({"round": rnd["index"],
                                     "image_id": rnd["faces"][0]["image_id"]})
                writer.write(request_bytes("POST", f"/api/sessions/{session['id']}/picks", pick))
                status, payload = await read_response(reader)
                answer = orjson.loads(payload)
                if status == 200 and not answer["done"]:
                    session["round"] = answer["round"]
                else:
                    own.pop()
            counts["ok" if status == 200 else "error"] += 1
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(sessions[i::connections]) for i in range(connections)))
    elapsed = time.perf_counter() - started
    return {"requests": counts["ok"], "errors": counts["error"], "seconds": round(elapsed, 3),
            "rps": round(counts["ok"] / elapsed, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--celebs", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--out", type=Path, default=RESULTS / "http_throughput.json")
    args = parser.parse_args(argv)

    index_dir = synthetic_index_dir(args.celebs, 2)
    load_at_start = os.getloadavg()
    rounds = 20
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start_server(index_dir, Path(tmp) / "sessions.sqlite3", port)
        try:
            runs: dict[str, list[dict]] = {"trivial": [], "pick": []}
            for repeat in range(args.repeats):
                for kind in ("trivial", "pick"):
                    sessions: list[dict] = []
                    if kind == "pick":
                        # Enough open quizzes for the whole window (20 picks each), made first.
                        need = int(runs["trivial"][-1]["rps"] * args.seconds * 1.5 / rounds) + 50
                        sessions = asyncio.run(create_sessions(port, need, rounds))
                    cpu_before = cpu_seconds(server.pid)
                    result = asyncio.run(run_load(port, args.seconds, args.connections, kind,
                                                  sessions))
                    # Server CPU per request: what the endpoint costs, whatever else runs.
                    result["server_cpu_ms_per_request"] = round(
                        (cpu_seconds(server.pid) - cpu_before) * 1000 / max(result["requests"], 1),
                        3)
                    runs[kind].append(result)
                    print(f"run {repeat + 1}: {kind:>7}: {result['rps']:8.1f} req/s "
                          f"({result['requests']} ok, {result['errors']} errors; server CPU "
                          f"{result['server_cpu_ms_per_request']:.3f} ms/request)", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=10)

    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    trivial = median([r["rps"] for r in runs["trivial"]])
    pick = median([r["rps"] for r in runs["pick"]])
    ratio = pick / trivial
    cpu = {kind: median([r["server_cpu_ms_per_request"] for r in runs[kind]]) for kind in runs}
    cpu_ratio = cpu["trivial"] / cpu["pick"]
    ok = ratio >= TARGET_RATIO and all(r["errors"] == 0 for v in runs.values() for r in v)
    print(f"median: trivial {trivial:.1f} req/s, pick {pick:.1f} req/s -> pick/trivial "
          f"{ratio:.2f} (target >= {TARGET_RATIO}) {'OK' if ok else 'MISSED'}; server CPU "
          f"per request: trivial {cpu['trivial']:.3f} ms, pick {cpu['pick']:.3f} ms -> "
          f"{cpu_ratio:.2f}; load average {os.getloadavg()[0]:.2f}")
    report = {"target_ratio": TARGET_RATIO, "celebrities": args.celebs,
              "connections": args.connections, "seconds_per_run": args.seconds,
              "trivial_endpoint": "GET /api/health", "pick_endpoint":
              "POST /api/sessions/{id}/picks", "runs": runs, "trivial_rps": trivial,
              "pick_rps": pick, "ratio": round(ratio, 3), "target_met": ok,
              "server_cpu_ms_per_request": cpu, "cpu_ratio": round(cpu_ratio, 3),
              "load_average_at_start": load_at_start, "load_average_at_end": os.getloadavg(),
              "machine": platform.platform()}
    write_report(args.out, report)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
