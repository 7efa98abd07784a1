"""Regenerate the API Gateway v2 (HTTP API, payload 2.0) events in this folder.

The shape is exactly what `sam local generate-event apigateway http-api-proxy` prints (SAM CLI
1.170 template HttpApi.json, body base64-encoded), with each request's method, path, query,
body and realistic headers filled in. Paths that need a quiz use SESSION_ID below and picks use
IMAGE_ID; the handler tests substitute real ids, `sam local invoke` gets a 404 for them.

    python events/make_events.py
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import parse_qsl

SESSION_ID = "0123456789abcdef0123456789abcdef"
IMAGE_ID = "00000000000000000000"
DOMAIN = "id.execute-api.us-east-1.amazonaws.com"

REQUESTS = {
    "health": ("GET", "/api/health", "", None),
    "config": ("GET", "/api/config", "", None),
    "openapi": ("GET", "/api/openapi.json", "", None),
    "create-session": ("POST", "/api/sessions", "",
                       {"choices": 4, "rounds": 10, "strategy": "random", "pool": None}),
    "get-session": ("GET", f"/api/sessions/{SESSION_ID}", "", None),
    "submit-pick": ("POST", f"/api/sessions/{SESSION_ID}/picks", "",
                    {"round": 0, "image_id": IMAGE_ID}),
    "result": ("GET", f"/api/sessions/{SESSION_ID}/result", "k=7", None),
    "face": ("GET", f"/faces/{IMAGE_ID}.jpg", "", None),
}


def http_api_event(method: str, path: str, query: str, body: object | None) -> dict:
    headers = {
        "accept": "application/json",
        "content-length": "0",
        "host": DOMAIN,
        "user-agent": "agent",
        "x-forwarded-for": "192.168.0.1",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    raw_body = b"" if body is None else json.dumps(body).encode()
    if body is not None:
        headers["content-type"] = "application/json"
        headers["content-length"] = str(len(raw_body))
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "cookies": ["cookie1", "cookie2"],
        "headers": headers,
        "queryStringParameters": dict(parse_qsl(query)),
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api-id",
            "authentication": {
                "clientCert": {
                    "clientCertPem": "CERT_CONTENT",
                    "subjectDN": "www.example.com",
                    "issuerDN": "Example issuer",
                    "serialNumber": "a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1",
                    "validity": {
                        "notBefore": "May 28 12:30:02 2019 GMT",
                        "notAfter": "Aug  5 09:36:04 2021 GMT",
                    },
                }
            },
            "authorizer": {
                "jwt": {"claims": {"claim1": "value1", "claim2": "value2"},
                        "scopes": ["scope1", "scope2"]}
            },
            "domainName": DOMAIN,
            "domainPrefix": "id",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.168.0.1/32",
                "userAgent": "agent",
            },
            "requestId": "id",
            "routeKey": "$default",
            "stage": "$default",
            "time": "12/Mar/2020:19:03:58 +0000",
            "timeEpoch": 1583348638390,
        },
        "body": base64.b64encode(raw_body).decode(),
        "pathParameters": {"parameter1": "value1"},
        "isBase64Encoded": True,
        "stageVariables": {"stageVariable1": "value1", "stageVariable2": "value2"},
    }
    if not query:
        # API Gateway leaves queryStringParameters out when there is no query string.
        del event["queryStringParameters"]
    return event


def main() -> None:
    folder = Path(__file__).parent
    for name, request in REQUESTS.items():
        text = json.dumps(http_api_event(*request), indent=2) + "\n"
        (folder / f"{name}.json").write_text(text)
        print(f"wrote events/{name}.json")


if __name__ == "__main__":
    main()
