"""Per-VM Instance Metadata Service (169.254.169.254) and legacy MSI VM extension (localhost:50342).

One listener per VM answers for that VM alone. The VM's ``identity`` block in the world is read on every request,
so an identity enabled or removed through ARM changes what IMDS issues at once.

Wire facts: azure-reference/REFERENCE.md sections 1-3 (entra-docs how-to-use-vm-token.md, azure-docs
instance-metadata-service.md, swagger specification/imds/.../2023-07-01/imds.json).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .audiences import known_resource, token_audience

if TYPE_CHECKING:
    from .context import AppContext
    from .throttle import ImdsLimiter

# Versions the IMDS front end accepts (azure-docs instance-metadata-service.md "Supported API versions", plus the
# swagger's 2023-07-01). The identity endpoints exist since 2018-02-01 ("use 2018-02-01 or later", how-to-use-vm-token).
API_VERSIONS = (
    "2017-03-01", "2017-04-02", "2017-08-01", "2017-10-01", "2017-12-01", "2018-02-01", "2018-04-02", "2018-10-01",
    "2019-02-01", "2019-03-11", "2019-04-30", "2019-06-01", "2019-06-04", "2019-08-01", "2019-08-15", "2019-11-01",
    "2020-06-01", "2020-07-15", "2020-09-01", "2020-10-01", "2020-12-01", "2021-01-01", "2021-02-01", "2021-03-01",
    "2021-05-01", "2021-08-01", "2021-10-01", "2021-11-01", "2021-11-15", "2021-12-13", "2023-07-01",
)
IDENTITY_MIN_VERSION = "2018-02-01"
NEWEST_VERSIONS = sorted(API_VERSIONS, reverse=True)[:3]

# Instance fields and the api-version that introduced them (instance-metadata-service.md, "compute" table).
FIELD_MIN_VERSION = {
    "vmId": "2017-04-02",
    "subscriptionId": "2017-08-01",
    "resourceGroupName": "2017-08-01",
    "tags": "2017-08-01",
    "placementGroupId": "2017-08-01",
    "azEnvironment": "2018-10-01",
    "provider": "2018-10-01",
    "publicKeys": "2018-04-02",
    "resourceId": "2019-03-11",
    "storageProfile": "2019-06-01",
    "tagsList": "2019-06-04",
    "osProfile": "2020-07-15",
    "securityProfile": "2020-06-01",
    "isHostCompatibilityLayerVm": "2020-06-01",
    "licenseType": "2020-09-01",
    "evictionPolicy": "2020-12-01",
    "priority": "2020-12-01",
    "userData": "2021-01-01",
}

ERR_METADATA_TOKEN = {"error": "invalid_request", "error_description": "Required metadata header not specified"}
ERR_METADATA_INSTANCE = {"error": "Bad request. Required metadata header not specified"}
ERR_IDENTITY_NOT_FOUND = {"error": "invalid_request", "error_description": "Identity not found"}
ERR_MULTIPLE_UAMI = {
    "error": "invalid_request",
    "error_description": "Multiple user assigned identities exist, please specify the clientId / resourceId of "
    "the identity in the token request",
}

SELECTORS = ("client_id", "object_id", "msi_res_id", "mi_res_id")


def resource_known(context: AppContext, resource: str) -> bool:
    """Whether the tenant knows the resource: a well-known Azure API, the emulator's own ARM endpoint, or an
    application of the tenant by client id or ``api://<client id>``."""
    if known_resource(resource, context.arm_endpoint, context.graph_endpoint):
        return True
    wanted = resource.strip().rstrip("/").lower()
    app_id = wanted[len("api://"):] if wanted.startswith("api://") else wanted
    principal = context.world.principal_by_client_id(app_id)
    return principal is not None and principal.kind == "application"


def aadsts500011(resource: str, tenant_id: str) -> str:
    """Entra ID's text for an unknown resource, as IMDS relays it (REFERENCE.md section 1, "Unknown resource")."""
    now = datetime.now(timezone.utc)
    return (
        f"AADSTS500011: The resource principal named {resource} was not found in the tenant named {tenant_id}. "
        "This can happen if the application has not been installed by the administrator of the tenant or consented "
        "to by any user in the tenant. You might have sent your authentication request to the wrong tenant.\r\n"
        f"Trace ID: {uuid.uuid4()}\r\nCorrelation ID: {uuid.uuid4()}\r\n"
        f"Timestamp: {now.strftime('%Y-%m-%d %H:%M:%S')}Z"
    )


def issue_mi_token(context: AppContext, principal: Any, resource: str) -> tuple[str, dict]:
    """A v1 token for a managed identity; ``aud`` is the resource exactly as requested."""
    return context.issuer.issue(principal, token_audience(resource), version="1.0")


def uami_principal(world: Any, uami_id: str, entry: dict | None) -> Any | None:
    """The principal of a user-assigned identity listed in a VM's identity block."""
    principal_id = (entry or {}).get("principalId")
    if not principal_id:
        uami = world.get(uami_id)
        principal_id = ((uami or {}).get("properties") or {}).get("principalId")
    return world.principal(principal_id) if principal_id else None


@contextlib.asynccontextmanager
async def imds_slot(limiter: ImdsLimiter, vm_id: str) -> AsyncIterator[bool]:
    """IMDS managed-identity limits: 20 requests/s and 5 concurrent per VM (instance-metadata-service.md,
    "Rate limiting"); yields False when the request must get 429."""
    admitted = limiter.acquire(vm_id)
    try:
        yield admitted
    finally:
        if admitted:
            limiter.release(vm_id)


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps(body),
        content_type="application/json",
        charset="utf-8",
        headers=dict(headers or {}),
    )


def _token_error(status: int, code: str, description: str) -> web.Response:
    return _json(status, {"error": code, "error_description": description})


def _version_error(missing: bool) -> web.Response:
    # The missing case is the doc's example body; the invalid case is the wording SDK fixtures capture.
    text = "api-version was not specified" if missing else "api-version is invalid or was not specified"
    return _json(400, {
        "error": f"Bad request. {text} in the request. For more information refer to aka.ms/azureimds",
        "newest-versions": NEWEST_VERSIONS,
    })


def repeated_parameter(request: web.Request) -> str | None:
    """IMDS rejects a query string that repeats a parameter name (instance-metadata-service.md)."""
    seen: set[str] = set()
    for name, _ in request.query.items():
        if name in seen:
            return name
        seen.add(name)
    return None


def metadata_header_ok(request: web.Request) -> bool:
    """``Metadata: true``, the value in all lower case (how-to-use-vm-token.md)."""
    return request.headers.get("Metadata") == "true"


class VmIdentity:
    """What the VM's ``identity`` block says, resolved to principals, for one request."""

    def __init__(self, world: Any, vm: dict | None):
        self.world = world
        identity = (vm or {}).get("identity") or {}
        types = {t.strip().lower() for t in str(identity.get("type") or "None").split(",")}
        self.system = None
        if "systemassigned" in types and identity.get("principalId"):
            self.system = world.principal(identity["principalId"])
        self.vm_id = (vm or {}).get("id")
        self.user: list[tuple[str, Any]] = []   # (uami resource id, Principal)
        if "userassigned" in types:
            for uami_id, entry in (identity.get("userAssignedIdentities") or {}).items():
                principal = uami_principal(world, uami_id, entry)
                if principal is not None:
                    self.user.append((uami_id, principal))

    def select(self, name: str | None, value: str | None) -> tuple[Any | None, dict | None]:
        """Return (principal, None) or (None, error body)."""
        if name is None:
            if self.system is not None:
                return self.system, None
            if len(self.user) == 1:
                # A lone user-assigned identity answers an unqualified request (msal ManagedIdentityClient docstring,
                # "Known issue", citing how-to-use-vm-token).
                return self.user[0][1], None
            if len(self.user) > 1:
                return None, ERR_MULTIPLE_UAMI
            return None, ERR_IDENTITY_NOT_FOUND
        wanted = (value or "").lower()
        candidates = list(self.user)
        if self.system is not None:
            candidates.append((self.vm_id, self.system))
        for resource_id, principal in candidates:
            if name == "client_id" and principal.client_id.lower() == wanted:
                return principal, None
            if name == "object_id" and principal.object_id.lower() == wanted:
                return principal, None
            if name in ("msi_res_id", "mi_res_id") and resource_id and resource_id.lower() == wanted:
                return principal, None
        return None, ERR_IDENTITY_NOT_FOUND


class TokenCache:
    """IMDS hands out the same token per identity and resource until it nears expiry (entra-docs
    managed-identity-best-practice-recommendations.md: "a cache per resource URI for around 24 hours")."""

    # Renew before MSAL would treat the cached token as expired (msal managed_identity.py: < 5 min = expired).
    RENEW_BEFORE = 600

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], tuple[str, dict]] = {}

    def get(self, object_id: str, resource: str, now: float) -> tuple[str, dict] | None:
        entry = self._entries.get((object_id, resource))
        if entry is None or entry[1]["exp"] - now < self.RENEW_BEFORE:
            return None
        return entry

    def put(self, object_id: str, resource: str, entry: tuple[str, dict]) -> None:
        self._entries[(object_id, resource)] = entry


def token_body(token: str, claims: dict, resource: str, principal: Any, now: float, *, legacy: bool = False) -> dict:
    """The IMDS 200 body: every value a JSON string (how-to-use-vm-token.md; swagger IdentityTokenResponse)."""
    exp = int(claims["exp"])
    body = {
        "access_token": token,
        "client_id": principal.client_id,
        "expires_in": str(max(exp - int(now), 0)),
        "expires_on": str(exp),
        "ext_expires_in": str(max(exp - int(now), 0)),
        "not_before": str(int(claims["nbf"])),
        "resource": resource,
        "token_type": "Bearer",
    }
    if legacy:
        # The extension's documented body: refresh_token "" and no client_id / ext_expires_in.
        body = {k: body[k] for k in ("access_token", "expires_in", "expires_on", "not_before", "resource",
                                     "token_type")}
        body["refresh_token"] = ""
    return body


def _tenant_id(context: AppContext) -> str:
    return context.world.tenant_id


class ImdsApp:
    """Handlers for one VM's IMDS listener."""

    def __init__(self, context: AppContext, vm_id: str, limiter: ImdsLimiter):
        self.context = context
        self.vm_id = vm_id
        self.limiter = limiter
        self.cache = TokenCache()

    @property
    def world(self) -> Any:
        return self.context.world

    def vm(self) -> dict | None:
        return self.world.get(self.vm_id)

    # -- identity --------------------------------------------------------------------------------------------------

    async def token(self, request: web.Request) -> web.Response:
        if request.method != "GET":
            return _token_error(405, "method_not_allowed", "Method not allowed; use GET")
        if not metadata_header_ok(request):
            return _json(400, ERR_METADATA_TOKEN)
        if "X-Forwarded-For" in request.headers:
            # The doc gives no body for this rule; the emulator answers as it does for the other header rule.
            return _token_error(400, "invalid_request", "Request containing X-Forwarded-For header is not allowed")
        repeated = repeated_parameter(request)
        if repeated:
            return _token_error(400, "invalid_request", f"Query parameter '{repeated}' is repeated")
        async with imds_slot(self.limiter, self.vm_id) as admitted:
            if not admitted:
                return _token_error(429, "too_many_requests", "Too many requests")
            return self._token(request)

    def _token(self, request: web.Request) -> web.Response:
        query = request.query
        version = query.get("api-version")
        if not version:
            return _version_error(missing=True)
        if version not in API_VERSIONS or version < IDENTITY_MIN_VERSION:
            return _version_error(missing=False)
        resource = query.get("resource")
        if not resource:
            return _token_error(400, "invalid_request", "Required query variable 'resource' is missing")
        given = [name for name in SELECTORS if name in query]
        if len(given) > 1:
            return _token_error(
                400, "invalid_request",
                "Only one of client_id, object_id or msi_res_id can be specified in the token request",
            )
        bypass = query.get("bypass_cache")
        if bypass is not None and bypass != "true":
            return _token_error(400, "invalid_request", "Query variable 'bypass_cache' only accepts 'true'")
        name = given[0] if given else None
        principal, error = VmIdentity(self.world, self.vm()).select(name, query.get(name) if name else None)
        if error is not None:
            return _json(400, error)
        if not resource_known(self.context, resource):
            return _token_error(400, "invalid_resource", aadsts500011(resource, _tenant_id(self.context)))
        now = self.world.now()
        entry = None if bypass == "true" else self.cache.get(principal.object_id, resource, now)
        if entry is None:
            entry = issue_mi_token(self.context, principal, resource)
            self.cache.put(principal.object_id, resource, entry)
        return _json(200, token_body(entry[0], entry[1], resource, principal, now))

    async def info(self, request: web.Request) -> web.Response:
        if request.method != "GET":
            return _token_error(405, "method_not_allowed", "Method not allowed; use GET")
        if not metadata_header_ok(request):
            return _json(400, ERR_METADATA_TOKEN)
        version = request.query.get("api-version")
        if not version:
            return _version_error(missing=True)
        if version not in API_VERSIONS or version < IDENTITY_MIN_VERSION:
            return _version_error(missing=False)
        return _json(200, {"tenantId": _tenant_id(self.context)})

    # -- instance metadata -----------------------------------------------------------------------------------------

    async def versions(self, request: web.Request) -> web.Response:
        if request.method != "GET":
            return _json(405, {"error": "Method not allowed"})
        if not metadata_header_ok(request):
            return _json(400, ERR_METADATA_INSTANCE)
        return _json(200, {"apiVersions": list(API_VERSIONS)})

    async def instance(self, request: web.Request) -> web.Response:
        if request.method != "GET":
            return _json(405, {"error": "Method not allowed"})
        if not metadata_header_ok(request):
            return _json(400, ERR_METADATA_INSTANCE)
        if "X-Forwarded-For" in request.headers:
            return _json(400, {"error": "Bad request. Request containing X-Forwarded-For header is not allowed"})
        repeated = repeated_parameter(request)
        if repeated:
            return _json(400, {"error": f"Bad request. Query parameter '{repeated}' is repeated"})
        version = request.query.get("api-version")
        if not version:
            return _version_error(missing=True)
        if version not in API_VERSIONS:
            return _version_error(missing=False)
        fmt = request.query.get("format", "json")
        if fmt not in ("json", "text"):
            return _json(400, {"error": f"Bad request. Unsupported format '{fmt}'"})
        vm = self.vm()
        if vm is None:
            return _json(404, {"error": "Not found"})
        document = instance_document(vm, version, self.context.world)
        node: Any = document
        for part in [p for p in request.match_info.get("path", "").split("/") if p]:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return _json(404, {"error": "Not found"})
        if isinstance(node, str):
            if fmt != "text":
                return _json(400, {"error": "Bad request. Leaf nodes must be requested with format=text"})
            return web.Response(status=200, text=node, content_type="text/plain", charset="utf-8")
        if fmt == "text":
            # A category asked as text lists its children, a trailing "/" marking the ones that are not leaves.
            children = node.items() if isinstance(node, dict) else enumerate(node)
            lines = [f"{key}/" if not isinstance(child, str) else str(key) for key, child in children]
            return web.Response(status=200, text="\n".join(lines), content_type="text/plain", charset="utf-8")
        return _json(200, node)

    async def not_found(self, request: web.Request) -> web.Response:
        return _json(404, {"error": "Not found"})


def _stringify(value: Any) -> Any:
    """IMDS JSON carries every primitive as a string; missing values are empty strings."""
    if isinstance(value, dict):
        return {k: _stringify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify(v) for v in value]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _id_parts(resource_id: str) -> dict[str, str]:
    parts = [p for p in resource_id.split("/") if p]
    return {parts[i].lower(): parts[i + 1] for i in range(0, len(parts) - 1, 2)}


def vm_uuid(vm: dict) -> str:
    return (vm.get("properties") or {}).get("vmId") or str(uuid.uuid5(uuid.NAMESPACE_URL, vm["id"].lower()))


def instance_document(vm: dict, version: str, world: Any = None) -> dict:
    """``/metadata/instance`` for a VM, built from its ARM resource (instance-metadata-service.md)."""
    props = vm.get("properties") or {}
    storage = props.get("storageProfile") or {}
    image = storage.get("imageReference") or {}
    os_disk = storage.get("osDisk") or {}
    os_profile = props.get("osProfile") or {}
    linux = os_profile.get("linuxConfiguration") or {}
    os_type = os_disk.get("osType") or ("Linux" if linux else "Windows")
    parts = _id_parts(vm["id"])
    tags = vm.get("tags") or {}
    plan = vm.get("plan") or {}
    compute = {
        "azEnvironment": "AzurePublicCloud",
        "customData": "",
        "evictionPolicy": props.get("evictionPolicy", ""),
        "isHostCompatibilityLayerVm": "false",
        "licenseType": props.get("licenseType", ""),
        "location": vm.get("location", ""),
        "name": vm.get("name", ""),
        "offer": image.get("offer", ""),
        "osProfile": {
            "adminUsername": os_profile.get("adminUsername", ""),
            "computerName": os_profile.get("computerName", vm.get("name", "")),
            "disablePasswordAuthentication": linux.get("disablePasswordAuthentication", "") if linux else "",
        },
        "osType": os_type,
        "placementGroupId": "",
        "plan": {"name": plan.get("name", ""), "product": plan.get("product", ""),
                 "publisher": plan.get("publisher", "")},
        "platformFaultDomain": "0",
        "platformUpdateDomain": "0",
        "priority": props.get("priority", ""),
        "provider": "Microsoft.Compute",
        "publicKeys": [{"keyData": k.get("keyData", ""), "path": k.get("path", "")}
                       for k in ((linux.get("ssh") or {}).get("publicKeys") or [])],
        "publisher": image.get("publisher", ""),
        "resourceGroupName": parts.get("resourcegroups", ""),
        "resourceId": vm["id"],
        "securityProfile": {"secureBootEnabled": "false", "virtualTpmEnabled": "false"},
        "sku": image.get("sku", ""),
        "storageProfile": {
            "dataDisks": [],
            "imageReference": {k: image.get(k, "") for k in ("id", "offer", "publisher", "sku", "version")},
            "osDisk": {
                "caching": os_disk.get("caching", ""),
                "createOption": os_disk.get("createOption", ""),
                "diskSizeGB": os_disk.get("diskSizeGB", ""),
                "name": os_disk.get("name", ""),
                "osType": os_type,
                "managedDisk": {
                    "id": (os_disk.get("managedDisk") or {}).get("id", ""),
                    "storageAccountType": (os_disk.get("managedDisk") or {}).get("storageAccountType", ""),
                },
            },
        },
        "subscriptionId": parts.get("subscriptions", ""),
        "tags": ";".join(f"{k}:{v}" for k, v in tags.items()),
        "tagsList": [{"name": k, "value": v} for k, v in tags.items()],
        "userData": "",
        "version": image.get("exactVersion", image.get("version", "")),
        "vmId": vm_uuid(vm),
        "vmScaleSetName": "",
        "vmSize": (props.get("hardwareProfile") or {}).get("vmSize", ""),
        "zone": ",".join(vm.get("zones") or []),
    }
    compute = {k: v for k, v in compute.items() if version >= FIELD_MIN_VERSION.get(k, "")}
    return _stringify({"compute": compute, "network": network_block(vm, world)})


def network_block(vm: dict, world: Any = None) -> dict:
    """The VM's network interfaces as ARM lists them (primary first), so IMDS and ARM agree on the addresses; a VM
    without one in the world gets a single NIC with a private address derived from its id."""
    interfaces = _arm_interfaces(vm, world) if world is not None else []
    if interfaces:
        return {"interface": interfaces}
    digest = hashlib.sha256(vm["id"].lower().encode()).digest()
    mac = "00-0D-3A-" + "-".join(f"{b:02X}" for b in digest[:3])
    return {
        "interface": [{
            "ipv4": {
                "ipAddress": [{"privateIpAddress": f"10.0.0.{4 + digest[3] % 250}", "publicIpAddress": ""}],
                "subnet": [{"address": "10.0.0.0", "prefix": "24"}],
            },
            "ipv6": {"ipAddress": []},
            "macAddress": mac.replace("-", ""),
        }],
    }


def _arm_interfaces(vm: dict, world: Any) -> list[dict]:
    refs = ((vm.get("properties") or {}).get("networkProfile") or {}).get("networkInterfaces") or []
    refs = sorted(refs, key=lambda ref: not (ref.get("properties") or {}).get("primary"))
    interfaces = []
    for ref in refs:
        nic = world.get(ref.get("id") or "")
        if nic is None:
            continue
        addresses = []
        for config in (nic.get("properties") or {}).get("ipConfigurations") or []:
            props = config.get("properties") or {}
            public = world.get((props.get("publicIPAddress") or {}).get("id") or "")
            addresses.append({"privateIpAddress": props.get("privateIPAddress", ""),
                              "publicIpAddress": ((public or {}).get("properties") or {}).get("ipAddress", "")})
        # The emulator's subnets are each resource group's 10.N.0.0/16.
        first = (addresses[0]["privateIpAddress"] if addresses else "").split(".")
        subnet = [{"address": f"{first[0]}.{first[1]}.0.0", "prefix": "16"}] if len(first) == 4 else []
        interfaces.append({"ipv4": {"ipAddress": addresses, "subnet": subnet}, "ipv6": {"ipAddress": []},
                           "macAddress": (nic.get("properties") or {}).get("macAddress", "").replace("-", "")})
    return interfaces


class ExtensionApp:
    """The legacy MSI VM extension (localhost:50342): ``GET /oauth2/token?resource=...``, no api-version
    (azure-docs how-to-use-vm-token.md @53bdff62)."""

    def __init__(self, context: AppContext, vm_id: str):
        self.context = context
        self.vm_id = vm_id
        self.cache = TokenCache()

    async def token(self, request: web.Request) -> web.Response:
        if request.method != "GET":
            return _token_error(405, "method_not_allowed", "Method not allowed; use GET")
        if not metadata_header_ok(request):
            return _json(400, ERR_METADATA_TOKEN)
        query = request.query
        resource = query.get("resource")
        if not resource:
            return _token_error(400, "invalid_request", "Required query variable 'resource' is missing")
        given = [name for name in ("client_id", "object_id") if name in query]
        if len(given) > 1:
            return _token_error(400, "invalid_request", "Only one of client_id or object_id can be specified")
        world = self.context.world
        identity = VmIdentity(world, world.get(self.vm_id))
        if identity.system is None and not identity.user:
            # "unauthorized_client: ... the VM isn't configured properly" (how-to-use-vm-token.md @53bdff62).
            return _token_error(
                400, "unauthorized_client",
                "The client is not authorized to request an access token using this method",
            )
        name = given[0] if given else None
        principal, error = identity.select(name, query.get(name) if name else None)
        if error is not None:
            return _json(400, error)
        if not resource_known(self.context, resource):
            return _token_error(400, "invalid_resource", aadsts500011(resource, world.tenant_id))
        now = world.now()
        entry = self.cache.get(principal.object_id, resource, now)
        if entry is None:
            entry = issue_mi_token(self.context, principal, resource)
            self.cache.put(principal.object_id, resource, entry)
        return _json(200, token_body(entry[0], entry[1], resource, principal, now, legacy=True))

    async def unknown_source(self, request: web.Request) -> web.Response:
        # "401 unknown_source: Unknown Source <URI>" (how-to-use-vm-token.md @53bdff62, error table).
        return _token_error(401, "unknown_source", f"Unknown Source {request.path_qs}")


def make_imds_app(context: AppContext, vm_id: str, limiter: ImdsLimiter) -> web.Application:
    """IMDS for the VM whose ARM resource ID is ``vm_id``; ``limiter`` holds IMDS's per-VM rate limits."""
    handlers = ImdsApp(context, vm_id, limiter)
    app = web.Application()
    app.router.add_route("*", "/metadata/identity/oauth2/token", handlers.token)
    app.router.add_route("*", "/metadata/identity/info", handlers.info)
    app.router.add_route("*", "/metadata/versions", handlers.versions)
    app.router.add_route("*", "/metadata/instance", handlers.instance)
    app.router.add_route("*", "/metadata/instance/{path:.*}", handlers.instance)
    app.router.add_route("*", "/{tail:.*}", handlers.not_found)
    return app


def make_extension_app(context: AppContext, vm_id: str) -> web.Application:
    handlers = ExtensionApp(context, vm_id)
    app = web.Application()
    app.router.add_route("*", "/oauth2/token", handlers.token)
    app.router.add_route("*", "/{tail:.*}", handlers.unknown_source)
    return app
