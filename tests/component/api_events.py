"""API Gateway REST proxy events, in the shape of Powertools' ``apiGatewayProxyEvent.json`` test
event: what API Gateway (IAM authorisation) hands the audit-api function."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlencode

CALLER = "arn:aws:iam::123456789012:user/partner-upload"


def rest_event(
    method: str,
    path: str,
    query: dict[str, str] | None = None,
    body: Any = None,
    user_arn: str | None = CALLER,
    resource: str | None = None,
) -> dict[str, Any]:
    headers = {"Accept": "application/json", "Host": "abc123.execute-api.eu-central-1.amazonaws.com"}
    raw_body = None
    if body is not None:
        raw_body = body if isinstance(body, str) else json.dumps(body)
        headers["Content-Type"] = "application/json"
    return {
        "version": "1.0",
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.eu-central-1.amazonaws.com",
            "domainPrefix": "abc123",
            "extendedRequestId": "request-id",
            "httpMethod": method,
            "identity": {
                "accessKey": "ASIAEXAMPLE" if user_arn else None,
                "accountId": "123456789012" if user_arn else None,
                "caller": "AIDAEXAMPLE:partner" if user_arn else None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": "192.0.2.10",
                "user": "AIDAEXAMPLE:partner" if user_arn else None,
                "userAgent": "curl/8.0",
                "userArn": user_arn,
            },
            "path": "/prod" + path,
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTime": "21/Nov/2026:09:00:00 +0000",
            "requestTimeEpoch": 1795251600000,
            "resourceId": "xyz789",
            "resourcePath": resource or path,
            "stage": "prod",
        },
        "pathParameters": None,
        "stageVariables": None,
        "body": raw_body,
        "isBase64Encoded": False,
    }


def url_of(path: str, query: dict[str, str] | None = None) -> str:
    return path + ("?" + urlencode(query) if query else "")
