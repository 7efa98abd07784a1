"""Upload frontend/ to the site bucket with the API URL configured, then invalidate the CDN.

    python infra/upload_site.py --stack-name idealtype            # names from the stack outputs
    python infra/upload_site.py --bucket B --api-url URL [--distribution-id ID]

The page learns its API origin from <meta name="idealtype-api" content="..."> in index.html
(frontend/api.js); this fills it in. Only changed files are uploaded and files gone from
frontend/ are deleted. index.html is served `no-cache` (it names everything else), the rest
is cacheable for an hour; the invalidation makes the edge fetch the new version right away.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import boto3
from aws_stack import stack_outputs, sync_folder

ROOT = Path(__file__).resolve().parents[1]
API_META = re.compile(rb'(<meta\s+name="idealtype-api"\s+content=")[^"]*(")')


def with_api_url(html: bytes, api_url: str) -> bytes:
    configured, count = API_META.subn(
        lambda m: m.group(1) + api_url.rstrip("/").encode() + m.group(2), html
    )
    if count != 1:
        raise ValueError('index.html has no <meta name="idealtype-api" content="..."> to fill in')
    return configured


def cache_control(key: str) -> str:
    return "no-cache" if key.endswith(".html") else "public, max-age=3600"


def upload_site(s3, frontend: Path, bucket: str, api_url: str) -> dict[str, list[str]]:
    if not (frontend / "index.html").is_file():
        raise FileNotFoundError(f"{frontend}/index.html not found")
    return sync_folder(
        s3, frontend, bucket, delete=True, cache_control=cache_control,
        transform=lambda key, data: with_api_url(data, api_url) if key == "index.html" else data,
        skip=lambda key: key.split("/")[-1].startswith("."),
    )


def invalidate(cloudfront, distribution_id: str) -> str:
    batch = {"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": str(time.time_ns())}
    answer = cloudfront.create_invalidation(DistributionId=distribution_id, InvalidationBatch=batch)
    return answer["Invalidation"]["Id"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack-name", help="read bucket, API URL and distribution from it")
    parser.add_argument("--bucket")
    parser.add_argument("--api-url")
    parser.add_argument("--distribution-id")
    parser.add_argument("--frontend", type=Path, default=ROOT / "frontend")
    args = parser.parse_args(argv)
    if args.stack_name:
        outputs = stack_outputs(boto3.client("cloudformation"), args.stack_name)
        args.bucket = args.bucket or outputs["SiteBucketName"]
        args.api_url = args.api_url or outputs["ApiUrl"]
        args.distribution_id = args.distribution_id or outputs["DistributionId"]
    if not (args.bucket and args.api_url):
        parser.error("give --stack-name, or --bucket and --api-url")
    report = upload_site(boto3.client("s3"), args.frontend, args.bucket, args.api_url)
    print(f"site: {len(report['uploaded'])} uploaded, {len(report['unchanged'])} unchanged, "
          f"{len(report['deleted'])} deleted in s3://{args.bucket} (API {args.api_url})")
    if args.distribution_id:
        invalidation = invalidate(boto3.client("cloudfront"), args.distribution_id)
        print(f"CDN: invalidation {invalidation} of /* on {args.distribution_id}")
    if args.stack_name:
        print(f"site URL: {outputs['SiteUrl']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
