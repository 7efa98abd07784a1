"""template.yaml matches the design: least-privilege API, durable sessions table, private data
served only through CloudFront, throttled HTTP API with CORS for the site, and settings that the
code actually reads."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from .template_rules import identity_statements, load_template, resources_of_type

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES = TEMPLATE["Resources"]


def props(name: str) -> dict:
    return RESOURCES[name]["Properties"]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def client_calls(module_path: Path, class_name: str) -> set[str]:
    """Names of `self.client.<method>(...)` calls made inside a class."""
    tree = ast.parse(module_path.read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name)
    calls = set()
    for node in ast.walk(cls):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "client"
        ):
            calls.add(node.func.attr)
    return calls


def iam_action(service: str, boto_method: str) -> str:
    return service + ":" + "".join(part.title() for part in boto_method.split("_"))


def test_api_function_reads_only_the_index_prefix_and_its_table():
    grants = {}
    for statement in identity_statements(TEMPLATE, "ApiFunction"):
        assert statement["Effect"] == "Allow"
        for resource in as_list(statement["Resource"]):
            key = repr(resource)
            grants.setdefault(key, set()).update(as_list(statement["Action"]))
    index_objects = repr({"Fn::Sub": "${DataBucket.Arn}/${IndexPrefix}/index/*"})
    table = repr({"Fn::GetAtt": ["SessionsTable", "Arn"]})
    assert set(grants) == {index_objects, table}
    assert grants[index_objects] == {"s3:GetObject"}
    assert all(action.startswith("dynamodb:") for action in grants[table])
    # No table-wide reads or deletes: the store works one item at a time.
    assert not grants[table] & {"dynamodb:Scan", "dynamodb:Query", "dynamodb:DeleteTable"}


def test_api_policy_covers_every_dynamodb_call_the_session_store_makes():
    allowed = {
        action
        for statement in identity_statements(TEMPLATE, "ApiFunction")
        for action in as_list(statement["Action"])
    }
    calls = client_calls(ROOT / "shared/idealtype/sessions/dynamodb.py", "DynamoDBSessionStore")
    assert calls, "found no DynamoDB calls in the session store (parser out of date?)"
    missing = {iam_action("dynamodb", call) for call in calls} - allowed
    assert not missing, f"the API role cannot {sorted(missing)}"


def test_api_function_settings_are_ones_the_code_reads():
    env = props("ApiFunction")["Environment"]["Variables"]
    settings_source = (ROOT / "shared/idealtype/api/settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r'get\("(IDEALTYPE_[A-Z_]+)"\)', settings_source))
    assert read, "settings.py no longer reads IDEALTYPE_* via get(...)"
    assert set(env) <= read, f"unknown settings: {sorted(set(env) - read)}"
    for required in ("IDEALTYPE_INDEX", "IDEALTYPE_SESSIONS", "IDEALTYPE_FACES_BASE_URL"):
        assert required in env
    assert env["IDEALTYPE_SESSIONS"] == {"Fn::Sub": "dynamodb://${SessionsTable}"}


def test_functions_run_python312_with_the_core_library_and_no_torch():
    api = props("ApiFunction")
    assert api["Runtime"] == "python3.12"
    assert api["Handler"] == "app.handler"
    assert (ROOT / api["CodeUri"] / "app.py").is_file()
    layers = {layer["Ref"] for layer in api["Layers"]}
    contents = {props(layer)["ContentUri"].rstrip("/") for layer in layers}
    assert "shared" in contents
    requirements = (ROOT / "infra/layers/serving-deps/requirements.txt").read_text()
    packages = {
        re.split(r"[=<>\[ ]", line.strip())[0].lower()
        for line in requirements.splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {"numpy", "fastapi", "mangum", "pydantic"} <= packages
    assert not packages & {"torch", "torchvision", "facenet-pytorch", "boto3", "botocore"}


def test_sessions_table_is_on_demand_with_pitr_and_ttl():
    table = props("SessionsTable")
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["KeySchema"] == [{"AttributeName": "session_id", "KeyType": "HASH"}]


def test_every_s3_origin_goes_through_origin_access_control():
    config = props("SiteDistribution")["DistributionConfig"]
    for origin in config["Origins"]:
        assert origin["OriginAccessControlId"] == {
            "Fn::GetAtt": ["SiteOriginAccessControl", "Id"]
        }
        assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy OAI
    assert {o["Id"] for o in config["Origins"]} == {"site", "faces"}
    faces = [b for b in config["CacheBehaviors"] if b["TargetOriginId"] == "faces"]
    assert [b["PathPattern"] for b in faces] == ["faces/*"]
    for behavior in [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]:
        assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
        assert behavior["AllowedMethods"] == ["GET", "HEAD"]


def test_cloudfront_reads_only_face_crops_from_the_data_bucket():
    statements = props("DataBucketPolicy")["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert [s["Resource"] for s in allows] == [
        {"Fn::Sub": "${DataBucket.Arn}/${IndexPrefix}/faces/*"}
    ]
    assert allows[0]["Action"] == "s3:GetObject"


def test_http_api_is_throttled_and_allows_the_site_origin():
    api = props("HttpApi")
    assert api["DefaultRouteSettings"]["ThrottlingRateLimit"] == {"Ref": "ApiThrottleRate"}
    assert api["DefaultRouteSettings"]["ThrottlingBurstLimit"] == {"Ref": "ApiThrottleBurst"}
    site_origin = {"Fn::Sub": "https://${SiteDistribution.DomainName}"}
    assert site_origin in api["CorsConfiguration"]["AllowOrigins"]
    assert "*" not in api["CorsConfiguration"]["AllowOrigins"]
    route = props("ApiFunction")["Events"]["Api"]["Properties"]
    assert route["Path"] == "/api/{proxy+}"


def test_outputs_name_site_api_and_bucket():
    assert {"SiteUrl", "ApiUrl", "DataBucketName", "DistributionId"} <= set(TEMPLATE["Outputs"])


@pytest.mark.parametrize(
    "function", [n for n, _ in resources_of_type(TEMPLATE, "AWS::Serverless::Function")]
)
def test_function_logs_go_to_a_log_group_that_expires(function):
    group = props(function)["LoggingConfig"]["LogGroup"]["Ref"]
    assert RESOURCES[group]["Type"] == "AWS::Logs::LogGroup"
    assert props(group)["RetentionInDays"] <= 90
