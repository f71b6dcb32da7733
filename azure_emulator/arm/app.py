"""The ARM application: one catch-all route, a case-insensitive route table, authentication, common headers.

aiohttp routes are case-sensitive while ARM's paths are not (provider namespaces, types, names), so requests are
matched here against regular expressions compiled with IGNORECASE; IDs in responses keep the casing they were stored
with.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

from ..rbac import Rbac
from . import errors, versions
from .auth import Authenticator, Caller
from .errors import ArmError

if TYPE_CHECKING:
    from ..context import AppContext

Handler = Callable[["Ctx"], Awaitable[web.Response]]


@dataclass
class Route:
    name: str                 # route template, for counters ("/subscriptions/{sub}/resourceGroups/{rg}")
    methods: frozenset[str]
    pattern: re.Pattern[str]
    handler: Handler
    version_type: str | None  # key of versions.TABLE; None = handler checks it
    authenticated: bool = True


class Ctx:
    """Everything a handler needs about one request."""

    def __init__(self, app: ArmApp, request: web.Request, params: dict[str, str], route: Route) -> None:
        self.app = app
        self.request = request
        self.params = params
        self.route = route
        self.context = app.context
        self.world = app.context.world
        self.rbac = app.rbac
        self.caller: Caller | None = None
        self.api_version: str = request.query.get("api-version", "")

    @property
    def method(self) -> str:
        return self.request.method

    def check_version(self, type_name: str, location: str = "global") -> str:
        self.api_version = versions.check(type_name, self.request.query.get("api-version"), location)
        return self.api_version

    async def json(self) -> dict:
        raw = await self.request.read()
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except ValueError as err:
            raise errors.invalid_request_content(
                f"The request content was invalid and could not be deserialized: '{err}'.") from None
        if not isinstance(body, dict):
            raise errors.invalid_request_content(
                "The request content was invalid and could not be deserialized: 'the body is not a JSON object'.")
        return body

    def allowed(self, action: str, scope: str, attributes: dict[str, str] | None = None) -> bool:
        assert self.caller is not None
        return self.rbac.allowed(self.caller.object_id, action, scope, attributes)

    def require(self, action: str, scope: str, attributes: dict[str, str] | None = None) -> None:
        """403 AuthorizationFailed unless the caller's effective roles grant ``action`` at ``scope`` (with their
        conditions holding for ``attributes``)."""
        if not self.allowed(action, scope, attributes):
            assert self.caller is not None
            abac = self.rbac.allowed(self.caller.object_id, action, scope, honour_conditions=False)
            raise errors.authorization_failed(self.caller.client_id, self.caller.object_id, action, scope or "/",
                                              abac=abac)

    def url(self, path: str, **query: str) -> str:
        return self.context.arm_endpoint.rstrip("/") + path + ("?" + urlencode(query) if query else "")

    def page(self, items: list[dict]) -> dict:
        """One page of a list with ``nextLink`` carrying ``$skiptoken`` (the knob ``page_size`` sets the size)."""
        size = max(1, int(self.world.knobs.page_size))
        try:
            start = max(0, int(self.request.query.get("$skiptoken", "0")))
        except ValueError:
            start = 0
        body: dict[str, Any] = {"value": items[start:start + size]}
        if start + size < len(items):
            query = {k: v for k, v in self.request.query.items() if k != "$skiptoken"}
            query["$skiptoken"] = str(start + size)
            body["nextLink"] = self.url(arm_path(self.request), **query)
        return body


_SLASHES = re.compile(r"/{2,}")


def arm_path(request: web.Request) -> str:
    """The request path as ARM routes it: repeated slashes count as one (Microsoft's own REST examples call
    ``https://management.azure.com//subscriptions/...``, an endpoint with a trailing slash joined to an absolute
    path) and a trailing slash is ignored."""
    return _SLASHES.sub("/", request.path).rstrip("/") or "/"


def respond(status: int, body: Any = None, headers: dict[str, str] | None = None) -> web.Response:
    if body is None:
        return web.Response(status=status, headers=headers)
    return web.Response(status=status, text=json.dumps(body), content_type="application/json", charset="utf-8",
                        headers=headers)


class ArmApp:
    def __init__(self, context: AppContext, routes: list[Route]) -> None:
        self.context = context
        self.routes = routes
        self.rbac = Rbac(context.world)
        self.auth = Authenticator(context)
        self.compute_ops: Any = None  # compute.Operations, set by make_app

    def match(self, path: str, method: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, params, path_known): path_known is True when a route matches the path but not the method."""
        path_known = False
        for route in self.routes:
            found = route.pattern.fullmatch(path)
            if found is None:
                continue
            if method in route.methods:
                return route, found.groupdict(), True
            path_known = True
        return None, {}, path_known

    async def handle(self, request: web.Request) -> web.Response:
        try:
            response = await self._dispatch(request)
        except ArmError as err:
            response = respond(err.status, err.body() if request.method != "HEAD" else None, err.headers)
        return response

    async def _dispatch(self, request: web.Request) -> web.Response:
        path = arm_path(request)
        route, params, path_known = self.match(path, request.method)
        if route is None:
            if path_known:
                raise ArmError(405, "MethodNotAllowed",
                               f"The requested resource does not support http method '{request.method}'.")
            raise not_found(path, request.query.get("api-version"))
        request["route_template"] = route.name
        ctx = Ctx(self, request, params, route)
        # ARM rejects a request without api-version before it looks at the token (an anonymous browser GET of
        # management.azure.com gets MissingApiVersionParameter, MicrosoftDocs/feedback#2279).
        if not request.query.get("api-version"):
            raise errors.missing_api_version()
        if route.authenticated:
            ctx.caller = self.auth.authenticate(request.headers.get("Authorization"))
        if route.version_type is not None:
            ctx.check_version(route.version_type)
        return await route.handler(ctx)

    @staticmethod
    async def decorate(request: web.Request, response: web.StreamResponse) -> None:
        """on_response_prepare: ARM's headers on every answer the ARM listener sends."""
        headers = response.headers
        request_id = str(uuid.uuid4())
        headers.setdefault("x-ms-request-id", request_id)
        correlation = request.headers.get("x-ms-correlation-request-id") or request_id
        headers.setdefault("x-ms-correlation-request-id", correlation)
        headers.setdefault("x-ms-routing-request-id", f"WESTUS:{_stamp()}:{request_id}")
        client_request_id = request.headers.get("x-ms-client-request-id")
        if client_request_id:
            headers.setdefault("x-ms-client-request-id", client_request_id)
        headers.setdefault("Cache-Control", "no-cache")
        headers.setdefault("Pragma", "no-cache")
        headers.setdefault("Expires", "-1")
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        headers.setdefault("X-Content-Type-Options", "nosniff")


def _stamp() -> str:
    import time

    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


_PROVIDER_TYPE = re.compile(r".*/providers/(?P<ns>[^/]+)/(?P<type>[^/]+)(?:/.*)?", re.IGNORECASE)


def not_found(path: str, api_version: str | None) -> ArmError:
    found = _PROVIDER_TYPE.fullmatch(path)
    if found:
        return ArmError(404, "InvalidResourceType",
                        f"The resource type '{found['type']}' could not be found in the namespace '{found['ns']}' "
                        f"for api version '{api_version or ''}'.")
    return ArmError(404, "NotFound", "The requested resource does not exist.")
