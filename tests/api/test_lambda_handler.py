"""The Lambda entry point (functions/api/app.py) driven by the API Gateway v2 events in events/,
the same files `sam local invoke` would use."""

from __future__ import annotations

import base64
import json
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "events"
ENTRY = REPO / "functions" / "api" / "app.py"
PLACEHOLDER_SESSION = "0123456789abcdef0123456789abcdef"
PLACEHOLDER_IMAGE = "00000000000000000000"


class LambdaContext:
    function_name = "idealtype-api"
    aws_request_id = "test-request"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:idealtype-api"
    memory_limit_in_mb = 1024

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


@pytest.fixture
def handler(index_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("IDEALTYPE_INDEX", str(index_dir))
    monkeypatch.setenv("IDEALTYPE_SESSIONS", str(tmp_path / "lambda.db"))
    monkeypatch.setenv("IDEALTYPE_CORS_ORIGINS", "https://idealtype.example")
    return runpy.run_path(str(ENTRY))["handler"]


def invoke(handler, name: str, session_id: str = PLACEHOLDER_SESSION, body: dict | None = None):
    text = (EVENTS / f"{name}.json").read_text().replace(PLACEHOLDER_SESSION, session_id)
    event = json.loads(text)
    if body is not None:
        raw = json.dumps(body).encode()
        event["body"] = base64.b64encode(raw).decode()
        event["headers"]["content-length"] = str(len(raw))
    response = handler(event, LambdaContext())
    payload = response["body"]
    if response.get("isBase64Encoded"):
        return response, base64.b64decode(payload)
    return response, json.loads(payload) if payload else None


def test_events_have_the_http_api_v2_shape():
    names = sorted(p.stem for p in EVENTS.glob("*.json"))
    assert names == ["config", "create-session", "face", "get-session", "health", "openapi",
                     "result", "submit-pick"]
    for path in EVENTS.glob("*.json"):
        event = json.loads(path.read_text())
        assert event["version"] == "2.0" and event["routeKey"] == "$default"
        assert event["rawPath"] == event["requestContext"]["http"]["path"]
        assert event["isBase64Encoded"] is True


def test_whole_quiz_through_the_handler(handler):
    response, health = invoke(handler, "health")
    assert response["statusCode"] == 200 and health["status"] == "ok"
    response, config = invoke(handler, "config")
    assert response["statusCode"] == 200 and config["choices"]["default"] == 4
    response, spec = invoke(handler, "openapi")
    assert response["statusCode"] == 200 and "/api/sessions" in spec["paths"]

    response, created = invoke(handler, "create-session")
    assert response["statusCode"] == 201
    assert response["headers"]["content-type"] == "application/json"
    sid, rnd = created["session_id"], created["round"]
    assert rnd["faces"][0]["url"].startswith(
        "https://id.execute-api.us-east-1.amazonaws.com/faces/")

    for n in range(created["rounds"]):
        pick = {"round": n, "image_id": rnd["faces"][n % 4]["image_id"]}
        response, body = invoke(handler, "submit-pick", sid, pick)
        assert response["statusCode"] == 200, body
        rnd = body["round"]
    assert body["done"] is True

    response, state = invoke(handler, "get-session", sid)
    assert response["statusCode"] == 200 and state["done"] and len(state["picks"]) == 10
    response, result = invoke(handler, "result", sid)
    assert response["statusCode"] == 200 and len(result["recommendations"]) == 7

    image_id = state["picks"][0]["image_id"]
    text = (EVENTS / "face.json").read_text().replace(PLACEHOLDER_IMAGE, image_id)
    face = handler(json.loads(text), LambdaContext())
    assert face["statusCode"] == 200 and face["isBase64Encoded"] is True
    assert base64.b64decode(face["body"])[:2] == b"\xff\xd8"  # JPEG


def test_placeholder_events_get_clean_errors(handler):
    response, body = invoke(handler, "get-session")
    assert response["statusCode"] == 404 and body["error"]["code"] == "session_not_found"
    response, body = invoke(handler, "result")
    assert response["statusCode"] == 404
    response, body = invoke(handler, "face")
    assert response["statusCode"] == 404


def test_importing_the_lambda_entry_does_not_import_torch(index_dir, tmp_path):
    code = (
        "import runpy, sys\n"
        f"runpy.run_path({str(ENTRY)!r})\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('torch', 'torchvision', 'facenet_pytorch', 'PIL', 'cv2'))\n"
        "print(','.join(heavy))\n"
        "print('fastapi' in sys.modules and 'mangum' in sys.modules)\n"
    )
    env = {"IDEALTYPE_INDEX": str(index_dir), "IDEALTYPE_SESSIONS": str(tmp_path / "s.db"),
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=60, check=True).stdout.splitlines()
    assert out == ["", "True"]
