"""Invoke the *built* API handler (sam build's output) the way Lambda would, without Docker.

`sam local invoke` needs a Docker engine. This runs the same artifacts under python3.12 in one
process (one warm "container"): the function's folder first on sys.path, then the layers'
python/ folders (Lambda's /opt/python), then the runtime's own packages (boto3), with bytecode
writing off because Lambda's code directories are read-only.

    python3.12 infra/invoke_built.py --build-dir .aws-sam/build events/health.json
    ... | python3.12 infra/invoke_built.py --build-dir .aws-sam/build -   # JSON lines on stdin

Configuration comes from the environment (IDEALTYPE_*, AWS_* as in template.yaml). Output: JSON
lines on stdout, first {"init_seconds", "torch_loaded", ...}, then one Lambda response per event.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace


def lambda_context(function_name: str) -> SimpleNamespace:
    deadline = time.monotonic() + 15
    return SimpleNamespace(
        function_name=function_name,
        function_version="$LATEST",
        memory_limit_in_mb=os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024"),
        aws_request_id=str(uuid.uuid4()),
        invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}",
        log_group_name=f"/aws/lambda/{function_name}",
        log_stream_name="local",
        get_remaining_time_in_millis=lambda: int((deadline - time.monotonic()) * 1000),
    )


def code_path(build_dir: Path, function: str, layers: list[str], runtime_dir: Path | None) -> list[str]:
    paths = [build_dir / function]
    for layer in layers:
        paths += [build_dir / layer / "python" / "lib" / "python3.12" / "site-packages",
                  build_dir / layer / "python"]
    if runtime_dir:
        paths.append(runtime_dir)
    missing = [str(p) for p in paths[:1] if not p.is_dir()]
    if missing:
        raise SystemExit(f"not built: {missing} (run `infra/sam.sh build {function}`)")
    return [str(p) for p in paths if p.is_dir()]


def events_from(sources: list[str]):
    for source in sources:
        if source == "-":
            for line in sys.stdin:
                if line.strip():
                    yield json.loads(line)
        else:
            yield json.loads(Path(source).read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", nargs="+", help="event JSON files, or - for JSON lines on stdin")
    parser.add_argument("--build-dir", type=Path, default=Path(".aws-sam/build"))
    parser.add_argument("--function", default="ApiFunction")
    parser.add_argument("--layer", action="append", dest="layers",
                        help="layer resource names (default: CoreLayer, ServingDepsLayer)")
    parser.add_argument("--handler", default="app.handler")
    parser.add_argument("--runtime-dir", type=Path, default=Path(".venv-sam/lambda-runtime"),
                        help="packages the Lambda runtime provides (boto3)")
    args = parser.parse_args(argv)

    sys.dont_write_bytecode = True
    sys.path[:0] = code_path(args.build_dir, args.function,
                             args.layers or ["CoreLayer", "ServingDepsLayer"], args.runtime_dir)
    out = sys.stdout
    sys.stdout = sys.stderr  # whatever the app prints must not corrupt the JSON lines protocol
    module_name, _, attr = args.handler.rpartition(".")
    started = time.perf_counter()
    handler = getattr(importlib.import_module(module_name), attr)
    init = {
        "init_seconds": round(time.perf_counter() - started, 4),
        "torch_loaded": "torch" in sys.modules,
        "handler_file": sys.modules[module_name].__file__,
        "python": sys.version.split()[0],
    }
    print(json.dumps(init), file=out, flush=True)
    for event in events_from(args.events):
        response = handler(event, lambda_context(args.function))
        print(json.dumps(response), file=out, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
