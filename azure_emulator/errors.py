"""Error answers in each service's own body shape."""

from __future__ import annotations

import json
import time
import uuid

from aiohttp import web

ARM_DEFAULT_CODES = {400: "BadRequest", 401: "AuthenticationFailed", 403: "AuthorizationFailed", 404: "NotFound",
                     409: "Conflict", 412: "PreconditionFailed", 429: "TooManyRequests",
                     500: "InternalServerError", 502: "BadGateway", 503: "ServiceUnavailable",
                     504: "GatewayTimeout"}


def arm_error(status: int, code: str | None = None, message: str | None = None,
              headers: dict[str, str] | None = None) -> web.Response:
    """ARM's envelope: ``{"error": {"code", "message"}}``."""
    body = {"error": {"code": code or ARM_DEFAULT_CODES.get(status, "InternalServerError"),
                      "message": message or "The server encountered an internal error. Please retry the request."}}
    return web.json_response(body, status=status, headers=headers)


def aad_timestamp(now: float | None = None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(now))


def aad_error_body(error: str, code: int, message: str, correlation_id: str | None = None) -> dict:
    """Entra ID's OAuth error body: AADSTS code in the description, then Trace ID, Correlation ID, Timestamp."""
    trace_id = str(uuid.uuid4())
    correlation = correlation_id or str(uuid.uuid4())
    stamp = aad_timestamp()
    # Real descriptions end with CRLF-separated trace lines (entra-docs v2-oauth2-client-creds-grant-flow.md).
    description = (f"AADSTS{code}: {message}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation}"
                   f"\r\nTimestamp: {stamp}")
    return {"error": error, "error_description": description, "error_codes": [code], "timestamp": stamp,
            "trace_id": trace_id, "correlation_id": correlation,
            "error_uri": f"https://login.microsoftonline.com/error?code={code}"}


def aad_error(status: int, error: str, code: int, message: str, request: web.Request | None = None,
              headers: dict[str, str] | None = None) -> web.Response:
    correlation = request.headers.get("client-request-id") if request is not None else None
    body = aad_error_body(error, code, message, correlation)
    return web.Response(status=status, text=json.dumps(body), content_type="application/json",
                        headers={"x-ms-request-id": body["trace_id"], **(headers or {})})


def msi_error(status: int, error: str, description: str, headers: dict[str, str] | None = None) -> web.Response:
    """The shape IMDS and the other managed-identity endpoints use: ``{"error", "error_description"}``."""
    return web.json_response({"error": error, "error_description": description}, status=status, headers=headers)
