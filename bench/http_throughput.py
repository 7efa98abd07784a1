"""Over-HTTP throughput of the pick endpoint vs a trivial endpoint (GET /api/health) of the
same app, measured side by side in one run against local `idealtype serve` processes (uvicorn,
one process each, SQLite sessions) on a synthetic index. Target: pick >= 60% of the trivial
endpoint.

Two servers on the same index run at once, one per uvicorn stack, and both are reported:
- h11 + asyncio: uvicorn's pure-Python HTTP parser and asyncio's default loop (plain `uvicorn`);
- httptools + uvloop: the C parser and loop of `uvicorn[standard]`, the `local` extra, which
  `idealtype serve` takes by default (--http/--loop auto).
The pick/trivial ratio mostly measures the stack's fixed cost per request: in process a pick
costs ~95 us against ~18 us for health, so when the C stack removes most of the parser's cost
the trivial endpoint gets ~2x faster, picks only ~1.3x, and the ratio falls although every pick
is served faster. Reporting each stack's ratio (with the target met or missed for each) beside
the pick's own speed-up across stacks keeps either number from being read alone.

The load generator is a small asyncio HTTP/1.1 keep-alive client (orjson for the pick bodies,
so the client's own JSON work stays small next to the server's); it runs in this process, so
client and server share the machine's cores like any local test. Measurements alternate
(per repeat, per stack: trivial, pick; the stacks' order swapped every repeat) so background
load hits all alike. Besides requests/s the server's CPU time per request is reported (from
/proc): on a loaded shared machine it varies less than throughput. Each server's stack is
checked, not assumed: the C extensions mapped into its process must match the stack it names.

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
ROUNDS = 20  # rounds per quiz in the pick runs
# name -> (`idealtype serve --http`, `--loop`); the first is the baseline of the speed-ups.
STACKS = {"h11+asyncio": ("h11", "asyncio"), "httptools+uvloop": ("httptools", "uvloop")}
# Folders of the C extensions, as they appear in /proc/<pid>/maps once imported.
EXTENSION_DIRS = {"httptools": "/httptools/parser/", "uvloop": "/uvloop/"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_server(index_dir: Path, sessions: Path, port: int, http: str,
                 loop: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "idealtype.cli", "serve", "--index", str(index_dir),
         "--port", str(port), "--sessions", str(sessions), "--frontend", str(sessions.parent),
         "--http", http, "--loop", loop],
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


def check_stack(pid: int, http: str, loop: str) -> None:
    """Fail unless the server process has exactly the C extensions its stack names loaded."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    loaded = {name for name, folder in EXTENSION_DIRS.items() if folder in maps}
    if loaded != {http, loop} & EXTENSION_DIRS.keys():
        raise RuntimeError(f"server for {http}+{loop} has C extensions {sorted(loaded)} loaded")


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


def measure(port: int, pid: int, kind: str, seconds: float, connections: int,
            trivial_rps: float) -> dict:
    """One run of `kind` against one server, with the server's CPU time per request."""
    sessions: list[dict] = []
    if kind == "pick":
        # Enough open quizzes for the whole window (ROUNDS picks each), made first.
        need = int(trivial_rps * seconds * 1.5 / ROUNDS) + 50
        sessions = asyncio.run(create_sessions(port, need, ROUNDS))
    cpu_before = cpu_seconds(pid)
    result = asyncio.run(run_load(port, seconds, connections, kind, sessions))
    # Server CPU per request: what the endpoint costs, whatever else runs.
    result["server_cpu_ms_per_request"] = round(
        (cpu_seconds(pid) - cpu_before) * 1000 / max(result["requests"], 1), 3)
    return result


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def summarize(name: str, runs: dict[str, list[dict]]) -> dict:
    """One stack's block of the report (medians over the repeats), printed as one line."""
    http, loop = STACKS[name]
    trivial = median([r["rps"] for r in runs["trivial"]])
    pick = median([r["rps"] for r in runs["pick"]])
    ratio = pick / trivial
    cpu = {kind: median([r["server_cpu_ms_per_request"] for r in runs[kind]]) for kind in runs}
    cpu_ratio = cpu["trivial"] / cpu["pick"]
    errors = sum(r["errors"] for v in runs.values() for r in v)
    met = ratio >= TARGET_RATIO and errors == 0
    print(f"{name:>16}: trivial {trivial:8.1f} req/s, pick {pick:7.1f} req/s -> pick/trivial "
          f"{ratio:.2f} (target >= {TARGET_RATIO}) {'met' if met else 'MISSED'}; server CPU "
          f"per request: trivial {cpu['trivial']:.3f} ms, pick {cpu['pick']:.3f} ms -> "
          f"{cpu_ratio:.2f}" + (f"; {errors} errors" if errors else ""))
    return {"http": http, "loop": loop, "trivial_rps": trivial, "pick_rps": pick,
            "ratio": round(ratio, 3), "target_met": met, "server_cpu_ms_per_request": cpu,
            "cpu_ratio": round(cpu_ratio, 3), "errors": errors, "runs": runs}


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
    runs = {name: {"trivial": [], "pick": []} for name in STACKS}
    with tempfile.TemporaryDirectory() as tmp:
        servers: dict[str, tuple[int, subprocess.Popen]] = {}
        try:
            for name, (http, loop) in STACKS.items():
                port = free_port()
                servers[name] = port, start_server(index_dir, Path(tmp) / f"{name}.sqlite3",
                                                   port, http, loop)
                check_stack(servers[name][1].pid, http, loop)
            for repeat in range(args.repeats):
                order = list(STACKS) if repeat % 2 == 0 else list(reversed(STACKS))
                for name in order:
                    port, server = servers[name]
                    for kind in ("trivial", "pick"):
                        trivial_rps = runs[name]["trivial"][-1]["rps"] if kind == "pick" else 0
                        result = measure(port, server.pid, kind, args.seconds,
                                         args.connections, trivial_rps)
                        runs[name][kind].append(result)
                        print(f"run {repeat + 1}: {name:>16} {kind:>7}: {result['rps']:8.1f} "
                              f"req/s ({result['requests']} ok, {result['errors']} errors; "
                              f"server CPU {result['server_cpu_ms_per_request']:.3f} "
                              "ms/request)", flush=True)
            # Still the named stacks after the load (lazy imports would show up now).
            for name, (http, loop) in STACKS.items():
                check_stack(servers[name][1].pid, http, loop)
        finally:
            for _, server in servers.values():
                server.terminate()
                server.wait(timeout=10)

    print("median over the repeats, per stack:")
    stacks = {name: summarize(name, runs[name]) for name in STACKS}
    base_name, fast_name = STACKS
    base, fast = stacks[base_name], stacks[fast_name]
    speedup = {
        "pick_rps": round(fast["pick_rps"] / base["pick_rps"], 3),
        "trivial_rps": round(fast["trivial_rps"] / base["trivial_rps"], 3),
        "pick_server_cpu": round(base["server_cpu_ms_per_request"]["pick"]
                                 / fast["server_cpu_ms_per_request"]["pick"], 3),
    }
    load_at_end = os.getloadavg()
    print(f"{fast_name} vs {base_name}: pick {speedup['pick_rps']:.2f}x req/s (server CPU per "
          f"pick {speedup['pick_server_cpu']:.2f}x less), trivial {speedup['trivial_rps']:.2f}x "
          f"req/s; load average {load_at_start[0]:.2f} at start, {load_at_end[0]:.2f} at end")
    report = {"target_ratio": TARGET_RATIO, "celebrities": args.celebs,
              "connections": args.connections, "seconds_per_run": args.seconds,
              "repeats": args.repeats, "trivial_endpoint": "GET /api/health",
              "pick_endpoint": "POST /api/sessions/{id}/picks", "stacks": stacks,
              "speedup_vs": base_name, "speedup": speedup,
              "load_average_at_start": load_at_start, "load_average_at_end": load_at_end,
              "machine": platform.platform()}
    write_report(args.out, report)
    return 0 if all(block["target_met"] for block in stacks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
