"""Request counters, the counting/fault/throttling middleware every listener uses, and the control app.

Handlers may set ``request["route_template"]`` (e.g. ``"/subscriptions/{subscriptionId}/resourceGroups"``) when
their aiohttp route is a catch-all, so counters group by the route a user would recognise.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import errors, graph
from .faults import Fault, FaultError, Faults
from .knobs import KnobError, Knobs
from .throttle import Decision
from .tokens import TokenError

if TYPE_CHECKING:
    from .emulator import Emulator

__all__ = ["Counters", "Faults", "Knobs", "make_control_app", "middleware"]

DROPPED = "dropped"
REPLY_LOST = "reply_lost"


class Counters:
    """One dict increment per request; aggregated when read."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str, str, str, bool]] = Counter()

    def reset(self) -> None:
        self._counts.clear()

    def record(self, service: str, method: str, route: str, status: int | str, write: bool) -> None:
        self._counts[(service, method, route, str(status), write)] += 1

    def snapshot(self, service: str | None = None) -> dict:
        by_service: Counter[str] = Counter()
        by_method: Counter[str] = Counter()
        by_status: Counter[str] = Counter()
        by_route: Counter[str] = Counter()
        writes = 0
        for (svc, method, route, status, write), n in self._counts.items():
            if service is not None and svc != service:
                continue
            by_service[svc] += n
            by_method[method] += n
            by_status[status] += n
            by_route[f"{method} {route}" if service else f"{svc} {method} {route}"] += n
            writes += n if write else 0
        return {"requests": sum(by_service.values()), "writes": writes, "by_service": dict(by_service),
                "by_method": dict(by_method), "by_status": dict(by_status), "by_route": dict(by_route)}


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


def middleware(emulator: Emulator, service: str):
    """Counts every request, applies faults, and for ARM applies throttling and the rate-limit headers."""
    counters, faults, is_arm = emulator.counters, emulator.faults, service == "arm"

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
            decision, actor = _throttle(emulator, request, scope, kind)
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


def _throttle(emulator: Emulator, request: web.Request, scope: str, kind: str) -> tuple[Decision | None, str]:
    """No decision when the caller is not authenticated: ARM answers 401 before any throttling."""
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() != "bearer ":
        return None, ""
    try:
        claims = emulator.issuer.verify(auth[7:].strip())
    except TokenError:
        return None, ""
    actor = claims.get("oid", "")
    return emulator.arm_throttle.check(scope, actor, kind), actor


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


# -- the control app ---------------------------------------------------------------------------------------------
def _bad_request(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


async def _json_body(request: web.Request) -> Any:
    try:
        return await request.json()
    except json.JSONDecodeError as exc:
        raise web.HTTPBadRequest(text=json.dumps({"error": f"body is not JSON: {exc}"}),
                                 content_type="application/json") from None


def make_control_app(emulator: Emulator) -> web.Application:
    routes = web.RouteTableDef()

    @routes.get("/healthz")
    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    @routes.get("/state")
    async def state(request: web.Request) -> web.Response:
        return web.json_response(emulator.public_state())

    @routes.get("/info")
    async def info(request: web.Request) -> web.Response:
        await emulator.sync_vm_listeners()
        return web.json_response(emulator.info())

    @routes.get("/vms")
    async def vms(request: web.Request) -> web.Response:
        await emulator.sync_vm_listeners()
        return web.json_response(emulator.vm_entries())

    @routes.get("/counters")
    async def counters(request: web.Request) -> web.Response:
        return web.json_response(emulator.counters.snapshot(request.query.get("service")))

    @routes.post("/counters/reset")
    async def counters_reset(request: web.Request) -> web.Response:
        emulator.counters.reset()
        return web.json_response(emulator.counters.snapshot())

    @routes.post("/reset")
    async def reset(request: web.Request) -> web.Response:
        await emulator.reset()
        return web.json_response({"status": "reset"})

    @routes.get("/knobs")
    async def knobs(request: web.Request) -> web.Response:
        return web.json_response(emulator.knobs.to_dict())

    @routes.patch("/knobs")
    async def knobs_patch(request: web.Request) -> web.Response:
        body = await _json_body(request)
        if not isinstance(body, dict):
            return _bad_request("PATCH /knobs needs a JSON object of knob names and values")
        try:
            emulator.knobs.update(body)
        except KnobError as exc:
            return _bad_request(str(exc))
        return web.json_response(emulator.knobs.to_dict())

    @routes.get("/faults")
    async def faults(request: web.Request) -> web.Response:
        return web.json_response(emulator.faults.list())

    @routes.post("/faults")
    async def faults_add(request: web.Request) -> web.Response:
        try:
            fault = emulator.faults.add(await _json_body(request))
        except FaultError as exc:
            return _bad_request(str(exc))
        return web.json_response(fault.to_dict(), status=201)

    @routes.delete("/faults")
    async def faults_clear(request: web.Request) -> web.Response:
        emulator.faults.clear()
        return web.json_response([])

    @routes.post("/principals")
    async def principals_add(request: web.Request) -> web.Response:
        body = await _json_body(request)
        if not isinstance(body, dict):
            return _bad_request("POST /principals needs a JSON object, e.g. {\"display_name\": \"new-app\"}")
        try:
            created = emulator.create_application(body)
        except ValueError as exc:
            return _bad_request(str(exc))
        return web.json_response(created, status=201)

    @routes.delete("/principals/{object_id}")
    async def principals_delete(request: web.Request) -> web.Response:
        # A deleted application or identity: its role assignments stay behind, as in Azure ("Identity not found").
        object_id = request.match_info["object_id"]
        if emulator.world.principal(object_id) is None:
            return web.json_response({"error": f"no principal with object id {object_id}"}, status=404)
        emulator.world.remove_principal(object_id)
        emulator.world.commit()
        return web.Response(status=204)

    app = web.Application()
    app.add_routes(routes)
    return app
