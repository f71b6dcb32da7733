"""Microsoft Entra ID over HTTPS: token endpoints (v2 and v1), OIDC discovery, JWKS, instance discovery.

Error bodies follow Entra ID's shape (``errors.aad_error``). Statuses and AADSTS codes: azure-reference section 5.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import uuid
from typing import TYPE_CHECKING
from urllib.parse import unquote_plus, urlparse

from aiohttp import web

from .audiences import known_resource, token_audience
from .errors import aad_error

if TYPE_CHECKING:
    from .context import AppContext
    from .throttle import EntraLoopDetector
    from .world import Principal

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_DNS = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$", re.IGNORECASE)
_NO_CACHE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}


class OAuthError(Exception):
    def __init__(self, status: int, error: str, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.code, self.message = status, error, code, message


def _missing(name: str) -> OAuthError:
    return OAuthError(400, "invalid_request", 900144,
                      f"The request body must contain the following parameter: '{name}'.")


class EntraID:
    def __init__(self, context: AppContext) -> None:
        self.context = context

    @property
    def tenant_id(self) -> str:
        return self.context.world.tenant_id

    @property
    def authority(self) -> str:
        return self.context.authority_host

    # -- tenant ----------------------------------------------------------------------------------------------
    def check_tenant(self, tenant: str, *, token_request: bool) -> None:
        lowered = tenant.lower()
        if lowered == self.tenant_id.lower():
            return
        if lowered in ("common", "organizations", "consumers"):
            if token_request:
                # A client-credentials request must name the tenant (a multi-tenant alias does not).
                raise OAuthError(400, "invalid_request", 50059,
                                 "No tenant-identifying information found in either the request or implied by "
                                 "any provided credentials.")
            return
        if not _GUID.match(tenant) and not _DNS.match(tenant):
            raise OAuthError(400, "invalid_request", 900023,
                             f"Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid "
                             "external domain.")
        raise OAuthError(400, "invalid_request", 90002,
                         f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are "
                         "signing into the correct cloud. Check with your subscription administrator, this may "
                         "happen if there are no active subscriptions for the tenant.")

    # -- client authentication ---------------------------------------------------------------------------------
    def authenticate(self, request: web.Request, form: dict[str, str]) -> tuple[Principal, str]:
        """The client and its ``appidacr`` ("1" secret, "2" assertion)."""
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = request.headers.get("Authorization", "")
        if basic[:6].lower() == "basic ":
            try:
                user, _, password = base64.b64decode(basic[6:].strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise OAuthError(401, "invalid_client", 7000216,
                                 "The Authorization header is not valid HTTP Basic authentication.") from None
            client_id, secret = client_id or unquote_plus(user), unquote_plus(password)  # RFC 6749 2.3.1
        if not client_id:
            raise _missing("client_id")
        principal = self.context.world.principal_by_client_id(client_id) if _GUID.match(client_id) else None
        if principal is None:
            raise OAuthError(400, "unauthorized_client", 700016,
                             f"Application with identifier '{client_id}' was not found in the directory "
                             f"'{self.tenant_id}'. This can happen if the application has not been installed by "
                             "the administrator of the tenant or consented to by any user in the tenant. You may "
                             "have sent your authentication request to the wrong tenant.")
        assertion = form.get("client_assertion")
        if assertion is not None or "client_assertion_type" in form:
            self._check_assertion(principal, form.get("client_assertion_type"), assertion)
            return principal, "2"
        if not secret:
            raise OAuthError(401, "invalid_client", 7000218,
                             "The request body must contain the following parameter: 'client_assertion' or "
                             "'client_secret'.")
        if not any(hmac.compare_digest(secret.encode(), s.encode()) for s in principal.secrets):
            raise OAuthError(401, "invalid_client", 7000215,
                             "Invalid client secret provided. Ensure the secret being sent in the request is the "
                             "client secret value, not the client secret ID, for a secret added to app "
                             f"'{principal.client_id}'.")
        return principal, "1"

    def _check_assertion(self, principal: Principal, assertion_type: str | None, assertion: str | None) -> None:
        if assertion_type != JWT_BEARER:
            raise OAuthError(400, "invalid_request", 900144 if not assertion_type else 50027,
                             "The request body must contain the following parameter: 'client_assertion_type'."
                             if not assertion_type else
                             f"client_assertion_type '{assertion_type}' is not supported; use '{JWT_BEARER}'.")
        if not assertion:
            raise _missing("client_assertion")
        try:
            claims = self.context.issuer.verify(assertion)
        except Exception as exc:  # noqa: BLE001 - TokenError of any kind
            if getattr(exc, "kind", "") == "expired":
                raise OAuthError(401, "invalid_client", 700024,
                                 "Client assertion is not within its valid time range.") from None
            raise OAuthError(401, "invalid_client", 700027,
                             "Client assertion failed signature validation.") from None
        iss, sub, aud = claims.get("iss"), claims.get("sub"), claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        candidates = principal.federated
        if not any(c["issuer"] == iss for c in candidates):
            raise OAuthError(401, "invalid_client", 700211,
                             f"No matching federated identity record found for presented assertion issuer '{iss}'. "
                             "Please check your federated identity credential Subject, Audience and Issuer "
                             "against the presented assertion.")
        if not any(c["issuer"] == iss and any(a in c["audiences"] for a in audiences) for c in candidates):
            raise OAuthError(401, "invalid_client", 700212,
                             "No matching federated identity record found for presented assertion audience "
                             f"'{aud}'. Please check your federated identity credential Subject, Audience and "
                             "Issuer against the presented assertion.")
        if not any(c["issuer"] == iss and c["subject"] == sub and any(a in c["audiences"] for a in audiences)
                   for c in candidates):
            raise OAuthError(401, "invalid_client", 700213,
                             f"No matching federated identity record found for presented assertion subject '{sub}'."
                             " Please check your federated identity credential Subject, Audience and Issuer "
                             "against the presented assertion.")

    # -- resource / scope --------------------------------------------------------------------------------------
    def resource_from_scope(self, scope: str | None) -> str:
        if not scope:
            raise _missing("scope")
        scopes = scope.split()
        resources = set()
        for item in scopes:
            if not item.endswith("/.default"):
                raise OAuthError(400, "invalid_scope", 1002012,
                                 f"The provided value for scope {item} is not valid. Client credential flows must "
                                 "have a scope value with /.default suffixed to the resource identifier "
                                 "(application ID URI).")
            resources.add(item[: -len("/.default")])
        if len(resources) != 1:
            raise OAuthError(400, "invalid_scope", 70011,
                             f"The provided value for the input parameter 'scope' is not valid. The scope {scope} "
                             "is not valid. Scopes must all belong to a single resource.")
        resource = resources.pop()
        self.check_resource(resource)
        return resource

    def check_resource(self, resource: str) -> None:
        if not known_resource(resource, self.context.arm_endpoint, self.context.graph_endpoint):
            raise OAuthError(400, "invalid_resource", 500011,
                             f"The resource principal named {resource} was not found in the tenant named "
                             f"{self.tenant_id}. This can happen if the application has not been installed by the "
                             "administrator of the tenant or consented to by any user in the tenant. You might "
                             "have sent your authentication request to the wrong tenant.")


async def _form(request: web.Request) -> dict[str, str]:
    if request.content_type != "application/x-www-form-urlencoded":
        raise OAuthError(400, "invalid_request", 900144,
                         "The request body must contain the following parameter: 'grant_type'.")
    return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}


def make_entra_app(context: AppContext, loops: EntraLoopDetector) -> web.Application:
    """Entra ID for ``context``'s tenant; ``loops`` answers 429 AADSTS50196 to a client that asks too often."""
    entra = EntraID(context)
    routes = web.RouteTableDef()

    def answer(request: web.Request, body: dict) -> web.Response:
        headers = {**_NO_CACHE, "x-ms-request-id": str(uuid.uuid4())}
        if "client-request-id" in request.headers:
            headers["client-request-id"] = request.headers["client-request-id"]
        return web.json_response(body, headers=headers)

    def failed(request: web.Request, exc: OAuthError) -> web.Response:
        return aad_error(exc.status, exc.error, exc.code, exc.message, request, _NO_CACHE)

    async def issue(request: web.Request, *, v1: bool) -> web.Response:
        try:
            entra.check_tenant(request.match_info["tenant"], token_request=True)
            form = await _form(request)
            grant = form.get("grant_type")
            if not grant:
                raise _missing("grant_type")
            if grant != "client_credentials":
                raise OAuthError(400, "unsupported_grant_type", 70003,
                                 f"The app requested an unsupported grant type '{grant}'.")
            if v1:
                resource = form.get("resource")
                if not resource:
                    raise _missing("resource")
                entra.check_resource(resource)
            else:
                resource = entra.resource_from_scope(form.get("scope"))
            principal, acr = entra.authenticate(request, form)
            if not loops.allow(principal.client_id, resource):
                # Status and code: MSAL.NET confidential-client troubleshooting; the "error" value is unverified.
                raise OAuthError(429, "invalid_request", 50196,
                                 "The server terminated an operation because it encountered a client request loop. "
                                 "Please contact your app vendor.")
        except OAuthError as exc:
            return failed(request, exc)
        # Tokens for ARM are v1 tokens whichever endpoint issued them (ARM accepts v1 only).
        token, claims = context.issuer.issue(principal, token_audience(resource), extra={"appidacr": acr})
        lifetime = claims["exp"] - claims["iat"]
        if v1:
            # The v1 endpoint returns every number as a string.
            return answer(request, {"token_type": "Bearer", "expires_in": str(lifetime),
                                    "ext_expires_in": str(lifetime), "expires_on": str(claims["exp"]),
                                    "not_before": str(claims["nbf"]), "resource": resource, "access_token": token})
        return answer(request, {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                                "access_token": token})

    @routes.post("/{tenant}/oauth2/v2.0/token")
    async def token_v2(request: web.Request) -> web.Response:
        return await issue(request, v1=False)

    @routes.post("/{tenant}/oauth2/token")
    async def token_v1(request: web.Request) -> web.Response:
        return await issue(request, v1=True)

    def discovery_tenant(request: web.Request) -> str:
        tenant = request.match_info["tenant"]
        entra.check_tenant(tenant, token_request=False)
        return tenant

    def discovery_failed(request: web.Request, exc: OAuthError) -> web.Response:
        # OIDC discovery for an unknown tenant answers 400 "invalid_tenant" with the same AADSTS text.
        return aad_error(exc.status, "invalid_tenant", exc.code, exc.message, request)

    @routes.get("/{tenant}/v2.0/.well-known/openid-configuration")
    async def openid_v2(request: web.Request) -> web.Response:
        try:
            tenant = discovery_tenant(request)
        except OAuthError as exc:
            return discovery_failed(request, exc)
        base = f"{entra.authority}{tenant}"
        issuer_tenant = entra.tenant_id if tenant.lower() == entra.tenant_id.lower() else "{tenantid}"
        return web.json_response({
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                      "client_secret_basic"],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"], "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{entra.authority}{issuer_tenant}/v2.0", "request_uri_parameter_supported": False,
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "http_logout_supported": True, "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
                                 "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr",
                                 "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
            "tenant_region_scope": None, "cloud_instance_name": urlparse(entra.authority).netloc,
            "cloud_graph_host_name": "graph.windows.net", "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net"})

    @routes.get("/{tenant}/.well-known/openid-configuration")
    async def openid_v1(request: web.Request) -> web.Response:
        try:
            tenant = discovery_tenant(request)
        except OAuthError as exc:
            return discovery_failed(request, exc)
        base = f"{entra.authority}{tenant}"
        issuer_tenant = entra.tenant_id if tenant.lower() == entra.tenant_id.lower() else "{tenantid}"
        return web.json_response({
            "token_endpoint": f"{base}/oauth2/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                      "client_secret_basic"],
            "jwks_uri": f"{entra.authority}common/discovery/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"], "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
            "scopes_supported": ["openid"], "issuer": f"https://sts.windows.net/{issuer_tenant}/",
            "microsoft_multi_refresh_token": True, "authorization_endpoint": f"{base}/oauth2/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/devicecode", "http_logout_supported": True,
            "frontchannel_logout_supported": True, "end_session_endpoint": f"{base}/oauth2/logout",
            "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
                                 "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr",
                                 "amr", "nonce", "email", "given_name", "family_name", "nickname"],
            "check_session_iframe": f"{base}/oauth2/checksession",
            "userinfo_endpoint": f"{base}/openid/userinfo", "kerberos_endpoint": f"{base}/kerberos",
            "tenant_region_scope": None, "cloud_instance_name": urlparse(entra.authority).netloc,
            "cloud_graph_host_name": "graph.windows.net", "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net"})

    @routes.get("/{tenant}/discovery/v2.0/keys")
    async def keys_v2(request: web.Request) -> web.Response:
        try:
            discovery_tenant(request)
        except OAuthError as exc:
            return discovery_failed(request, exc)
        return web.json_response(context.issuer.jwks(f"{entra.authority}{{tenantid}}/v2.0"))

    @routes.get("/{tenant}/discovery/keys")
    async def keys_v1(request: web.Request) -> web.Response:
        try:
            discovery_tenant(request)
        except OAuthError as exc:
            return discovery_failed(request, exc)
        return web.json_response(context.issuer.jwks())

    @routes.get("/common/discovery/instance")
    async def instance_discovery(request: web.Request) -> web.Response:
        # MSAL asks this before trusting an authority it does not know (msal/authority.py _instance_discovery);
        # it sends the authorization endpoint without the port, so compare host names only.
        endpoint = urlparse(request.query.get("authorization_endpoint", ""))
        own = urlparse(entra.authority)
        if (endpoint.hostname or "").lower() != (own.hostname or "").lower():
            return aad_error(400, "invalid_instance", 50049, "Unknown or invalid instance.", request)
        tenant = endpoint.path.strip("/").split("/")[0] or "common"
        return web.json_response({
            "tenant_discovery_endpoint": f"{entra.authority}{tenant}/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [{"preferred_network": own.netloc, "preferred_cache": own.netloc, "aliases": [own.netloc]}]})

    app = web.Application()
    app.add_routes(routes)
    return app

