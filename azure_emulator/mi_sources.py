"""The managed-identity sources other than a VM's IMDS: App Service (2019-08-01 and 2017-09-01), Azure Arc,
Service Fabric, Azure Machine Learning and Cloud Shell, each on its own loopback listener.

Each serves the identity of one *identity host* declared in the seed (top-level ``identity_hosts:``; see
``DEFAULT_IDENTITY_HOSTS`` for the shape). A host's system-assigned identity is a managed-identity principal whose
``xms_mirid`` is the host's resource id; its user-assigned identities are UAMIs of the world, looked up on every
request. Wire facts: azure-reference/REFERENCE.md section 4, and the clients that speak these protocols
(msal ``managed_identity.py``, azure-identity ``_credentials/*.py``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import ssl
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .imds import aadsts500011, issue_mi_token, metadata_header_ok, resource_known
from .seed import SeedError, load_seed

if TYPE_CHECKING:
    from .context import AppContext

# Used when the seed declares no identity_hosts: one host of each kind, in the first subscription and resource
# group, with a system-assigned identity (Cloud Shell: a signed-in user).
DEFAULT_IDENTITY_HOSTS = [
    {"kind": "app_service", "name": "myWebApp", "system_assigned": True},
    {"kind": "arc", "name": "myArcServer", "system_assigned": True},
    {"kind": "service_fabric", "name": "myCluster", "system_assigned": True},
    {"kind": "azure_ml", "name": "myWorkspace", "system_assigned": True},
    {"kind": "cloud_shell", "name": "cloudshell-user", "user_principal_name": "alice@contoso.onmicrosoft.com"},
]

HOST_PROVIDERS = {
    "app_service": "Microsoft.Web/sites",
    "arc": "Microsoft.HybridCompute/machines",
    "service_fabric": "Microsoft.ServiceFabric/managedClusters",
    "azure_ml": "Microsoft.MachineLearningServices/workspaces",
}

UAMI_TYPE = "microsoft.managedidentity/userassignedidentities"
ARC_TOKENS_DIR = Path("/var/opt/azcmagent/tokens")  # the agent's directory; clients accept no other (azure_arc.py)
MI_LIFETIME_USER = 3599  # a signed-in user's access token lives about an hour, unlike an MI token


# -- identity hosts -------------------------------------------------------------------------------------------------

class Host:
    """A declared identity host, resolved against the world on each request (so ARM changes show at once)."""

    def __init__(self, context: AppContext, spec: dict):
        self.context = context
        self.kind = spec["kind"]
        self.name = spec["name"]
        self.spec = spec
        world = context.world
        sub = spec.get("subscription_id") or next(iter(world.subscriptions.values()), {}).get("subscriptionId", "")
        rg = spec.get("resource_group") or _first_resource_group(world, sub)
        provider = HOST_PROVIDERS.get(self.kind)
        self.resource_id = (f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{provider}/{self.name}"
                            if provider else None)

    @property
    def world(self) -> Any:
        return self.context.world

    def _stable_guid(self, purpose: str) -> str:
        # Stable across restarts and POST /reset: derived from the tenant and the host, not random.
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.world.tenant_id}/{self.kind}/{self.name}/{purpose}"))

    def system_principal(self) -> Any | None:
        """The host's system-assigned identity (Cloud Shell: its signed-in user); created when missing."""
        if self.kind == "cloud_shell":
            object_id = self.spec.get("object_id") or self._stable_guid("user")
            found = self.world.principal(object_id)
            if found is None:
                found = self.world.add_principal(
                    object_id=object_id, client_id=self._stable_guid("user-client"),
                    display_name=self.spec.get("display_name", self.name), kind="user", name=self.name,
                    created_at=0.0,
                )
                self.world.commit()
            return found
        if not self.spec.get("system_assigned", False):
            return None
        mirid = _mirid(self.resource_id)
        found = next((p for p in self.world.principals.values()
                      if p.mi_resource_id and p.mi_resource_id.lower() == mirid.lower()), None)
        if found is None:
            found = self.world.add_principal(
                object_id=self._stable_guid("principal"), client_id=self._stable_guid("client"),
                display_name=self.name, kind="managed_identity", mi_resource_id=mirid, created_at=0.0,
            )
            self.world.commit()
        return found

    def user_assigned(self) -> list[tuple[str, Any]]:
        """(UAMI resource id, principal) for each user-assigned identity the seed gives the host and ARM has."""
        found = []
        for ref in self.spec.get("user_assigned") or []:
            uami = self.world.get(ref) if ref.startswith("/") else next(
                (r for r in self.world.resources.values()
                 if r.get("type", "").lower() == UAMI_TYPE and r.get("name", "").lower() == ref.lower()), None)
            principal_id = ((uami or {}).get("properties") or {}).get("principalId")
            principal = self.world.principal(principal_id) if principal_id else None
            if principal is not None:
                found.append((uami["id"], principal))
        return found

    def select(self, by: str | None, value: str | None) -> Any | None:
        """The identity a request names (``by`` in client_id/object_id/resource_id), or the default one."""
        system = self.system_principal()
        users = self.user_assigned()
        if by is None:
            return system
        wanted = (value or "").lower()
        for resource_id, principal in users:
            if ((by == "client_id" and principal.client_id.lower() == wanted)
                    or (by == "object_id" and principal.object_id.lower() == wanted)
                    or (by == "resource_id" and resource_id.lower() == wanted)):
                return principal
        return None


def _first_resource_group(world: Any, sub: str) -> str:
    for resource in world.resources.values():
        if resource.get("type", "").lower() == "microsoft.resources/resourcegroups" and \
                resource["id"].lower().startswith(f"/subscriptions/{sub}".lower()):
            return resource["name"]
    return "DevTest"


def _mirid(resource_id: str) -> str:
    # Real xms_mirid values spell 'resourcegroups' in lower case (REFERENCE.md section 5, observed claims).
    parts = resource_id.split("/")
    return "/".join("resourcegroups" if p.lower() == "resourcegroups" else p for p in parts)


def identity_hosts(context: AppContext, seed: str | Path | dict | None) -> list[Host]:
    """The seed's ``identity_hosts`` (the seed the world was built from), else ``DEFAULT_IDENTITY_HOSTS``."""
    specs = load_seed(seed).get("identity_hosts", DEFAULT_IDENTITY_HOSTS)
    if not isinstance(specs, list):
        raise SeedError("seed: 'identity_hosts' must be a list of mappings with 'kind' and 'name'")
    known = sorted([*HOST_PROVIDERS, "cloud_shell"])
    for i, spec in enumerate(specs):
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or spec.get("kind") not in known:
            raise SeedError(f"seed: identity_hosts[{i}] needs 'name' and 'kind' (one of {', '.join(known)}); "
                            f"got {spec!r}")
    return [Host(context, spec) for spec in specs]


# -- helpers --------------------------------------------------------------------------------------------------------

def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type="application/json", charset="utf-8",
                        headers=headers or {})


def _single(request: web.Request, names: tuple[str, ...]) -> tuple[str | None, str | None, bool]:
    """(name, value, more_than_one) for the identity selector parameters present in the query."""
    given = [n for n in names if n in request.query]
    if not given:
        return None, None, False
    return given[0], request.query[given[0]], len(given) > 1


def _secret_matches(given: str | None, expected: str) -> bool:
    return given is not None and secrets.compare_digest(given.encode(), expected.encode())


def _token(context: AppContext, principal: Any, resource: str) -> tuple[str, dict]:
    return issue_mi_token(context, principal, resource)


# -- App Service / Functions (2019-08-01, and the 2017-09-01 "MSI_ENDPOINT" form) ----------------------------------

class AppService:
    """``GET {IDENTITY_ENDPOINT}?resource=&api-version=2019-08-01`` with ``X-IDENTITY-HEADER``, or
    ``api-version=2017-09-01`` with ``secret`` (azure-docs app-service/overview-managed-identity.md)."""

    def __init__(self, context: AppContext, host: Host, secret: str):
        self.context = context
        self.host = host
        self.secret = secret

    def _error(self, status: int, message: str) -> web.Response:
        # App Service's token service answers {"statusCode", "message", "correlationId"} (msal reads statusCode and
        # message; "Unable to load the proper Managed Identity." is the text users report for an unknown identity).
        return _json(status, {"statusCode": status, "message": message, "correlationId": str(uuid.uuid4())})

    async def handle(self, request: web.Request) -> web.Response:
        if request.method != "GET":
            return self._error(405, "The requested resource does not support http method '%s'." % request.method)
        version = request.query.get("api-version", "")
        if version == "2017-09-01":
            return self._legacy(request)
        if not version:
            return self._error(400, "The api-version parameter is required.")
        if version < "2019-08-01":
            return self._error(400, f"The api-version '{version}' is not supported.")
        if not _secret_matches(request.headers.get("X-IDENTITY-HEADER"), self.secret):
            return self._error(401, "The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER.")
        resource = request.query.get("resource")
        if not resource:
            return self._error(400, "The resource parameter is required.")
        name, value, several = _single(request, ("client_id", "principal_id", "object_id", "mi_res_id"))
        if several:
            return self._error(400, "Only one of client_id, principal_id, object_id or mi_res_id may be given.")
        by = {"client_id": "client_id", "principal_id": "object_id", "object_id": "object_id",
              "mi_res_id": "resource_id"}.get(name or "")
        principal = self.host.select(by, value)
        if principal is None:
            return self._error(400, "Unable to load the proper Managed Identity.")
        if not resource_known(self.context, resource):
            return self._error(500, aadsts500011(resource, self.context.world.tenant_id))
        token, claims = _token(self.context, principal, resource)
        return _json(200, {
            "access_token": token,
            "expires_on": str(int(claims["exp"])),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": principal.client_id,
        })

    def _legacy(self, request: web.Request) -> web.Response:
        if not _secret_matches(request.headers.get("secret"), self.secret):
            return self._error(401, "The secret header is missing or does not match MSI_SECRET.")
        resource = request.query.get("resource")
        if not resource:
            return self._error(400, "The resource parameter is required.")
        # 2017-09-01 only knows 'clientid' for a user-assigned identity (overview-managed-identity.md, note).
        client_id = request.query.get("clientid")
        principal = self.host.select("client_id" if client_id else None, client_id)
        if principal is None:
            return self._error(400, "Unable to load the proper Managed Identity.")
        if not resource_known(self.context, resource):
            return self._error(500, aadsts500011(resource, self.context.world.tenant_id))
        token, claims = _token(self.context, principal, resource)
        expires = dt.datetime.fromtimestamp(int(claims["exp"]), dt.timezone.utc)
        return _json(200, {
            "access_token": token,
            # Linux workers format it as "%m/%d/%Y %H:%M:%S +00:00" (azure-identity azure_ml.py _parse_expires_on).
            "expires_on": expires.strftime("%m/%d/%Y %H:%M:%S +00:00"),
            "resource": resource,
            "token_type": "Bearer",
        })


# -- Azure Arc ------------------------------------------------------------------------------------------------------

class Arc:
    """HIMDS: first GET → 401 ``WWW-Authenticate: Basic realm=<key file>``; the same GET with
    ``Authorization: Basic <file contents>`` → the token
    (azure-docs azure-arc/servers/managed-identity-authentication.md).
    """

    VERSIONS = ("2019-08-15", "2019-11-01", "2020-06-01")

    def __init__(self, context: AppContext, host: Host, key_dir: Path = ARC_TOKENS_DIR):
        self.context = context
        self.host = host
        self.key_dir = key_dir
        self.keys: dict[str, Path] = {}   # key contents -> file

    def _error(self, status: int, code: str, description: str, headers: dict | None = None) -> web.Response:
        return _json(status, {"error": code, "error_description": description}, headers)

    def _challenge(self) -> web.Response:
        key = secrets.token_hex(32)
        path = self.key_dir / f"{uuid.uuid4()}.key"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        self.keys[key] = path
        return self._error(401, "unauthorized_client", "Authorization header is missing or invalid",
                           {"WWW-Authenticate": f"Basic realm={path}"})

    async def handle(self, request: web.Request) -> web.Response:
        if request.method != "GET":
            return self._error(405, "method_not_allowed", "Method not allowed; use GET")
        if not metadata_header_ok(request):
            return self._error(400, "invalid_request", "Required metadata header not specified")
        version = request.query.get("api-version")
        if version not in self.VERSIONS:
            return self._error(400, "invalid_request", f"Invalid api-version '{version or ''}'")
        resource = request.query.get("resource")
        if not resource:
            return self._error(400, "invalid_request", "Required query variable 'resource' is missing")
        if any(n in request.query for n in ("client_id", "object_id", "msi_res_id", "mi_res_id")):
            return self._error(400, "invalid_request",
                               "User assigned identities are not supported on Azure Arc; request the "
                               "system assigned identity without client_id, object_id or msi_res_id")
        auth = request.headers.get("Authorization", "")
        if not auth:
            return self._challenge()
        scheme, _, key = auth.partition(" ")
        path = self.keys.pop(key, None) if scheme.lower() == "basic" else None
        if path is None:
            return self._challenge()
        path.unlink(missing_ok=True)
        principal = self.host.system_principal()
        if principal is None:
            return self._error(400, "invalid_request", "Identity not found")
        if not resource_known(self.context, resource):
            return self._error(400, "invalid_resource", aadsts500011(resource, self.context.world.tenant_id))
        token, claims = _token(self.context, principal, resource)
        now = int(self.context.world.now())
        return _json(200, {
            "access_token": token,
            "expires_in": str(int(claims["exp"]) - now),
            "expires_on": str(int(claims["exp"])),
            "ext_expires_in": str(int(claims["exp"]) - now),
            "not_before": str(int(claims["nbf"])),
            "resource": resource,
            "token_type": "Bearer",
        })

    def cleanup(self) -> None:
        for path in self.keys.values():
            path.unlink(missing_ok=True)
        self.keys.clear()


# -- Service Fabric -------------------------------------------------------------------------------------------------

class ServiceFabric:
    """``GET {IDENTITY_ENDPOINT}?api-version=2019-07-01-preview&resource=`` with ``Secret``, over HTTPS with a
    server certificate pinned by thumbprint
    (azure-docs service-fabric/how-to-managed-identity-service-fabric-app-code.md).
    """

    VERSION = "2019-07-01-preview"

    def __init__(self, context: AppContext, host: Host, secret: str):
        self.context = context
        self.host = host
        self.secret = secret

    def _error(self, status: int, code: str, message: str) -> web.Response:
        return _json(status, {"error": {"correlationId": str(uuid.uuid4()), "code": code, "message": message}})

    async def handle(self, request: web.Request) -> web.Response:
        if request.method != "GET":
            return self._error(405, "MethodNotAllowed", f"The HTTP method '{request.method}' is not supported.")
        given = request.headers.get("Secret")
        if given is None:
            return self._error(401, "SecretHeaderNotFound", "Secret is not found in the request headers.")
        if not _secret_matches(given, self.secret):
            return self._error(401, "InvalidSecret", "The secret in the request headers is not valid.")
        version = request.query.get("api-version", "")
        if version != self.VERSION:
            return self._error(400, "InvalidApiVersion",
                               f"The api-version '{version}' is not supported. Supported version is "
                               f"'{self.VERSION}'.")
        resource = request.query.get("resource")
        if not resource:
            return self._error(400, "ArgumentNullOrEmpty",
                               "The parameter 'resource' should not be null or empty string.")
        # The identity is configured per application in the cluster, not chosen per request (msal _obtain_token).
        principal = self.host.system_principal()
        if principal is None:
            users = self.host.user_assigned()
            principal = users[0][1] if users else None
        if principal is None:
            return self._error(404, "ManagedIdentityNotFound",
                               "Managed identity not found for the specified application host.")
        if not resource_known(self.context, resource):
            return self._error(500, "InternalServerError", "An error occurred.")
        token, claims = _token(self.context, principal, resource)
        return _json(200, {"token_type": "Bearer", "access_token": token, "expires_on": int(claims["exp"]),
                           "resource": resource})


def self_signed_context(common_name: str = "localhost") -> tuple[ssl.SSLContext, str]:
    """A server context with a fresh self-signed certificate for 127.0.0.1/localhost, and its SHA-1 thumbprint."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.TemporaryDirectory() as tmp:
        cert_path, key_path = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        context.load_cert_chain(cert_path, key_path)
    return context, hashlib.sha1(der).hexdigest().upper()  # noqa: S324 - the protocol pins SHA-1


# -- Azure Machine Learning -----------------------------------------------------------------------------------------

class AzureML:
    """``GET {MSI_ENDPOINT}?api-version=2017-09-01&resource=`` with ``secret``; ``clientid`` picks a user-assigned
    identity (msal ``_obtain_token_on_machine_learning``: "known bug in Azure ML 2017 API")."""

    def __init__(self, context: AppContext, host: Host, secret: str):
        self.context = context
        self.host = host
        self.secret = secret

    def _error(self, status: int, message: str) -> web.Response:
        return _json(status, {"error": "invalid_request", "error_description": message})

    async def handle(self, request: web.Request) -> web.Response:
        if request.method != "GET":
            return self._error(405, "Method not allowed; use GET")
        if not _secret_matches(request.headers.get("secret"), self.secret):
            return self._error(401, "Invalid secret token header")
        if request.query.get("api-version") != "2017-09-01":
            return self._error(400, "Invalid api-version; the supported version is 2017-09-01")
        resource = request.query.get("resource")
        if not resource:
            return self._error(400, "Required query variable 'resource' is missing")
        if "client_id" in request.query:
            # Azure ML's 2017 API answers 400 to 'client_id' (azure-sdk-for-net#49174); it wants 'clientid'.
            return self._error(400, "Unsupported query variable 'client_id'; use 'clientid'")
        name, value, several = _single(request, ("clientid", "mi_res_id"))
        if several:
            return self._error(400, "Only one of clientid or mi_res_id can be specified")
        by = {"clientid": "client_id", "mi_res_id": "resource_id"}.get(name or "")
        principal = self.host.select(by, value)
        if principal is None:
            return self._error(400, "Identity not found")
        if not resource_known(self.context, resource):
            return _json(400, {"error": "invalid_resource",
                               "error_description": aadsts500011(resource, self.context.world.tenant_id)})
        token, claims = _token(self.context, principal, resource)
        now = int(self.context.world.now())
        return _json(200, {
            "access_token": token,
            "expires_in": int(claims["exp"]) - now,
            "expires_on": int(claims["exp"]),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": principal.client_id,
        })


# -- Cloud Shell ----------------------------------------------------------------------------------------------------

class CloudShell:
    """``POST {MSI_ENDPOINT}`` form ``resource=`` with ``Metadata: true``; the token is the signed-in user's
    (azure-docs cloud-shell/msi-authorization.md)."""

    AZURE_PORTAL_APP_ID = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"

    def __init__(self, context: AppContext, host: Host):
        self.context = context
        self.host = host

    def _error(self, status: int, code: str, message: str) -> web.Response:
        # msal reads Cloud Shell errors as {"error": {"code", "message"}} (REFERENCE.md section 4).
        return _json(status, {"error": {"code": code, "message": message}})

    async def handle(self, request: web.Request) -> web.Response:
        if request.method != "POST":
            return self._error(405, "MethodNotAllowed", f"The HTTP method '{request.method}' is not supported.")
        if not metadata_header_ok(request):
            return self._error(400, "BadRequest", "Required metadata header not specified")
        form = await request.post()
        resource = form.get("resource")
        if not resource:
            return self._error(400, "BadRequest", "Required form field 'resource' is missing")
        user = self.host.system_principal()
        if not resource_known(self.context, str(resource)):
            return self._error(400, "BadRequest", aadsts500011(str(resource), self.context.world.tenant_id))
        upn = self.host.spec.get("user_principal_name", f"{self.host.name}@contoso.onmicrosoft.com")
        token, claims = self.context.issuer.issue(user, str(resource), version="1.0", lifetime=MI_LIFETIME_USER,
                                                   extra={
            "idtyp": "user", "scp": "user_impersonation", "upn": upn, "unique_name": upn,
            "name": user.display_name, "amr": ["pwd"], "appid": self.AZURE_PORTAL_APP_ID, "appidacr": "0",
        })
        now = int(self.context.world.now())
        return _json(200, {
            "access_token": token,
            "refresh_token": "",
            "expires_in": str(int(claims["exp"]) - now),
            "expires_on": str(int(claims["exp"])),
            "not_before": str(int(claims["nbf"])),
            "resource": str(resource),
            "token_type": "Bearer",
        })


# -- assembly -------------------------------------------------------------------------------------------------------

def _app(path: str, handler: Callable) -> web.Application:
    app = web.Application()
    app.router.add_route("*", path, handler)
    return app


Env = Callable[[str], dict[str, str]]


@dataclass
class IdentitySources:
    """What ``make_apps`` hands the Emulator to serve, report and clean up."""

    listeners: list[tuple[str, web.Application, ssl.SSLContext | bool, Env]] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)  # source name -> why it is not served
    cleanups: list[Callable[[], None]] = field(default_factory=list)  # run at shutdown


def make_apps(context: AppContext, seed: str | Path | dict | None) -> IdentitySources:
    """The first identity host of each kind in ``seed``: one ``(name, app, tls, env)`` per listener (``env(base_url)``
    gives the variables the platform sets), the sources it cannot serve and why, and what to remove at shutdown.
    The Emulator adds the counting/fault middleware and serves them."""
    sources = IdentitySources()
    listeners = sources.listeners
    seen: set[str] = set()
    for host in identity_hosts(context, seed):
        if host.kind in seen:
            continue
        seen.add(host.kind)
        host.system_principal()
        if host.kind == "app_service":
            secret = str(uuid.uuid4())  # IDENTITY_HEADER is a GUID that the platform rotates
            handler = AppService(context, host, secret)
            listeners.append(("app_service", _app("/msi/token", handler.handle), False,
                              lambda base, s=secret: {"IDENTITY_ENDPOINT": f"{base}/msi/token", "IDENTITY_HEADER": s}))
            listeners.append(("app_service_2017", _app("/msi/token", handler.handle), False,
                              lambda base, s=secret: {"MSI_ENDPOINT": f"{base}/msi/token", "MSI_SECRET": s}))
        elif host.kind == "arc":
            if os.geteuid() != 0:
                sources.unavailable["arc"] = (
                    f"the Arc endpoint writes its challenge key files to {ARC_TOKENS_DIR}, which needs root as the "
                    "real agent does; run the emulator as root to serve it")
                continue
            ARC_TOKENS_DIR.mkdir(parents=True, exist_ok=True)
            arc = Arc(context, host)
            sources.cleanups.append(arc.cleanup)
            listeners.append(("arc", _app("/metadata/identity/oauth2/token", arc.handle), False,
                              lambda base: {"IDENTITY_ENDPOINT": f"{base}/metadata/identity/oauth2/token",
                                            "IMDS_ENDPOINT": base}))
        elif host.kind == "service_fabric":
            secret = secrets.token_hex(16)
            tls, thumbprint = self_signed_context()
            handler = ServiceFabric(context, host, secret)
            listeners.append(("service_fabric", _app("/metadata/identity/oauth2/token", handler.handle), tls,
                              lambda base, s=secret, t=thumbprint: {
                                  "IDENTITY_ENDPOINT": f"{base}/metadata/identity/oauth2/token",
                                  "IDENTITY_HEADER": s, "IDENTITY_SERVER_THUMBPRINT": t,
                                  "IDENTITY_API_VERSION": ServiceFabric.VERSION}))
        elif host.kind == "azure_ml":
            secret = secrets.token_hex(16)
            handler = AzureML(context, host, secret)
            listeners.append(("azure_ml", _app("/MSI/token", handler.handle), False,
                              lambda base, s=secret: {"MSI_ENDPOINT": f"{base}/MSI/token", "MSI_SECRET": s}))
        elif host.kind == "cloud_shell":
            handler = CloudShell(context, host)
            listeners.append(("cloud_shell", _app("/oauth2/token", handler.handle), False,
                              lambda base: {"MSI_ENDPOINT": f"{base}/oauth2/token",
                                            "AZUREPS_HOST_ENVIRONMENT": "cloud-shell/1.0", "ACC_CLOUD": "PROD"}))
    return sources
