"""The build job as it runs on AWS: infra/build_index.asl.json (plan → distributed map of
shards → merge), executed by a real ASL interpreter (moto's Step Functions backend in its
execute mode, a port of LocalStack's), whose Lambda calls reach functions/indexer/handler.py
through a local stand-in for Lambda's Invoke API (Lambda itself needs Docker here). The
handler runs the real shard runner (MTCNN + FaceNet) on real faces from S3 in the emulator."""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
import traceback
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import boto3
import numpy as np
import pytest
from local_ports import free_port
from PIL import Image, ImageOps

from idealtype.blobstore import S3BlobStore
from idealtype.index_format import latest_version, load_index

from .template_rules import function_environment, load_template

ROOT = Path(__file__).resolve().parents[2]
REGION, ACCOUNT = "us-east-1", "123456789012"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:idealtype-indexer"
BUCKET = "idealtype-build-test"
TEMPLATE = load_template(ROOT / "template.yaml")
# The worker's settings as the template deploys them (gallery and index locations).
INDEXER_ENV = function_environment(TEMPLATE, "IndexerFunction", {"DataBucket": BUCKET})
INDEX_PREFIX = INDEXER_ENV["IDEALTYPE_INDEX"].removeprefix(f"s3://{BUCKET}/")
GALLERY_PREFIX = INDEXER_ENV["IDEALTYPE_GALLERY"].removeprefix(f"s3://{BUCKET}/")


def load_indexer():
    spec = importlib.util.spec_from_file_location(
        "indexer_handler", ROOT / "functions" / "indexer" / "handler.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LambdaInvokeStandIn(BaseHTTPRequestHandler):
    """Lambda's Invoke API (POST /2015-03-31/functions/<fn>/invocations) for one handler:
    the payload in, the handler's JSON out, or an Unhandled function error like Lambda's."""

    handler = None
    invocations: ClassVar[list[dict]] = []

    def do_POST(self):
        event = json.loads(self.rfile.read(int(self.headers["content-length"] or 0)) or b"{}")
        type(self).invocations.append(event)
        headers = {"content-type": "application/json", "x-amz-executed-version": "$LATEST"}
        try:
            payload = type(self).handler(event, None)
        except Exception as err:  # noqa: BLE001 - any handler error goes back as Lambda's does
            payload = {"errorMessage": str(err), "errorType": type(err).__name__,
                       "stackTrace": traceback.format_exc().splitlines()[-5:]}
            headers["x-amz-function-error"] = "Unhandled"
        data = json.dumps(payload).encode()
        self.send_response(200)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    """A moto server whose Step Functions executes state machines and sends Lambda calls to the
    stand-in (moto addresses Lambda at localhost:$MOTO_PORT); AWS env pointed at it."""
    indexer = load_indexer()
    LambdaInvokeStandIn.handler = staticmethod(indexer.handler)
    lambda_port, moto_port = free_port(), free_port()
    lambda_server = ThreadingHTTPServer(("127.0.0.1", lambda_port), LambdaInvokeStandIn)
    threading.Thread(target=lambda_server.serve_forever, daemon=True).start()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)],
        env=os.environ | {"MOTO_PORT": str(lambda_port)}, stdout=log, stderr=log,
    )
    url = f"http://127.0.0.1:{moto_port}"
    with pytest.MonkeyPatch.context() as patch:
        for key, value in ({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                           "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION,
                           "AWS_ENDPOINT_URL": url} | INDEXER_ENV).items():
            patch.setenv(key, value)
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            config = json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode()
            urllib.request.urlopen(urllib.request.Request(
                url + "/moto-api/config", data=config, method="POST")).close()
            yield indexer
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            log.close()
            lambda_server.shutdown()


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def gallery_photos() -> dict[str, bytes]:
    import matplotlib.cbook
    from skimage import data

    grace = Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg"))
    astronaut = Image.fromarray(data.astronaut())
    return {
        "grace_hopper/1.jpg": jpeg(grace),
        "grace_hopper/2.jpg": jpeg(ImageOps.mirror(grace)),
        "astronaut/1.jpg": jpeg(astronaut),
        "astronaut/2.jpg": jpeg(astronaut.resize((380, 380))),
        "김연아/1.jpg": jpeg(grace.crop((60, 20, 460, 420))),
        "nobody/plain.jpg": jpeg(Image.new("RGB", (200, 200), (128, 128, 128))),
        "nobody/empty.jpg": b"",
        "celebs.csv": "folder,name,gender\n김연아,김연아,female\n".encode(),
    }


@pytest.fixture(scope="module")
def gallery(aws):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    for key, data in gallery_photos().items():
        s3.put_object(Bucket=BUCKET, Key=f"{GALLERY_PREFIX}/{key}", Body=data)
    sfn = boto3.client("stepfunctions")
    definition = (ROOT / "infra" / "build_index.asl.json").read_text(encoding="utf-8")
    substitutions = {"IndexerFunctionArn": FUNCTION_ARN, "BuildMaxConcurrency": "2"}
    for key, value in substitutions.items():
        definition = definition.replace("${" + key + "}", value)
    machine = sfn.create_state_machine(
        name="idealtype-build-index", definition=definition,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/idealtype-build", type="STANDARD",
    )["stateMachineArn"]
    return machine


def execute(machine: str, request: dict, timeout: float = 240) -> dict:
    sfn = boto3.client("stepfunctions")
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps(request),
                                    name=f"run-{uuid.uuid4().hex[:12]}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.5)
    raise AssertionError(f"execution still running after {timeout}s")


def test_definition_substitutions_match_the_template():
    machine = TEMPLATE["Resources"]["BuildIndexStateMachine"]
    text = (ROOT / machine["Properties"]["DefinitionUri"]).read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{(\w+)\}", text))
    assert used == set(machine["Properties"]["DefinitionSubstitutions"])
    states = json.loads(text.replace("${BuildMaxConcurrency}", "1"))["States"]
    assert states["EmbedShards"]["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"


def test_build_options_are_build_settings():
    from idealtype.build.build_settings import BuildSettings

    fields = {field.name for field in dataclasses.fields(BuildSettings)}
    assert load_indexer().OPTION_NAMES <= fields - {"source", "weights_sha256"}


def test_state_machine_builds_publishes_and_matches_a_one_shard_build(aws, gallery):
    LambdaInvokeStandIn.invocations.clear()
    done = execute(gallery, {"shards": 2, "options": {"chunk_size": 2}})
    assert done["status"] == "SUCCEEDED", done.get("cause")
    output = json.loads(done["output"])
    actions = [event["action"] for event in LambdaInvokeStandIn.invocations]
    assert actions[0] == "plan" and actions[-1] == "merge"
    assert sorted(e["shard"] for e in LambdaInvokeStandIn.invocations if e["action"] == "shard") == [0, 1]

    store = S3BlobStore(BUCKET, INDEX_PREFIX)
    assert latest_version(store) == output["version"]
    index = load_index(store)
    assert {c["celeb_id"] for c in index.celebs} == {"grace_hopper", "astronaut", "김연아"}
    assert index.n_images == 5
    names = {c["celeb_id"]: c["name"] for c in index.celebs}
    assert names["김연아"] == "김연아"
    skipped = output["summary"]["skipped_by_reason"]
    assert skipped.get("no_face") == 1 and skipped.get("empty_file") == 1
    for image in index.images:
        assert store.get(image["crop"])[:3] == b"\xff\xd8\xff"  # a JPEG crop for the CDN
    shard_done = [k for k in store.list("build-work/") if k.endswith("done.json")]
    assert len(shard_done) == 2

    # The same gallery as one shard: the fan-out changes where the work runs, not the result.
    single = execute(gallery, {"shards": 1, "dest": f"s3://{BUCKET}/single",
                               "options": {"chunk_size": 2}})
    assert single["status"] == "SUCCEEDED", single.get("cause")
    one = load_index(S3BlobStore(BUCKET, "single"))
    assert [im["image_id"] for im in one.images] == [im["image_id"] for im in index.images]
    np.testing.assert_allclose(one.embeddings, index.embeddings, atol=1e-5)


def test_a_bad_request_fails_the_execution_and_keeps_latest(aws, gallery):
    store = S3BlobStore(BUCKET, INDEX_PREFIX)
    before = latest_version(store)
    done = execute(gallery, {"shards": 2, "options": {"bogus": 1}})
    assert done["status"] == "FAILED"
    assert "unknown build options" in (done.get("cause") or "")
    assert latest_version(store) == before
