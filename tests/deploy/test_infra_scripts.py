"""The deploy tooling in infra/ against the local AWS emulator: site upload with the API URL
filled in (sync, content types, cache headers, CDN invalidation), stack outputs, gallery upload
and build start; and the deploy script's order of steps."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
API_URL = "https://abc123.execute-api.us-east-1.amazonaws.com"


@pytest.fixture(scope="module")
def infra():
    sys.path.insert(0, str(ROOT / "infra"))
    try:
        import start_build
        import upload_site

        yield upload_site, start_build
    finally:
        sys.path.remove(str(ROOT / "infra"))


def unique(name: str) -> str:
    return f"{name}-{time.time_ns()}"


@pytest.fixture
def site_bucket(moto_endpoint) -> str:
    bucket = unique("site")
    boto3.client("s3").create_bucket(Bucket=bucket)
    return bucket


def objects(bucket: str) -> dict[str, dict]:
    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {key: s3.get_object(Bucket=bucket, Key=key) for key in keys}


def test_site_upload_fills_in_the_api_url_and_syncs(infra, site_bucket, tmp_path):
    upload_site, _ = infra
    frontend = tmp_path / "frontend"
    shutil.copytree(ROOT / "frontend", frontend)
    upload_site.main(["--bucket", site_bucket, "--api-url", API_URL + "/", "--frontend", str(frontend)])

    uploaded = objects(site_bucket)
    local = {p.relative_to(frontend).as_posix() for p in frontend.rglob("*") if p.is_file()}
    assert set(uploaded) == local
    html = uploaded["index.html"]["Body"].read().decode()
    assert f'<meta name="idealtype-api" content="{API_URL}">' in html
    assert uploaded["index.html"]["CacheControl"] == "no-cache"
    assert uploaded["index.html"]["ContentType"].startswith("text/html")
    assert uploaded["app.js"]["ContentType"].startswith("text/javascript")  # ES modules need it
    assert "max-age" in uploaded["app.js"]["CacheControl"]

    s3 = boto3.client("s3")
    report = upload_site.upload_site(s3, frontend, site_bucket, API_URL)
    assert report["uploaded"] == [] and report["deleted"] == []  # nothing changed, nothing sent
    (frontend / "styles.css").unlink()
    (frontend / "app.js").write_text("// changed\n")
    report = upload_site.upload_site(s3, frontend, site_bucket, API_URL)
    assert report["uploaded"] == ["app.js"] and report["deleted"] == ["styles.css"]


def test_site_upload_refuses_a_page_without_the_api_meta(infra, site_bucket, tmp_path):
    upload_site, _ = infra
    (tmp_path / "index.html").write_text("<html><head></head></html>")
    with pytest.raises(ValueError, match="idealtype-api"):
        upload_site.upload_site(boto3.client("s3"), tmp_path, site_bucket, API_URL)
    assert objects(site_bucket) == {}


def test_cdn_invalidation_covers_everything(infra, moto_endpoint):
    upload_site, _ = infra
    cloudfront = boto3.client("cloudfront")
    distribution = cloudfront.create_distribution(DistributionConfig={
        "CallerReference": unique("ref"), "Comment": "", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "site", "DomainName": "b.s3.amazonaws.com",
                                               "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
    })["Distribution"]["Id"]
    invalidation = upload_site.invalidate(cloudfront, distribution)
    paths = cloudfront.get_invalidation(DistributionId=distribution, Id=invalidation)[
        "Invalidation"]["InvalidationBatch"]["Paths"]["Items"]
    assert paths == ["/*"]


@pytest.fixture
def stack(moto_endpoint) -> dict[str, str]:
    """A stack whose outputs name a data bucket and a state machine, like template.yaml's."""
    bucket = unique("data")
    boto3.client("s3").create_bucket(Bucket=bucket)
    machine = boto3.client("stepfunctions").create_state_machine(
        name=unique("build"), roleArn="arn:aws:iam::123456789012:role/build",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
    )["stateMachineArn"]
    outputs = {"GalleryLocation": f"s3://{bucket}/gallery", "BuildStateMachineArn": machine}
    name = unique("idealtype")
    boto3.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps({
        "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }))
    return outputs | {"name": name, "bucket": bucket}


def test_start_build_uploads_the_gallery_and_starts_the_state_machine(infra, stack, tmp_path):
    _, start_build = infra
    gallery = tmp_path / "gallery"
    (gallery / "김연아").mkdir(parents=True)
    (gallery / "김연아" / "1.jpg").write_bytes(b"\xff\xd8\xff photo")
    (gallery / ".DS_Store").write_bytes(b"junk")
    assert start_build.main(["--stack-name", stack["name"], "--gallery", str(gallery),
                             "--shards", "3", "--option", "max_per_celeb=5",
                             "--option", "flip_average=true"]) == 0

    keys = set(objects(stack["bucket"]))
    assert keys == {"gallery/김연아/1.jpg"}
    sfn = boto3.client("stepfunctions")
    [execution] = sfn.list_executions(stateMachineArn=stack["BuildStateMachineArn"])["executions"]
    request = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
    assert request == {"shards": 3, "options": {"max_per_celeb": 5, "flip_average": True}}


def test_deploy_script_runs_the_steps_in_order():
    done = subprocess.run(
        [ROOT / "infra" / "deploy.sh", "--dry-run", "--stack-name", "demo", "--build-index",
         "--", "--parameter-overrides", "ApiMemorySize=2048"],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )
    steps = [line for line in done.stdout.splitlines() if line.startswith("+ ")]
    expected = ["setup_sam_venv.sh", "sam.sh validate --lint", "sam.sh build", "precompile.py",
                "sam.sh deploy --stack-name demo", "upload_site.py --stack-name demo",
                "start_build.py --stack-name demo"]
    assert len(steps) == len(expected)
    for step, fragment in zip(steps, expected):
        assert fragment in step
    assert "--parameter-overrides ApiMemorySize=2048" in steps[4]


def test_deploy_script_rejects_unknown_arguments():
    done = subprocess.run([ROOT / "infra" / "deploy.sh", "--dry-run", "--bogus"],
                          check=False, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and "unknown argument" in done.stderr
