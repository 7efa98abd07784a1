"""The SAM user's path without Docker: `sam validate --lint`, `sam build ApiFunction`, the
deploy script's precompile step, then the *built* handler invoked under python3.12 with the
events in events/ against the local AWS emulator (moto server: S3 index + DynamoDB sessions),
configured exactly as template.yaml configures the function."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from pathlib import Path

import boto3
import pytest

from idealtype.blobstore import S3BlobStore
from idealtype.synthetic import make_synthetic_index

from .template_rules import function_environment, load_template

ROOT = Path(__file__).resolve().parents[2]
SAM = ROOT / "infra" / "sam.sh"
PY312 = ROOT / ".venv-sam" / "py312" / "bin" / "python3.12"
TEMPLATE = load_template(ROOT / "template.yaml")
CDN_DOMAIN = "d111111abcdef8.cloudfront.net"
EVENT_SESSION_ID = "0123456789abcdef0123456789abcdef"  # placeholder in events/*.json
N_CELEBS, PER_CELEB = 60, 3


def run(*cmd, timeout=300) -> str:
    done = subprocess.run([str(c) for c in cmd], check=False, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    if not (ROOT / ".venv-sam" / "bin" / "sam").exists() or not PY312.exists():
        pytest.fail("SAM CLI venv missing: run infra/setup_sam_venv.sh (`make test` does)")
    build = tmp_path_factory.mktemp("sam") / "build"
    assert "is a valid SAM Template" in run(SAM, "validate", "--lint")
    # --cached keys on sources and requirements, so reruns do not fetch the wheels again.
    run(SAM, "build", "ApiFunction", "--build-dir", build,
        "--cache-dir", ROOT / ".aws-sam" / "cache", "--cached")
    run(PY312, ROOT / "infra" / "precompile.py", build)
    return build


@pytest.fixture(scope="module")
def stack(moto_endpoint) -> dict:
    """The template's data resources, made in the emulator, and the function's environment."""
    suffix = str(int(time.time() * 1000))
    bucket, table_name = f"idealtype-data-{suffix}", f"idealtype-sessions-{suffix}"
    names = {name: str(p.get("Default", "")) for name, p in TEMPLATE["Parameters"].items()}
    names |= {"DataBucket": bucket, "SessionsTable": table_name,
              "SiteDistribution.DomainName": CDN_DOMAIN}
    conditions = {"HasExtraCorsOrigin": False}

    boto3.client("s3").create_bucket(Bucket=bucket)
    store = S3BlobStore(bucket, names["IndexPrefix"])
    version = make_synthetic_index(store, N_CELEBS, PER_CELEB)

    table = TEMPLATE["Resources"]["SessionsTable"]["Properties"]
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(TableName=table_name, KeySchema=table["KeySchema"],
                          AttributeDefinitions=table["AttributeDefinitions"],
                          BillingMode=table["BillingMode"])
    dynamodb.update_time_to_live(TableName=table_name,
                                 TimeToLiveSpecification=table["TimeToLiveSpecification"])

    env = function_environment(TEMPLATE, "ApiFunction", names, conditions)
    return {"env": env, "version": version, "table": table_name,
            "ttl_attribute": table["TimeToLiveSpecification"]["AttributeName"],
            "ttl_seconds": int(names["SessionTtlSeconds"])}


class BuiltHandler:
    """infra/invoke_built.py as a warm Lambda container: one event in, one response out."""

    def __init__(self, build: Path, env: dict[str, str], log_path: Path):
        self.log = log_path.open("w")
        self.proc = subprocess.Popen(
            [str(PY312), "-s", str(ROOT / "infra" / "invoke_built.py"), "--build-dir", str(build),
             "--runtime-dir", str(ROOT / ".venv-sam" / "lambda-runtime"), "-"],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
            text=True,
        )
        self.init = self._read()

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        assert line, f"handler process died; log: {self.log.name}"
        return json.loads(line)

    def __call__(self, event: dict) -> tuple[int, dict, dict]:
        self.proc.stdin.write(json.dumps(event) + "\n")
        self.proc.stdin.flush()
        response = self._read()
        body = response.get("body") or ""
        if response.get("isBase64Encoded"):
            body = base64.b64decode(body).decode()
        return response["statusCode"], json.loads(body) if body else {}, response["headers"]

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        self.log.close()


@pytest.fixture(scope="module")
def handler(built, stack, moto_endpoint, tmp_path_factory):
    env = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}
    env |= {key: value for key, value in os.environ.items() if key.startswith("AWS_")}
    env |= stack["env"] | {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024", "PYTHONDONTWRITEBYTECODE": "1"}
    invoke = BuiltHandler(built, env, tmp_path_factory.mktemp("logs") / "handler.log")
    yield invoke
    invoke.close()


USED_EVENTS: set[str] = set()


def event(name: str, session_id: str | None = None, body: dict | None = None,
          headers: dict | None = None) -> dict:
    """events/<name>.json with the placeholder session id and/or the body replaced."""
    USED_EVENTS.add(name)
    text = (ROOT / "events" / f"{name}.json").read_text(encoding="utf-8")
    if session_id:
        text = text.replace(EVENT_SESSION_ID, session_id)
    data = json.loads(text)
    if body is not None:
        raw = json.dumps(body).encode()
        data["body"] = base64.b64encode(raw).decode()
        data["isBase64Encoded"] = True
        data["headers"]["content-length"] = str(len(raw))
    data["headers"].update(headers or {})
    return data


def test_precompile_covered_every_module(built):
    sources = [p for p in built.rglob("*.py") if p.parent.name != "__pycache__"]
    assert len(sources) > 100
    uncompiled = [p for p in sources if not (p.parent / "__pycache__" / f"{p.stem}.cpython-312.pyc").exists()]
    assert uncompiled == []
    assert not list(built.rglob("numpy/_core/tests")), "numpy's test suite was not pruned"


def test_built_handler_serves_a_whole_quiz_from_s3_and_dynamodb(handler, stack, built):
    assert handler.init["python"].startswith("3.12")
    assert handler.init["torch_loaded"] is False
    assert Path(handler.init["handler_file"]).is_relative_to(built / "ApiFunction")
    print(f"\ninit (import + index load from S3): {handler.init['init_seconds']:.2f}s")

    status, health, _ = handler(event("health"))
    assert status == 200
    assert health["index_version"] == stack["version"]
    assert (health["celebrities"], health["images"]) == (N_CELEBS, N_CELEBS * PER_CELEB)
    assert handler(event("config"))[0] == 200
    status, openapi, _ = handler(event("openapi"))
    assert status == 200 and "/api/sessions" in openapi["paths"]

    status, created, _ = handler(event("create-session"))
    assert status == 201, created
    session_id, rounds = created["session_id"], created["rounds"]
    faces = created["round"]["faces"]
    assert all(f["url"].startswith(f"https://{CDN_DOMAIN}/faces/") for f in faces)

    status, state, _ = handler(event("get-session", session_id))
    assert status == 200 and state["done"] is False

    round_faces = faces
    for index in range(rounds):
        pick = {"round": index, "image_id": round_faces[index % len(round_faces)]["image_id"]}
        status, accepted, _ = handler(event("submit-pick", session_id, body=pick))
        assert status == 200, accepted
        round_faces = (accepted.get("round") or {}).get("faces", [])
    assert accepted["done"] is True

    status, replay, _ = handler(event("submit-pick", session_id, body=pick))
    assert status == 409 and set(replay["error"]) >= {"code", "message"}

    status, result, _ = handler(event("result", session_id))
    assert status == 200
    assert len(result["recommendations"]) == 7
    assert len(result["picks"]) == rounds

    item = boto3.client("dynamodb").get_item(
        TableName=stack["table"], Key={"session_id": {"S": session_id}}, ConsistentRead=True
    )["Item"]
    expires = int(item[stack["ttl_attribute"]]["N"])  # the template's TTL attribute, a number
    assert time.time() < expires <= time.time() + stack["ttl_seconds"] + 60


def test_built_handler_answers_bad_requests_with_4xx(handler):
    status, body, _ = handler(event("get-session"))  # the events' placeholder id does not exist
    assert status == 404 and body["error"]["code"]
    status, body, _ = handler(event("create-session", body={"choices": 999, "rounds": 10}))
    assert status == 422 and body["error"]["code"]
    status, body, _ = handler(event("result", "not-a-session"))
    assert 400 <= status < 500


def test_built_handler_allows_the_site_origin(handler, stack):
    origin = stack["env"]["IDEALTYPE_CORS_ORIGINS"]
    assert origin == f"https://{CDN_DOMAIN}"
    _, _, headers = handler(event("health", headers={"origin": origin}))
    assert headers.get("access-control-allow-origin") == origin
    _, _, headers = handler(event("health", headers={"origin": "https://evil.example"}))
    assert "access-control-allow-origin" not in headers


def test_every_api_event_was_invoked():
    api_events = {
        p.stem for p in (ROOT / "events").glob("*.json")
        if json.loads(p.read_text())["rawPath"].startswith("/api/")
    }
    assert api_events and api_events <= USED_EVENTS
