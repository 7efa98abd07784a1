"""Upload a gallery (optional) and run the build job on AWS: the Step Functions state machine
plans shards, embeds them in parallel Lambda workers and publishes the index (LATEST switches
only after the merged index verifies; the API picks it up within its re-check interval).

    python infra/start_build.py --stack-name idealtype --gallery ../shared/data/lfw --wait
    python infra/start_build.py --stack-name idealtype --shards 20 --option max_per_celeb=5

Gallery upload sends only new or changed photos and never deletes any.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

import boto3
from aws_stack import stack_outputs, sync_folder


def parse_option(text: str) -> tuple[str, object]:
    key, sep, raw = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--option wants key=value, not {text!r}")
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return key, lowered == "true"
    try:
        return key, int(raw)
    except ValueError:
        return key, raw


def build_request(args: argparse.Namespace) -> dict:
    request: dict = {"options": dict(args.option or [])}
    if args.shards is not None:
        request["shards"] = args.shards
    if args.images_per_shard is not None:
        request["images_per_shard"] = args.images_per_shard
    if args.dtype:
        request["dtype"] = args.dtype
    return request


def wait_for(sfn, execution_arn: str, poll_seconds: float) -> dict:
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(poll_seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack-name", required=True)
    parser.add_argument("--gallery", type=Path, help="local folder-per-person photos to upload first")
    parser.add_argument("--shards", type=int, help="number of workers (default: by photo count)")
    parser.add_argument("--images-per-shard", type=int)
    parser.add_argument("--dtype", choices=("float32", "float16"))
    parser.add_argument("--option", type=parse_option, action="append",
                        help="build option key=value (limit, max_per_celeb, margin, ...)")
    parser.add_argument("--wait", action="store_true", help="wait and print the result")
    parser.add_argument("--poll-seconds", type=float, default=10.0)
    args = parser.parse_args(argv)

    outputs = stack_outputs(boto3.client("cloudformation"), args.stack_name)
    if args.gallery:
        if not args.gallery.is_dir():
            parser.error(f"--gallery {args.gallery} is not a folder")
        bucket, _, prefix = outputs["GalleryLocation"].removeprefix("s3://").partition("/")
        report = sync_folder(boto3.client("s3"), args.gallery, bucket, prefix,
                             skip=lambda key: any(p.startswith(".") for p in key.split("/")))
        print(f"gallery: {len(report['uploaded'])} uploaded, {len(report['unchanged'])} unchanged "
              f"in {outputs['GalleryLocation']}")
    sfn = boto3.client("stepfunctions")
    execution = sfn.start_execution(
        stateMachineArn=outputs["BuildStateMachineArn"],
        name=f"build-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}",
        input=json.dumps(build_request(args)),
    )
    print(f"build started: {execution['executionArn']}")
    if not args.wait:
        return 0
    done = wait_for(sfn, execution["executionArn"], args.poll_seconds)
    if done["status"] != "SUCCEEDED":
        print(f"build {done['status']}: {done.get('error')}: {done.get('cause')}", file=sys.stderr)
        return 1
    result = json.loads(done["output"])
    print(f"published index {result['version']} to {result['index']}")
    print(json.dumps(result["summary"], ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
