"""Microsoft Graph v1.0, minimal: the tenant's service principals and ``directoryObjects/getByIds``.

What azure-cli (``az role assignment --assignee``, ``role assignment list``) and an orphaned-assignment sweep need:
- ``GET /v1.0/servicePrincipals/{id}`` and ``GET /v1.0/servicePrincipals(appId='{appId}')`` [doc] (graph
  serviceprincipal-get.md); a service principal may read its own object with no permission [doc], anything else
  needs one of ``SP_READ`` [doc];
- ``GET /v1.0/servicePrincipals?$filter=`` with ``appId eq``, ``displayName eq``, ``servicePrincipalType eq``,
  ``id eq`` and ``servicePrincipalNames/any(c:c eq '...')`` (azure-cli ``_resolve_object_id``) [code], clauses
  joined by ``and``; ``$top``, ``$select``, ``@odata.nextLink``;
- ``POST /v1.0/directoryObjects/getByIds`` with ``ids`` (up to 1000) and ``types`` (case-insensitive) [doc]
  (directoryobject-getbyids.md); needs Directory.Read.All [doc]; ids of no object are simply absent [doc];
  every object carries ``@odata.type`` (azure-cli maps it to the principal type) [code].
Managed identities are service principals with ``servicePrincipalType: ManagedIdentity``, ``alternativeNames``
``["isExplicit=False"|"isExplicit=True", <resource id with lower-case 'resourcegroups'>]`` (system / user-assigned)
and ``servicePrincipalNames`` ``[appId, "https://identity.azure.net/<base64>"]`` [observed] (captured ``az ad sp``
and Graph output in public repositories).
Errors use Graph's envelope ``{"error": {"code", "message", "innerError": {date, request-id,
client-request-id}}}`` [observed]: 401 ``InvalidAuthenticationToken``, 403 ``Authorization_RequestDenied``
"Insufficient privileges to complete the operation.", 404 ``Request_ResourceNotFound``, 400 ``Request_BadRequest``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

from .audiences import is_graph_audience
from .tokens import TokenError

if TYPE_CHECKING:
    from .context import AppContext
    from .world import Principal

ODATA = "https://graph.microsoft.com/v1.0/$metadata"
SP_TYPE = "#microsoft.graph.servicePrincipal"
SP_READ = frozenset({"application.read.all", "application.readwrite.all", "application.readwrite.ownedby",
                     "directory.read.all", "directory.readwrite.all"})
DIRECTORY_READ = frozenset({"directory.read.all", "directory.readwrite.all"})
MAX_IDS = 1000
DEFAULT_TOP = 100
# Types getByIds accepts (directoryObject and the types deriving from it; azure-cli asks for user, group,
# servicePrincipal and directoryObjectPartnerReference); only service principals exist here.
OBJECT_TYPES = frozenset({"directoryobject", "user", "group", "device", "serviceprincipal", "application",
                          "orgcontact", "administrativeunit", "directoryrole", "directoryroletemplate",
                          "directoryobjectpartnerreference", "contract", "endpoint", "extensionproperty",
                          "approleassignment"})
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_RESOURCE_GROUPS = re.compile("/resourcegroups/", re.IGNORECASE)


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def _now_iso(ts: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def service_principal(principal: Principal, tenant_id: str) -> dict:
    """The v1.0 servicePrincipal resource for a principal of the world."""
    managed = principal.kind == "managed_identity"
    names = [principal.client_id]
    alternative: list[str] = []
    if managed:
        digest = hashlib.sha256(principal.object_id.encode()).digest()
        names.append("https://identity.azure.net/" + base64.b64encode(digest).decode())
        if principal.mi_resource_id:
            explicit = "/microsoft.managedidentity/userassignedidentities/" in principal.mi_resource_id.lower()
            alternative = [f"isExplicit={explicit}",
                           _RESOURCE_GROUPS.sub("/resourcegroups/", principal.mi_resource_id)]
    return {
        "id": principal.object_id, "deletedDateTime": None, "accountEnabled": True,
        "alternativeNames": alternative, "appDisplayName": None if managed else principal.display_name,
        "appDescription": None, "appId": principal.client_id, "applicationTemplateId": None,
        "appOwnerOrganizationId": None if managed else tenant_id, "appRoleAssignmentRequired": False,
        "createdDateTime": _now_iso(principal.created_at), "description": None, "disabledByMicrosoftStatus": None,
        "displayName": principal.display_name, "homepage": None, "loginUrl": None, "logoutUrl": None,
        "notes": None, "notificationEmailAddresses": [], "preferredSingleSignOnMode": None,
        "preferredTokenSigningKeyThumbprint": None, "replyUrls": [], "servicePrincipalNames": names,
        "servicePrincipalType": "ManagedIdentity" if managed else "Application",
        "signInAudience": None if managed else "AzureADMyOrg", "tags": [], "tokenEncryptionKeyId": None,
        "info": None, "samlSingleSignOnSettings": None, "addIns": [], "appRoles": [], "keyCredentials": [],
        "oauth2PermissionScopes": [], "passwordCredentials": [], "resourceSpecificApplicationPermissions": [],
        "verifiedPublisher": {"displayName": None, "verifiedPublisherId": None, "addedDateTime": None},
    }


# -- $filter -------------------------------------------------------------------------------------------------------
_CLAUSES = (
    (re.compile(r"(?P<prop>appId|displayName|servicePrincipalType|id)\s+eq\s+'(?P<value>(?:[^']|'')*)'",
                re.IGNORECASE), None),
    (re.compile(r"servicePrincipalNames/any\(\s*(?P<var>\w+)\s*:\s*(?P=var)\s+eq\s+'(?P<value>(?:[^']|'')*)'\s*\)",
                re.IGNORECASE), "servicePrincipalNames"),
)
_FIELDS = {"appid": "appId", "displayname": "displayName", "serviceprincipaltype": "servicePrincipalType",
           "id": "id"}


def _clause(text: str):
    for pattern, collection in _CLAUSES:
        found = pattern.fullmatch(text.strip())
        if found is None:
            continue
        value = found["value"].replace("''", "'").lower()
        if collection:
            return lambda sp: value in (n.lower() for n in sp[collection])
        field = _FIELDS[found["prop"].lower()]
        # Graph compares these properties case-insensitively.
        return lambda sp: str(sp.get(field) or "").lower() == value
    prop = text.strip().split(" ", 1)[0].split("/", 1)[0] or text
    raise GraphError(400, "Request_UnsupportedQuery",
                     f"Unsupported or invalid query filter clause specified for property '{prop}' of resource "
                     "'ServicePrincipal'.")


def parse_filter(text: str | None):
    """A predicate over rendered service principals for a ``$filter`` (clauses joined by ``and``)."""
    if not text or not text.strip():
        return lambda sp: True
    predicates = [_clause(part) for part in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE)]
    return lambda sp: all(p(sp) for p in predicates)


def _select(obj: dict, select: str | None) -> dict:
    if not select:
        return obj
    wanted = {s.strip().lower() for s in select.split(",") if s.strip()}
    return {k: v for k, v in obj.items() if k.startswith("@odata.") or k.lower() in wanted}


# -- the app -------------------------------------------------------------------------------------------------------
class Graph:
    def __init__(self, context: AppContext) -> None:
        self.context = context

    @property
    def world(self) -> Any:
        return self.context.world

    def challenge(self) -> dict[str, str]:
        authority = self.context.authority_host.rstrip("/")
        return {"WWW-Authenticate": f'Bearer realm="", authorization_uri="{authority}/common/oauth2/authorize", '
                                    f'client_id="00000003-0000-0000-c000-000000000000"'}

    def caller(self, request: web.Request) -> dict:
        """The verified claims of the bearer token (401 InvalidAuthenticationToken otherwise)."""
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.", self.challenge())
        try:
            claims = self.context.issuer.verify(token.strip())
        except TokenError as err:
            message = ("Lifetime validation failed, the token is expired." if err.kind == "expired"
                       else "Access token validation failure.")
            raise GraphError(401, "InvalidAuthenticationToken", message, self.challenge()) from None
        if not is_graph_audience(str(claims.get("aud", "")), self.context.graph_endpoint):
            raise GraphError(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.",
                             self.challenge())
        if str(claims.get("tid", "")).lower() != self.world.tenant_id.lower():
            raise GraphError(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid issuer.",
                             self.challenge())
        return claims

    @staticmethod
    def require(claims: dict, allowed: frozenset[str]) -> None:
        roles = {str(r).lower() for r in claims.get("roles") or []}
        if not roles & allowed:
            raise GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")

    def replicated(self, principal: Principal) -> bool:
        """A principal younger than the replication delay is not yet on the directory replica Graph reads from
        (howto-troubleshoot "PrincipalNotFound": a new principal can take a while to replicate), so a look-up by
        id finds nothing yet."""
        return self.world.now() - principal.created_at >= self.world.knobs.replication_delay

    def rendered(self) -> list[dict]:
        tenant = self.world.tenant_id
        principals = sorted(self.world.principals.values(), key=lambda p: (p.created_at, p.object_id))
        return [service_principal(p, tenant) for p in principals]

    def one(self, claims: dict, object_id: str | None = None, app_id: str | None = None) -> dict:
        principal = (self.world.principal(object_id) if object_id else
                     self.world.principal_by_client_id(app_id or "") if app_id else None)
        own = principal is not None and principal.object_id.lower() == str(claims.get("oid", "")).lower()
        if not own:
            # A service principal may read its own object without any permission (serviceprincipal-get.md).
            self.require(claims, SP_READ)
        if object_id and not _GUID.match(object_id):
            raise GraphError(400, "Request_BadRequest", f"Invalid object identifier '{object_id}'.")
        if principal is None:
            raise GraphError(404, "Request_ResourceNotFound",
                             f"Resource '{object_id or app_id}' does not exist or one of its queried "
                             "reference-property objects are not present.")
        return service_principal(principal, self.world.tenant_id)

    def page(self, request: web.Request, items: list[dict], context: str) -> dict:
        query = request.query
        try:
            top = int(query.get("$top", DEFAULT_TOP))
            start = int(query.get("$skiptoken", "0"))
        except ValueError:
            raise GraphError(400, "Request_BadRequest", "Invalid value for '$top' or '$skiptoken'.") from None
        if not 1 <= top <= 999:
            raise GraphError(400, "Request_BadRequest", f"Invalid page size specified: '{top}'. Must be between 1 "
                                                        "and 999 inclusive.")
        chunk = [_select(sp, query.get("$select")) for sp in items[start:start + top]]
        body: dict[str, Any] = {"@odata.context": f"{ODATA}#{context}", "value": chunk}
        if start + top < len(items):
            params = {k: v for k, v in query.items() if k != "$skiptoken"}
            params["$skiptoken"] = str(start + top)
            next_url = self.context.graph_endpoint.rstrip("/") + request.path
            body["@odata.nextLink"] = f"{next_url}?{urlencode(params)}"
        return body

    def get_by_ids(self, claims: dict, body: Any) -> dict:
        self.require(claims, DIRECTORY_READ)
        if not isinstance(body, dict) or not isinstance(body.get("ids"), list):
            raise GraphError(400, "Request_BadRequest",
                             "The request body must be a JSON object with 'ids', a collection of object ids.")
        ids, types = body["ids"], body.get("types")
        if len(ids) > MAX_IDS:
            raise GraphError(400, "Request_BadRequest",
                             f"The number of ids ({len(ids)}) exceeds the limit of {MAX_IDS} per request.")
        for object_id in ids:
            if not isinstance(object_id, str) or not _GUID.match(object_id):
                raise GraphError(400, "Request_BadRequest", f"Invalid object identifier '{object_id}'.")
        wanted_types = {"directoryobject"}
        if types:
            if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
                raise GraphError(400, "Request_BadRequest", "'types' must be a collection of type names.")
            wanted_types = {t.lower().removeprefix("microsoft.graph.") for t in types}
            unknown = sorted(wanted_types - OBJECT_TYPES)
            if unknown:
                raise GraphError(400, "Request_BadRequest", f"Invalid type name '{unknown[0]}'.")
        found, seen = [], set()
        if wanted_types & {"directoryobject", "serviceprincipal"}:
            for object_id in ids:
                principal = self.world.principal(object_id)
                if principal is not None and self.replicated(principal) and principal.object_id not in seen:
                    seen.add(principal.object_id)
                    # A mixed collection: each object names its type (a typed collection does not).
                    found.append({"@odata.type": SP_TYPE, **service_principal(principal, self.world.tenant_id)})
        return {"@odata.context": f"{ODATA}#directoryObjects", "value": found}


_SP_ONE = re.compile(r"/v1\.0/servicePrincipals/(?P<id>[^/()]+)", re.IGNORECASE)
_SP_BY_APP = re.compile(r"/v1\.0/servicePrincipals\(appId='(?P<app>[^']*)'\)", re.IGNORECASE)
_SP_LIST = re.compile(r"/v1\.0/servicePrincipals", re.IGNORECASE)
_GET_BY_IDS = re.compile(r"/v1\.0/directoryObjects/(?:microsoft\.graph\.)?getByIds", re.IGNORECASE)


def error_response(request: web.Request, err: GraphError) -> web.Response:
    """Graph's error envelope: ``{"error": {"code", "message", "innerError": {date, request-id, ...}}}``."""
    request_id = str(uuid.uuid4())
    client_request_id = request.headers.get("client-request-id", request_id)
    body = {"error": {"code": err.code, "message": err.message,
                      "innerError": {"date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
                                     "request-id": request_id, "client-request-id": client_request_id}}}
    return web.Response(status=err.status, text=json.dumps(body), content_type="application/json",
                        headers={"request-id": request_id, "client-request-id": client_request_id, **err.headers})


def make_graph_app(context: AppContext) -> web.Application:
    graph = Graph(context)

    async def handle(request: web.Request) -> web.Response:
        path = request.path.rstrip("/")
        try:
            if request.method == "GET" and (found := _SP_BY_APP.fullmatch(path)):
                request["route_template"] = "/v1.0/servicePrincipals(appId='{appId}')"
                body = graph.one(graph.caller(request), app_id=found["app"])
                body = {"@odata.context": f"{ODATA}#servicePrincipals/$entity", **_select(
                    body, request.query.get("$select"))}
            elif request.method == "GET" and (found := _SP_ONE.fullmatch(path)):
                request["route_template"] = "/v1.0/servicePrincipals/{id}"
                body = graph.one(graph.caller(request), object_id=found["id"])
                body = {"@odata.context": f"{ODATA}#servicePrincipals/$entity", **_select(
                    body, request.query.get("$select"))}
            elif request.method == "GET" and _SP_LIST.fullmatch(path):
                request["route_template"] = "/v1.0/servicePrincipals"
                graph.require(graph.caller(request), SP_READ)
                keep = parse_filter(request.query.get("$filter"))
                body = graph.page(request, [sp for sp in graph.rendered() if keep(sp)], "servicePrincipals")
            elif request.method == "POST" and _GET_BY_IDS.fullmatch(path):
                request["route_template"] = "/v1.0/directoryObjects/getByIds"
                claims = graph.caller(request)
                try:
                    payload = json.loads(await request.read() or b"null")
                except ValueError:
                    raise GraphError(400, "BadRequest", "Unable to read JSON request payload. Please ensure "
                                                        "Content-Type header is set and payload is of valid JSON "
                                                        "format.") from None
                body = graph.get_by_ids(claims, payload)
            else:
                raise GraphError(400, "BadRequest", f"Resource not found for the segment "
                                                    f"'{path.rsplit('/', 1)[-1] or path}'.")
        except GraphError as err:
            return error_response(request, err)
        return web.json_response(body, headers={"request-id": str(uuid.uuid4()),
                                                "OData-Version": "4.0"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app
