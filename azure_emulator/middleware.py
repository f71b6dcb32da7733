"""The middleware every Azure-facing listener runs first: counts the request, applies injected faults and, on ARM,
throttles with token buckets and adds the ``x-ms-ratelimit-remaining-*`` headers.

The Emulator adds it to each app it serves (the control app excepted), so the apps must not add it themselves.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web

from . import errors, graph
from .counters import Counters
from .faults import Fault, Faults
from .throttle import ArmThrottle, Decision
from .tokens import TokenError

if TYPE_CHECKING:
    from .tokens import TokenIssuer

DROPPED = "dropped"
REPLY_LOST = "reply_lost"


def _route_template(request: web.Request) -> str:
    template = request.get("route_template")
    if template:
        return template
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "(no route)"


def arm_kind(method: str) -> str:
    if method in ("GET", "HEAD"):
        return "reads"
    return "deletes" if method == "DELETE" else "writes"


def _arm_scope(path: str) -> str:
    """The subscription in an ARM path, or "tenant" for tenant-level requests."""
    if path[:15].lower() == "/subscriptions/":
        sub = path[15:].split("/", 1)[0]
        if sub:
            return sub.lower()
    return "tenant"


def _fault_response(request: web.Request, service: str, fault: Fault) -> web.Response:
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
    if service == "graph":
        code = fault.code or ("TooManyRequests" if fault.status == 429 else "ServiceNotAvailable")
        message = fault.message or "Injected fault."
        return graph.error_response(request, graph.GraphError(fault.status, code, message, headers))
    if service == "arm":
        return errors.arm_error(fault.status, fault.code, fault.message, headers)
    if service == "entra":
        code = int(fault.code) if fault.code and fault.code.isdigit() else 50000
        error = "temporarily_unavailable" if fault.status in (429, 503) else "server_error"
        message = fault.message or "There was an error issuing a token or an issue with our sign-in service."
        return errors.aad_error(fault.status, error, code, message, headers=headers)
    return errors.msi_error(fault.status, fault.code or ("too_many_requests" if fault.status == 429 else "unknown"),
                            fault.message or "Injected fault.", headers)


def _ratelimit_headers(response: web.StreamResponse, scope: str, kind: str, decision: Decision) -> None:
    level = "tenant" if scope == "tenant" else "subscription"
    response.headers[f"x-ms-ratelimit-remaining-{level}-{kind}"] = str(decision.remaining)
    response.headers[f"x-ms-ratelimit-remaining-{level}-global-{kind}"] = str(decision.global_remaining)


def middleware(service: str, counters: Counters, faults: Faults, *, throttle: ArmThrottle | None = None,
               issuer: TokenIssuer | None = None):
    """Counts every request of ``service`` and applies its faults; for ``"arm"`` also throttles, which needs the
    buckets (``throttle``) and the ``issuer`` that verifies tokens (buckets are per caller)."""
    is_arm = service == "arm"
    if is_arm and (throttle is None or issuer is None):
        raise ValueError("the ARM middleware needs the throttle and the token issuer")

    @web.middleware
    async def counting(request: web.Request, handler) -> web.StreamResponse:
        status: int | str = 500
        kind = arm_kind(request.method) if is_arm else ""
        reply_lost = False
        try:
            if faults:
                for fault in faults.fire(service, request.method, request.path):
                    if fault.kind == "latency":
                        await asyncio.sleep(fault.latency)
                    elif fault.kind == "drop":
                        status = DROPPED
                        _drop(request)
                    elif fault.kind == "reply_lost":
                        reply_lost = True
                    else:
                        response = _fault_response(request, service, fault)
                        status = response.status
                        return response
            if not is_arm:
                response = await handler(request)
                status = response.status
                if reply_lost:  # the handler ran (a write is applied); the client never hears of it
                    status = f"{REPLY_LOST}:{status}"
                    _drop(request)
                return response
            scope = _arm_scope(request.path)
            decision, actor = _throttle(throttle, issuer, request, scope, kind)
            if decision is not None and not decision.allowed:
                response = _throttled(scope, actor, kind, decision)
            else:
                try:
                    response = await handler(request)
                except web.HTTPException as exc:
                    response = exc
            if decision is not None:
                _ratelimit_headers(response, scope, kind, decision)
            status = response.status
            if reply_lost:
                status = f"{REPLY_LOST}:{status}"
                _drop(request)
            if isinstance(response, web.HTTPException):
                raise response
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            counters.record(service, request.method, _route_template(request), status,
                            is_arm and kind != "reads")

    return counting


def _drop(request: web.Request) -> None:
    """Close the connection without an answer."""
    if request.transport is not None:
        request.transport.abort()
    raise asyncio.CancelledError


def _throttle(throttle: ArmThrottle, issuer: TokenIssuer, request: web.Request, scope: str,
              kind: str) -> tuple[Decision | None, str]:
    """No decision when the caller is not authenticated: ARM answers 401 before any throttling."""
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() != "bearer ":
        return None, ""
    try:
        claims = issuer.verify(auth[7:].strip())
    except TokenError:
        return None, ""
    actor = claims.get("oid", "")
    return throttle.check(scope, actor, kind), actor


def _throttled(scope: str, actor: str, kind: str, decision: Decision) -> web.Response:
    # The token-bucket limiter's text, e.g. "Number of 'read' requests for subscription '<id>' actor '<oid>'
    # exceeded. Please try again after '5' seconds after additional tokens are available. ..."
    where = f"subscription '{scope}'" if scope != "tenant" else f"tenant actor '{actor}'"
    if scope != "tenant":
        where += f" actor '{actor}'"
    code = "SubscriptionRequestsThrottled" if scope != "tenant" else "TenantRequestsThrottled"
    message = (f"Number of '{kind[:-1]}' requests for {where} exceeded. Please try again after "
               f"'{decision.retry_after}' seconds after additional tokens are available. "
               "Refer to https://aka.ms/arm-throttling for additional information.")
    return errors.arm_error(429, code, message, {"Retry-After": str(decision.retry_after)})
