# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The identity endpoints of the host this code runs on: managed identity tokens, one interface over every
source, and IMDS instance metadata. (A VM's identity settings in ARM are ``_arm_identities``.)

Sources: IMDS (Azure VM / VMSS), the legacy VM extension endpoint, App Service (2019-08-01 and the
2017-09-01 ``MSI_ENDPOINT``/``MSI_SECRET`` form), Azure Arc, Service Fabric, Azure Machine Learning
and Cloud Shell. ``get_token`` detects the source from the environment like the Azure SDKs, sends
the user-assigned selector under the name that source expects, retries per ``_retry.RetryPolicy``
and raises ``_errors`` exceptions whose messages say what to fix. Tokens, identity headers and Arc
keys never go into messages.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import os
import re
import stat
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from ansible_collections.managed_identity.azure.plugins.module_utils import _http
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    ConfigurationError,
    EndpointUnreachable,
    IdentityError,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._resource_ids import resource_group_id
from ansible_collections.managed_identity.azure.plugins.module_utils._retry import (
    IMDS_RETRY_STATUSES,
    RetryPolicy,
)

SOURCES = ("imds", "vm_extension", "app_service", "arc", "service_fabric", "azure_ml", "cloud_shell")
SELECTORS = ("client_id", "object_id", "msi_res_id")
DEFAULT_RESOURCE = "https://management.azure.com/"

IMDS_BASE = "http://169.254.169.254"
IMDS_OAUTH_PATH = "/metadata/identity/oauth2/token"
IMDS_INSTANCE_PATH = "/metadata/instance"
IMDS_IDENTITY_API_VERSION = "2018-02-01"
# 2021-02-01 is the oldest version with every field instance_info returns (resourceId came in 2019-03-11).
IMDS_INSTANCE_API_VERSION = "2021-02-01"
VM_EXTENSION_BASE = "http://localhost:50342"
VM_EXTENSION_OAUTH_PATH = "/oauth2/token"
CLOUD_SHELL_ENDPOINT = "http://localhost:50342/oauth2/token"
ARC_ENDPOINT = "http://localhost:40342/metadata/identity/oauth2/token"
ARC_API_VERSION = "2020-06-01"
ARC_HIMDS = "/var/opt/azcmagent/bin/himds"
# The only place the Arc agent writes challenge keys; the SDKs refuse any other path (azure-identity azure_arc.py).
ARC_KEY_DIR = "/var/opt/azcmagent/tokens"
ARC_KEY_MAX_BYTES = 4096
SERVICE_FABRIC_API_VERSION = "2019-07-01-preview"
APP_SERVICE_API_VERSION = "2019-08-01"
MSI_2017_API_VERSION = "2017-09-01"
# Identity endpoints are link-local or loopback: a connection takes milliseconds or is not coming.
CONNECT_TIMEOUT_CAP = 5.0
# The defaults of the timeout and max_wait options (doc_fragments/host_identity.py): the endpoint is on the host, so
# 10 s per answer is plenty; 80 s of retries covers IMDS's "up to 70 seconds" after an identity update.
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_WAIT = 80.0

# Outside IMDS (App Service, Service Fabric, ...) 404 means "no such identity" (Service Fabric
# ManagedIdentityNotFound), not "IMDS is updating", so only IMDS-like sources retry 404 and 410.
_NON_VM_RETRY_STATUSES = IMDS_RETRY_STATUSES - {404, 410}
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_UAMI_ID = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.ManagedIdentity/userAssignedIdentities/[^/]+$",
    re.IGNORECASE,
)
_UNKNOWN_RESOURCE = re.compile(r"AADSTS50001|AADSTS500011|invalid_resource", re.IGNORECASE)


@dataclass
class IdentityToken:
    access_token: str = field(repr=False)  # secret: never log, never put in a message
    token_type: str
    expires_on: int  # epoch seconds
    resource: str
    source: str
    endpoint: str  # the URL that was called (not secret)
    client_id: Optional[str] = None


@dataclass
class _Request:
    method: str
    url: str
    params: Dict[str, str]
    headers: Dict[str, str] = field(repr=False)  # may hold IDENTITY_HEADER / MSI_SECRET / the Arc key
    data: Optional[Dict[str, str]] = None
    thumbprint: Optional[str] = None  # Service Fabric: pin the server certificate


def detect_source(environ: Mapping[str, str], *, exists: Callable[[str], bool] = os.path.exists) -> str:
    """The source the Azure SDKs would pick in this environment (MSAL ``get_managed_identity_source`` order)."""
    if environ.get("IDENTITY_ENDPOINT") and environ.get("IDENTITY_HEADER"):
        if environ.get("IDENTITY_SERVER_THUMBPRINT"):
            return "service_fabric"
        return "app_service"
    if environ.get("MSI_ENDPOINT") and environ.get("MSI_SECRET"):
        return "azure_ml"
    if (environ.get("IDENTITY_ENDPOINT") and environ.get("IMDS_ENDPOINT")) or exists(ARC_HIMDS):
        return "arc"
    if environ.get("AZUREPS_HOST_ENVIRONMENT", "").startswith("cloud-shell") or environ.get("MSI_ENDPOINT"):
        return "cloud_shell"
    return "imds"


def decode_claims(token: str) -> Dict[str, Any]:
    """The JWT payload, decoded WITHOUT verifying the signature: informational only, never for trust decisions."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        return {}
    return claims if isinstance(claims, dict) else {}


def get_token(
    resource: str,
    *,
    source: str = "auto",
    client_id: Optional[str] = None,
    object_id: Optional[str] = None,
    msi_res_id: Optional[str] = None,
    endpoint: Optional[str] = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_wait: float = DEFAULT_MAX_WAIT,
    environ: Optional[Mapping[str, str]] = None,
    warn: Optional[Callable[[str], None]] = None,
    policy: Optional[RetryPolicy] = None,
    arc_key_dir: str = ARC_KEY_DIR,
) -> IdentityToken:
    """An access token for ``resource`` from the managed identity of the host this runs on.

    Raises ``ConfigurationError`` for bad input, ``EndpointUnreachable`` when nothing answers at the
    endpoint, ``IdentityError`` when the endpoint refuses. ``policy`` and ``arc_key_dir`` exist for tests.
    """
    environ = os.environ if environ is None else environ
    if not resource or not str(resource).strip():
        raise ConfigurationError(
            "Option resource is empty; give the App ID URI of the target, e.g. %r." % DEFAULT_RESOURCE
        )
    selector = _selector(client_id, object_id, msi_res_id)
    if source == "auto":
        source = detect_source(environ)
    if source not in SOURCES:
        raise ConfigurationError(
            "Option source has the unknown value %r; use auto or one of %s." % (source, ", ".join(SOURCES))
        )
    builder = _BUILDERS[source]
    request = builder(resource, selector, endpoint, environ)
    if source == "vm_extension" and warn is not None:
        warn(
            "The VM extension endpoint (source vm_extension, %s) is deprecated by Microsoft and replaced by IMDS "
            "(http://169.254.169.254); use source: imds." % request.url
        )
    if policy is None:
        statuses = IMDS_RETRY_STATUSES if source in ("imds", "vm_extension", "arc") else _NON_VM_RETRY_STATUSES
        policy = RetryPolicy(max_wait, statuses)
    response = _send(request, policy, timeout, source)
    if source == "arc" and response.status_code == 401:
        request.headers["Authorization"] = "Basic %s" % _read_arc_key(response, request.url, arc_key_dir)
        response = _send(request, policy, timeout, source)
    if response.status_code != 200:
        raise _token_error(response, request, source, resource, selector, policy)
    return _parse_token(response, request, source, resource, selector)


def get_instance_metadata(
    *,
    endpoint: Optional[str] = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_wait: float = DEFAULT_MAX_WAIT,
    environ: Optional[Mapping[str, str]] = None,
    policy: Optional[RetryPolicy] = None,
) -> Dict[str, Any]:
    """The ``compute`` block of IMDS instance metadata, with the same retry policy as tokens."""
    environ = os.environ if environ is None else environ
    url = _imds_url(endpoint, environ, IMDS_INSTANCE_PATH)
    request = _Request("GET", url, {"api-version": IMDS_INSTANCE_API_VERSION}, {"Metadata": "true"})
    policy = policy or RetryPolicy(max_wait, IMDS_RETRY_STATUSES)
    response = _send(request, policy, timeout, "imds", _INSTANCE_ENDPOINT)
    body = _json(response)
    if response.status_code != 200:
        code, description = _error_fields(body, response)
        raise IdentityError(
            "IMDS instance metadata at %s answered %s%s" % (url, description or "an error", _waited(policy, response)),
            status=response.status_code,
            code=code,
        )
    compute = body.get("compute") if isinstance(body, dict) else None
    if not isinstance(compute, dict):
        raise IdentityError("IMDS instance metadata at %s has no compute block." % url, status=200)
    return compute


def describe_instance(compute: Mapping[str, Any]) -> Dict[str, Any]:
    """The facts instance_info returns, in Azure's terms, from an IMDS ``compute`` block."""
    resource_id = compute.get("resourceId") or ""
    if not resource_id and compute.get("subscriptionId") and compute.get("resourceGroupName"):
        resource_id = "%s/providers/Microsoft.Compute/virtualMachines/%s" % (
            resource_group_id(compute["subscriptionId"], compute["resourceGroupName"]),
            compute.get("name"),
        )
    tags = {t.get("name"): t.get("value") for t in compute.get("tagsList") or [] if isinstance(t, dict)}
    return {
        "subscription_id": compute.get("subscriptionId") or "",
        "resource_group": compute.get("resourceGroupName") or "",
        "name": compute.get("name") or "",
        "vm_id": compute.get("vmId") or "",
        "resource_id": resource_id,
        "location": compute.get("location") or "",
        "az_environment": compute.get("azEnvironment") or "",
        "os_type": compute.get("osType") or "",
        "vm_size": compute.get("vmSize") or "",
        "tags": tags,
    }


# --- requests for each source -------------------------------------------------------------------


def _selector(
    client_id: Optional[str], object_id: Optional[str], msi_res_id: Optional[str]
) -> Optional[Tuple[str, str]]:
    given = [(name, value) for name, value in zip(SELECTORS, (client_id, object_id, msi_res_id)) if value]
    if len(given) > 1:
        raise ConfigurationError(
            "Options %s are mutually exclusive: a token is for one identity; set only one of them."
            % " and ".join(pair[0] for pair in given)
        )
    if not given:
        return None
    name, value = given[0]
    if name in ("client_id", "object_id") and not _GUID.match(value):
        raise ConfigurationError(
            "Option %s=%r is not a GUID; give the identity's %s as shown by ARM "
            "(e.g. user_assigned_identity returns it)." % (name, value, name)
        )
    if name == "msi_res_id" and not _UAMI_ID.match(value):
        raise ConfigurationError(
            "Option msi_res_id=%r is not a user-assigned identity resource ID; expected "
            "/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>."
            % value
        )
    return name, value


def _selector_params(source: str, selector: Optional[Tuple[str, str]], names: Mapping[str, str]) -> Dict[str, str]:
    if selector is None:
        return {}
    option, value = selector
    if option not in names:
        supported = ", ".join(sorted(names)) or "none"
        raise ConfigurationError(
            "Source %s cannot select a user-assigned identity by %s (selectors it supports: %s). %s"
            % (source, option, supported, _SELECTOR_FIX[source])
        )
    return {names[option]: value}


_SELECTOR_FIX = {
    "imds": "",
    "vm_extension": "Use source: imds, which accepts every selector.",
    "app_service": "The 2017-09-01 protocol (MSI_ENDPOINT/MSI_SECRET) only takes client_id.",
    "arc": "Azure Arc serves the machine's system-assigned identity only; remove the selector.",
    "service_fabric": "Service Fabric picks the identity from the application manifest; remove the selector.",
    "azure_ml": "Use client_id or msi_res_id.",
    "cloud_shell": "Cloud Shell returns the signed-in user's token; remove the selector.",
}


def _url_with_path(url: str, default_path: str) -> str:
    """A base URL gets the source's standard path; a URL with a path is used as given."""
    parts = urlsplit(url)
    if parts.path in ("", "/"):
        return url.rstrip("/") + default_path
    return url


def _imds_url(endpoint: Optional[str], environ: Mapping[str, str], path: str) -> str:
    # The Azure SDKs redirect IMDS with AZURE_POD_IDENTITY_AUTHORITY_HOST (azure-identity imds.py).
    base = endpoint or environ.get("AZURE_POD_IDENTITY_AUTHORITY_HOST") or IMDS_BASE
    return _url_with_path(base, path)


def _env(environ: Mapping[str, str], name: str, source: str) -> str:
    value = environ.get(name)
    if not value:
        raise ConfigurationError(
            "Source %s needs the environment variable %s, which is not set; the platform sets it for processes "
            "that have a managed identity. Check that the identity is enabled, or choose another source."
            % (source, name)
        )
    return value


def _build_imds(resource, selector, endpoint, environ) -> _Request:
    params = {"api-version": IMDS_IDENTITY_API_VERSION, "resource": resource}
    # IMDS calls the resource-ID selector msi_res_id (entra-docs how-to-use-vm-token; MSAL-py agrees).
    params.update(_selector_params("imds", selector, {s: s for s in SELECTORS}))
    return _Request("GET", _imds_url(endpoint, environ, IMDS_OAUTH_PATH), params, {"Metadata": "true"})


def _build_vm_extension(resource, selector, endpoint, environ) -> _Request:
    params = {"resource": resource}
    params.update(_selector_params("vm_extension", selector, {"client_id": "client_id", "object_id": "object_id"}))
    url = _url_with_path(endpoint or VM_EXTENSION_BASE, VM_EXTENSION_OAUTH_PATH)
    return _Request("GET", url, params, {"Metadata": "true"})


def _build_app_service(resource, selector, endpoint, environ) -> _Request:
    if environ.get("IDENTITY_HEADER") and (endpoint or environ.get("IDENTITY_ENDPOINT")):
        params = {"api-version": APP_SERVICE_API_VERSION, "resource": resource}
        # App Service names them principal_id/object_id and mi_res_id (overview-managed-identity.md).
        params.update(
            _selector_params(
                "app_service", selector, {"client_id": "client_id", "object_id": "object_id", "msi_res_id": "mi_res_id"}
            )
        )
        url = endpoint or environ["IDENTITY_ENDPOINT"]
        return _Request("GET", url, params, {"X-IDENTITY-HEADER": environ["IDENTITY_HEADER"], "Metadata": "true"})
    if environ.get("MSI_SECRET") and (endpoint or environ.get("MSI_ENDPOINT")):
        params = {"api-version": MSI_2017_API_VERSION, "resource": resource}
        params.update(_selector_params("app_service", selector, {"client_id": "clientid"}))
        return _Request("GET", endpoint or environ["MSI_ENDPOINT"], params, {"secret": environ["MSI_SECRET"]})
    raise ConfigurationError(
        "Source app_service needs IDENTITY_ENDPOINT and IDENTITY_HEADER (or the older MSI_ENDPOINT and MSI_SECRET) "
        "in the environment; none are set. Enable the app's managed identity, or choose another source."
    )


def _build_arc(resource, selector, endpoint, environ) -> _Request:
    _selector_params("arc", selector, {})
    url = endpoint or environ.get("IDENTITY_ENDPOINT") or ARC_ENDPOINT
    return _Request("GET", url, {"api-version": ARC_API_VERSION, "resource": resource}, {"Metadata": "true"})


def _build_service_fabric(resource, selector, endpoint, environ) -> _Request:
    _selector_params("service_fabric", selector, {})
    url = endpoint or _env(environ, "IDENTITY_ENDPOINT", "service_fabric")
    secret = _env(environ, "IDENTITY_HEADER", "service_fabric")
    raw = _env(environ, "IDENTITY_SERVER_THUMBPRINT", "service_fabric")
    thumbprint = re.sub(r"[\s:]", "", raw).lower()
    if not re.match(r"^[0-9a-f]{40}$", thumbprint):
        raise ConfigurationError(
            "IDENTITY_SERVER_THUMBPRINT=%r is not a SHA-1 certificate thumbprint (40 hex digits)." % raw
        )
    if urlsplit(url).scheme != "https":
        raise ConfigurationError(
            "The Service Fabric identity endpoint %s must be https:// (its certificate is pinned)." % url
        )
    version = environ.get("IDENTITY_API_VERSION") or SERVICE_FABRIC_API_VERSION
    params = {"api-version": version, "resource": resource}
    return _Request("GET", url, params, {"Secret": secret}, thumbprint=thumbprint)


def _build_azure_ml(resource, selector, endpoint, environ) -> _Request:
    url = endpoint or _env(environ, "MSI_ENDPOINT", "azure_ml")
    secret = _env(environ, "MSI_SECRET", "azure_ml")
    params = {"api-version": MSI_2017_API_VERSION, "resource": resource}
    # Azure ML's 2017 API wants clientid, not client_id (MSAL: "Workaround for a known bug in Azure ML 2017 API").
    params.update(_selector_params("azure_ml", selector, {"client_id": "clientid", "msi_res_id": "mi_res_id"}))
    return _Request("GET", url, params, {"secret": secret})


def _build_cloud_shell(resource, selector, endpoint, environ) -> _Request:
    _selector_params("cloud_shell", selector, {})
    url = endpoint or environ.get("MSI_ENDPOINT") or CLOUD_SHELL_ENDPOINT
    # Cloud Shell takes a form POST, not a GET (cloud-shell/msi-authorization.md).
    return _Request("POST", url, {}, {"Metadata": "true"}, data={"resource": resource})


_BUILDERS = {
    "imds": _build_imds,
    "vm_extension": _build_vm_extension,
    "app_service": _build_app_service,
    "arc": _build_arc,
    "service_fabric": _build_service_fabric,
    "azure_ml": _build_azure_ml,
    "cloud_shell": _build_cloud_shell,
}


def token_endpoint(source: str, endpoint: Optional[str], environ: Mapping[str, str]) -> str:
    """The source and URL (no query) a token request would go to: which endpoint, hence which host's identities,
    answers. Names the authority of a token cache entry; an unknown source is left for get_token to report."""
    if source == "auto":
        source = detect_source(environ)
    if source not in _BUILDERS:
        return source
    return "%s %s" % (source, _BUILDERS[source](DEFAULT_RESOURCE, None, endpoint, environ).url)


# --- transport ------------------------------------------------------------------------------------


_TOKEN_ENDPOINT = (
    "reach the managed identity endpoint",
    "This host may not be an Azure VM (or other Azure compute with a managed identity), or it may have no managed "
    "identity enabled; if the identity lives elsewhere, set source or endpoint.",
)
_INSTANCE_ENDPOINT = (
    "reach the Instance Metadata Service",
    "This host may not be an Azure VM; set endpoint if its IMDS is elsewhere.",
)


def _send(
    request: _Request,
    policy: RetryPolicy,
    timeout: float,
    source: str,
    purpose: Tuple[str, str] = _TOKEN_ENDPOINT,
) -> _http.Response:
    try:
        return _http.send(
            request.method,
            request.url,
            policy,
            final=_entra_verdict,
            params=request.params,
            headers=request.headers,
            data=request.data,
            timeout=(min(float(timeout), CONNECT_TIMEOUT_CAP), float(timeout)),
            pin_sha1=request.thumbprint,
        )
    except ValueError as exc:
        raise ConfigurationError("Cannot call the identity endpoint %s: %s." % (request.url, exc)) from None
    except _http.PinMismatch as exc:
        raise IdentityError(
            "The server certificate of %s does not match IDENTITY_SERVER_THUMBPRINT (%s); refusing to send "
            "the identity header. (%s)" % (request.url, request.thumbprint, exc.reason)
        ) from None
    except _http.TLSFailure as exc:
        raise IdentityError("TLS failed with %s: %s" % (request.url, exc.reason)) from None
    except _http.Unreachable as exc:
        raise EndpointUnreachable(
            "Could not connect to %s (source %s): %s. %s" % (request.url, source, exc.reason, purpose[1]),
            action=purpose[0],
        ) from None
    except _http.TimedOut as exc:
        raise IdentityError(
            "%s did not answer within timeout %s s per attempt (%s): %s."
            % (request.url, timeout, exc.reason, policy.summary())
        ) from None
    except _http.Interrupted as exc:
        raise IdentityError(
            "The connection to %s kept failing (%s): %s." % (request.url, exc.reason, policy.summary())
        ) from None


def _entra_verdict(response: _http.Response) -> bool:
    """A 5xx that carries Entra ID's AADSTS error is final, not transient: App Service reports an unknown
    resource that way (MSAL-py: "wrong resource ends up with a vague statusCode=500")."""
    return response.status_code >= 500 and "AADSTS" in response.text


# --- responses ------------------------------------------------------------------------------------


def _read_arc_key(response: _http.Response, url: str, key_dir: str) -> str:
    """The key the Arc agent wrote for this challenge, read only from a file that satisfies every SDK rule.

    The challenge (``WWW-Authenticate: Basic realm=<path>``) names a file; a hostile or confused
    server could name any file on the host and get its contents back in the Authorization header.
    """
    header = response.headers.get("WWW-Authenticate", "")
    scheme, realm = header.partition(" ")[::2]
    key, path = realm.partition("=")[::2]
    path = path.strip().strip('"')
    if scheme.lower() != "basic" or key.strip().lower() != "realm" or not path:
        raise IdentityError(
            "The Azure Arc endpoint %s answered 401 without a Basic realm challenge naming a key file." % url,
            status=401,
        )

    def refuse(why: str) -> IdentityError:
        return IdentityError("Refusing the Azure Arc challenge from %s: the key file %r %s." % (url, path, why))

    # Exact parent comparison, before any normalisation: "tokens/../x.key" and "tokens/sub/x.key" fail it.
    if os.path.dirname(path) != key_dir:
        raise refuse("is not directly in %s, the only place the Arc agent writes keys" % key_dir)
    name = os.path.basename(path)
    if not name.endswith(".key") or name == ".key":
        raise refuse("is not a .key file")
    try:
        dir_fd = os.open(key_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as exc:
        raise refuse("cannot be read: the directory is not usable (%s)" % exc.strerror) from None
    try:
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
        except OSError as exc:
            raise refuse(
                "cannot be opened (%s; a symbolic link is never followed; the agent's keys need root)" % exc.strerror
            ) from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise refuse("is not a regular file")
            if info.st_size > ARC_KEY_MAX_BYTES:
                raise refuse("is larger than %d bytes" % ARC_KEY_MAX_BYTES)
            content = os.read(fd, ARC_KEY_MAX_BYTES + 1)
        finally:
            os.close(fd)
    finally:
        os.close(dir_fd)
    if len(content) > ARC_KEY_MAX_BYTES:
        raise refuse("is larger than %d bytes" % ARC_KEY_MAX_BYTES)
    try:
        return content.decode("ascii").strip()
    except UnicodeDecodeError:
        raise refuse("does not hold a text key") from None


def _json(response: _http.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_fields(body: Any, response: _http.Response) -> Tuple[Optional[str], str]:
    """(code, description) from the error shapes the sources use: OAuth, ``{error:{code,message}}``, App Service."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return error.get("code"), str(error.get("message") or "")
        if isinstance(error, str):
            return error, str(body.get("error_description") or "")
        if body.get("message") or body.get("Message"):
            code = body.get("statusCode") or body.get("code")
            return (str(code) if code else None), str(body.get("message") or body.get("Message"))
    text = response.text.strip()
    return None, text[:300]


def _waited(policy: RetryPolicy, response: _http.Response) -> str:
    if response.status_code in policy.retry_statuses:
        return " (still, after retrying for %.0f s of max_wait %.0f s; raise max_wait if the endpoint is updating)" % (
            policy.waited,
            policy.max_wait,
        )
    return ""


def _token_error(
    response: _http.Response, request: _Request, source: str, resource: str, selector, policy
) -> IdentityError:
    status = response.status_code
    code, description = _error_fields(_json(response), response)
    lowered = description.lower()
    where = "%s (source %s)" % (request.url, source)
    if "multiple user assigned identities" in lowered:
        message = (
            "%s: this host has several user-assigned identities and no system-assigned one, so the endpoint cannot "
            "choose; set one of the options client_id, object_id or msi_res_id to pick one. Azure said: %s"
            % (where, description)
        )
    elif (
        "identity not found" in lowered
        or "unable to load the proper managed identity" in lowered  # App Service's wording
        or code == "ManagedIdentityNotFound"  # Service Fabric's
    ):
        if selector:
            message = (
                "%s: the user-assigned identity with %s=%s is not attached to this host. Attach it (for example with "
                "managed_identity.azure.vm_identity) or select an identity that is. Azure said: %s"
                % (where, selector[0], selector[1], description)
            )
        else:
            message = (
                "%s: this host has no system-assigned managed identity. Enable it (for example with "
                "managed_identity.azure.vm_identity), or select an attached user-assigned identity with client_id, "
                "object_id or msi_res_id. Azure said: %s" % (where, description)
            )
    elif _UNKNOWN_RESOURCE.search("%s %s" % (code or "", description)):
        hint = ""
        if resource.rstrip("/") == DEFAULT_RESOURCE.rstrip("/") and resource != DEFAULT_RESOURCE:
            hint = " Azure Resource Manager's resource is %r, with the trailing slash." % DEFAULT_RESOURCE
        message = (
            "%s: the tenant does not know the resource %r.%s Check the App ID URI; a trailing slash matters "
            "(ARM's is %r). Azure said: %s" % (where, resource, hint, DEFAULT_RESOURCE, description)
        )
    else:
        message = "%s refused the token request: %s%s" % (
            where,
            description or "no error description",
            _waited(policy, response),
        )
    return IdentityError(message, status=status, code=code, action="get a managed identity token")


def _parse_token(response: _http.Response, request: _Request, source: str, resource: str, selector) -> IdentityToken:
    body = _json(response)
    if not isinstance(body, dict) or not body.get("access_token"):
        raise IdentityError("%s answered 200 without an access token." % request.url, status=200)
    expires_on = _expires_on(body.get("expires_on"), body.get("expires_in"))
    if expires_on is None:
        raise IdentityError("%s answered with a token but no usable expires_on/expires_in." % request.url, status=200)
    if selector:
        echoed = body.get(selector[0])
        if echoed and str(echoed).lower() != selector[1].lower():
            raise IdentityError(
                "%s returned a token for %s=%s although %s=%s was requested; refusing to use it."
                % (request.url, selector[0], echoed, selector[0], selector[1])
            )
    return IdentityToken(
        access_token=str(body["access_token"]),
        token_type=str(body.get("token_type") or "Bearer"),
        expires_on=expires_on,
        resource=str(body.get("resource") or resource),
        source=source,
        endpoint=request.url,
        client_id=body.get("client_id") or None,
    )


def _expires_on(value: Any, expires_in: Any) -> Optional[int]:
    """Epoch seconds from an int, a numeric string (IMDS: every value is a string) or App Service 2017's date."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            return int(float(text))
        except ValueError:
            pass
        # App Service 2017-09-01 returns e.g. "06/20/2019 02:57:58 +00:00" (azure-identity app_service.py).
        try:
            return int(datetime.datetime.strptime(text, "%m/%d/%Y %H:%M:%S %z").timestamp())
        except ValueError:
            pass
    try:
        return int(time.time()) + int(float(expires_in))
    except (TypeError, ValueError):
        return None
