# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Operator credentials for ARM calls from the controller.

``auth_source`` selects one: ``service_principal`` (client secret), ``workload_identity``
(federated token file), ``managed_identity`` (the host's own identity, via ``_host_identity_endpoints``),
``cli`` (``az account get-access-token``), ``token`` (a token given as is), or ``auto``, which
tries them in that order, like the Azure SDKs' DefaultAzureCredential, with the SDKs' own
environment variables. Secrets never reach a message: errors carry Azure's text and IDs only,
and anything Azure echoes is scrubbed of the secret just in case.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import subprocess
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, List, Mapping, Optional, Protocol, Tuple

from ansible_collections.managed_identity.azure.plugins.module_utils import _host_identity_endpoints, _token_cache
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import Cloud
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    AuthenticationError,
    ConfigurationError,
    IdentityError,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._retry import (
    ARM_RETRY_STATUSES,
    RetryPolicy,
    parse_retry_after,
)

try:
    import requests
except ImportError:  # reported by AzureModule through missing_required_lib
    REQUESTS_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    REQUESTS_IMPORT_ERROR = None

AUTH_SOURCES = ("auto", "service_principal", "workload_identity", "managed_identity", "cli", "token")

# The Azure SDKs' environment variables (azure-identity EnvironmentCredential / WorkloadIdentityCredential).
ENV = {
    "tenant_id": "AZURE_TENANT_ID",
    "client_id": "AZURE_CLIENT_ID",
    "client_secret": "AZURE_CLIENT_SECRET",
    "federated_token_file": "AZURE_FEDERATED_TOKEN_FILE",
}
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True)
class AccessToken:
    token: str = field(repr=False)  # secret
    expires_on: int  # epoch seconds; 0 when unknown


class Credential(Protocol):
    name: str  # the auth_source that produced it, for messages
    description: str  # non-secret: who we authenticate as

    def get_token(self, force_refresh: bool = False) -> AccessToken: ...


class CredentialUnavailable(AuthenticationError):
    """This source is not configured or not present here; ``auto`` moves on to the next one."""


def _scrub(text: str, *secrets: Optional[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "********")
    return text


def jwt_expiry(token: str) -> int:
    """``exp`` of a JWT, read without verification; 0 when the token is not a readable JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return 0
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        return int(payload.get("exp", 0))
    except (ValueError, TypeError, AttributeError, binascii.Error):
        return 0


def _loop_detected(response: Any) -> bool:
    """429 AADSTS50196: Entra ID's client request loop detection. Retrying only prolongs the loop, so it is not
    retried (MSAL.NET confidential-client troubleshooting: "Throttling (HTTP 429 and AADSTS50196)")."""
    if response.status_code != 429:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and 50196 in (body.get("error_codes") or [])


class _CachedCredential:
    """Reuses its token within the run and, with a ``_token_cache.TokenCache``, across runs and processes;
    asks again when close to expiry or when told to (a token ARM refused)."""

    name = ""
    description = ""
    renewable = True

    def __init__(self, clock: Callable[[], float] = time.time, cache: Optional[_token_cache.TokenCache] = None) -> None:
        self._clock = clock
        self._cache = cache
        self._token: Optional[_token_cache.CachedToken] = None

    def get_token(self, force_refresh: bool = False) -> AccessToken:
        # A token of unknown expiry is kept for the run (the cache does not share it: it cannot tell when it dies).
        stale = self._token is not None and bool(self._token.expires_on) and not self._token.fresh(self._clock())
        if force_refresh or self._token is None or stale:
            rejected = self._token.token if force_refresh and self._token is not None else None
            if self._cache is not None:
                self._token = self._cache.get(self.cache_key(), self._fetch_pair, rejected=rejected)
            else:
                obtained = self._clock()
                token, expires_on = self._fetch_pair()
                self._token = _token_cache.CachedToken(token, expires_on, obtained)
        return AccessToken(self._token.token, self._token.expires_on)

    def _fetch_pair(self) -> Tuple[str, int]:
        token = self._fetch()
        return token.token, token.expires_on

    def cache_key(self) -> _token_cache.CacheKey:
        raise NotImplementedError

    def _fetch(self) -> AccessToken:
        raise NotImplementedError


class EntraClientCredential(_CachedCredential):
    """Client credentials grant at the Entra ID v2 token endpoint, with a secret or a federated token."""

    def __init__(
        self,
        cloud: Cloud,
        tenant_id: str,
        client_id: str,
        *,
        client_secret: Optional[str] = None,
        federated_token_file: Optional[str] = None,
        session: Any,
        timeout: float = 30,
        max_wait: float = 60,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        cache: Optional[_token_cache.TokenCache] = None,
    ) -> None:
        super().__init__(clock, cache)
        self.name = "workload_identity" if federated_token_file else "service_principal"
        self.cloud = cloud
        self.tenant_id = tenant_id
        self.client_id = client_id
        self._secret = client_secret
        self.federated_token_file = federated_token_file
        self._session = session
        self._timeout = timeout
        self._max_wait = max_wait
        self._sleep = sleep
        self.token_endpoint = "%s/%s/oauth2/v2.0/token" % (cloud.authority_host, tenant_id)
        self.description = "%s client_id %s in tenant %s" % (self.name, client_id, tenant_id)

    @property
    def scope(self) -> str:
        # The audience is kept as is: "https://management.core.windows.net/" + "/.default" gives a double
        # slash, which makes Entra ID issue aud "https://management.core.windows.net/" (azure-cli
        # azure/cli/core/auth/util.py resource_to_scopes; "trailing slash and .default" in the v2 docs).
        return self.cloud.arm_audience + "/.default"

    def cache_key(self) -> _token_cache.CacheKey:
        # A secret and a federated token of the same client get the same tokens from Entra ID: one entry.
        return _token_cache.CacheKey(self.cloud.authority_host, self.tenant_id, self.client_id, self.scope)

    def _assertion(self) -> str:
        path = self.federated_token_file or ""
        try:
            with open(path, encoding="utf-8") as handle:
                assertion = handle.read().strip()
        except OSError as exc:
            raise ConfigurationError(
                "federated_token_file %r cannot be read (%s); set federated_token_file or AZURE_FEDERATED_TOKEN_FILE "
                "to the projected service account token" % (path, exc.strerror or exc.__class__.__name__)
            ) from None
        if not assertion:
            raise ConfigurationError("federated_token_file %r is empty" % path)
        return assertion

    def _fetch(self) -> AccessToken:
        form = {"client_id": self.client_id, "scope": self.scope, "grant_type": "client_credentials"}
        assertion = None
        if self.federated_token_file:
            assertion = self._assertion()
            form["client_assertion_type"] = CLIENT_ASSERTION_TYPE
            form["client_assertion"] = assertion
        else:
            form["client_secret"] = self._secret or ""
        action = "get a token for %s from %s" % (self.description, self.cloud.authority_host)
        policy = RetryPolicy(self._max_wait, ARM_RETRY_STATUSES, sleep=self._sleep)
        while True:
            try:
                response = self._session.post(
                    self.token_endpoint, data=form, timeout=self._timeout, headers={"Accept": "application/json"}
                )
            except requests.RequestException as exc:
                if policy.wait_before_retry(None):
                    continue
                raise AuthenticationError(
                    "no answer from %s (%s)" % (self.token_endpoint, exc.__class__.__name__), step=action
                ) from None
            if (
                response.status_code in ARM_RETRY_STATUSES
                and not _loop_detected(response)
                and policy.wait_before_retry(response.status_code, parse_retry_after(response.headers))
            ):
                continue
            break
        return self._parse(response, action, assertion)

    def _parse(self, response: Any, action: str, assertion: Optional[str]) -> AccessToken:
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code == 200 and isinstance(body, dict) and body.get("access_token"):
            try:
                expires_in = int(float(body.get("expires_in", 0)))
            except (TypeError, ValueError):
                expires_in = 0
            expires_on = int(self._clock()) + expires_in if expires_in else jwt_expiry(body["access_token"])
            return AccessToken(body["access_token"], expires_on)
        if isinstance(body, dict) and body.get("error"):
            # Entra ID errors: {"error", "error_description": "AADSTS...: text\r\nTrace ID: ...", "error_codes",
            # "trace_id", "correlation_id"}; the first line is Azure's message, the IDs go to their own fields.
            description = str(body.get("error_description") or body["error"]).splitlines()[0]
            if _loop_detected(response):
                description += (
                    " (Entra ID saw the same token request too often: keep the token cache on - token_cache, %s - "
                    "so that module runs share one token, and wait a few minutes before trying again)"
                    % _token_cache.ENV_ENABLED
                )
            raise AuthenticationError(
                _scrub(description, self._secret, assertion),
                status=response.status_code,
                code=str(body["error"]),
                request_id=body.get("trace_id"),
                correlation_id=body.get("correlation_id"),
                step=action,
            )
        raise AuthenticationError(
            "unexpected answer from %s (HTTP %s, %s)"
            % (self.token_endpoint, response.status_code, response.headers.get("Content-Type", "no content type")),
            status=response.status_code,
            step=action,
        )


class ManagedIdentityCredential(_CachedCredential):
    """The identity of the host running the module (IMDS and the other sources), through
    ``_host_identity_endpoints``."""

    name = "managed_identity"

    def __init__(
        self,
        cloud: Cloud,
        *,
        client_id: Optional[str] = None,
        object_id: Optional[str] = None,
        msi_res_id: Optional[str] = None,
        environ: Mapping[str, str],
        timeout: float = 10,
        max_wait: float = 80,
        warn: Optional[Callable[[str], None]] = None,
        clock: Callable[[], float] = time.time,
        cache: Optional[_token_cache.TokenCache] = None,
    ) -> None:
        super().__init__(clock, cache)
        self.cloud = cloud
        self.client_id = client_id
        self.object_id = object_id
        self.msi_res_id = msi_res_id
        self._environ = environ
        self._timeout = timeout
        self._max_wait = max_wait
        self._warn = warn
        selector = (
            "client_id %s" % client_id
            if client_id
            else "object_id %s" % object_id
            if object_id
            else "msi_res_id %s" % msi_res_id
            if msi_res_id
            else "system-assigned identity"
        )
        self.description = "managed identity (%s)" % selector
        self._selector = selector

    def cache_key(self) -> _token_cache.CacheKey:
        return _token_cache.CacheKey(
            _host_identity_endpoints.token_endpoint("auto", None, self._environ),
            "",
            self._selector,
            self.cloud.arm_audience,
        )

    def _fetch(self) -> AccessToken:
        token = _host_identity_endpoints.get_token(
            self.cloud.arm_audience,
            client_id=self.client_id,
            object_id=self.object_id,
            msi_res_id=self.msi_res_id,
            timeout=self._timeout,
            max_wait=self._max_wait,
            environ=self._environ,
            warn=self._warn,
        )
        return AccessToken(token.access_token, int(token.expires_on))


class AzureCliCredential(_CachedCredential):
    """``az account get-access-token``: whoever is logged in to Azure CLI on this host."""

    name = "cli"

    def __init__(
        self,
        cloud: Cloud,
        *,
        tenant_id: Optional[str] = None,
        environ: Mapping[str, str],
        timeout: float = 30,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(clock)
        self.cloud = cloud
        self.tenant_id = tenant_id
        self._environ = environ
        self._timeout = timeout
        self.description = "Azure CLI login" + (" in tenant %s" % tenant_id if tenant_id else "")

    def _fetch(self) -> AccessToken:
        az = shutil.which("az", path=self._environ.get("PATH", os.defpath))
        if not az:
            raise CredentialUnavailable("Azure CLI (az) is not on PATH", step="use the Azure CLI login")
        argv = [az, "account", "get-access-token", "--resource", self.cloud.arm_audience, "--output", "json"]
        if self.tenant_id:
            argv += ["--tenant", self.tenant_id]
        action = "get a token from the Azure CLI (%s)" % " ".join(argv[1:])
        try:
            done = subprocess.run(  # noqa: S603 - fixed argv, no shell
                argv, capture_output=True, text=True, timeout=self._timeout, env=dict(self._environ), check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise AuthenticationError("az did not answer (%s)" % exc.__class__.__name__, step=action) from None
        if done.returncode != 0:
            detail = " ".join((done.stderr or "").split()) or "exit status %d" % done.returncode
            raise AuthenticationError(
                "%s (run 'az login' on the controller, or choose another auth_source)" % detail[:500], step=action
            )
        try:
            answer = json.loads(done.stdout)
            token = answer["accessToken"]
        except (ValueError, KeyError, TypeError):
            raise AuthenticationError("az printed no accessToken in JSON", step=action) from None
        return AccessToken(token, self._expiry(answer, token))

    @staticmethod
    def _expiry(answer: Mapping[str, Any], token: str) -> int:
        # Azure CLI >= 2.54 prints expires_on (epoch); older ones only expiresOn in local time.
        if answer.get("expires_on"):
            try:
                return int(answer["expires_on"])
            except (TypeError, ValueError):
                pass
        if answer.get("expiresOn"):
            try:
                return int(datetime.strptime(answer["expiresOn"][:19], "%Y-%m-%d %H:%M:%S").timestamp())
            except ValueError:
                pass
        return jwt_expiry(token)


class StaticTokenCredential:
    """An access token given as is; it cannot be renewed, so ARM's own 401 is what the user sees."""

    name = "token"
    description = "the access_token given"
    renewable = False

    def __init__(self, access_token: str) -> None:
        self._token = AccessToken(access_token, jwt_expiry(access_token))

    def get_token(self, force_refresh: bool = False) -> AccessToken:
        return self._token


class ChainedCredential:
    """``auto``: the first source that is configured and answers; says what it tried when none does."""

    name = "auto"
    renewable = True

    def __init__(self, candidates: List[Tuple[str, Callable[[], Credential]]]) -> None:
        self._candidates = candidates
        self._chosen: Optional[Credential] = None

    @property
    def description(self) -> str:
        return self._chosen.description if self._chosen else "auth_source=auto"

    def get_token(self, force_refresh: bool = False) -> AccessToken:
        if self._chosen is not None:
            return self._chosen.get_token(force_refresh)
        tried = []
        for name, factory in self._candidates:
            try:
                credential = factory()
                token = credential.get_token()
            except CredentialUnavailable as exc:
                tried.append("%s: %s" % (name, exc.message))
                continue
            except IdentityError as exc:
                # No managed identity here (or not this one): the SDK chain moves on as well.
                tried.append("%s: %s" % (name, exc))
                continue
            self._chosen = credential
            return token
        raise AuthenticationError(
            "no credential source worked with auth_source=auto. Tried, in order: %s. Set auth_source and its "
            "options (or the AZURE_* environment variables) explicitly" % "; ".join(tried),
            step="authenticate to Azure",
        )


def _pick(params: Mapping[str, Any], environ: Mapping[str, str], name: str) -> Optional[str]:
    value = params.get(name)
    if value in (None, ""):
        value = environ.get(ENV[name]) or None
    return value


def _require(source: str, values: Mapping[str, Optional[str]]) -> None:
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise ConfigurationError(
            "auth_source=%s needs %s; set %s"
            % (source, ", ".join(missing), ", ".join("%s (or %s)" % (m, ENV.get(m, m)) for m in missing))
        )


def build_credential(
    params: Mapping[str, Any],
    cloud: Cloud,
    *,
    environ: Optional[Mapping[str, str]] = None,
    session: Any,
    warn: Optional[Callable[[str], None]] = None,
) -> Credential:
    """The credential ``params`` (the shared auth options, see ``_options``) ask for.

    Explicit options win over the environment variables. Raises ConfigurationError when the
    chosen source lacks an option; tokens are only requested on the first ``get_token``.
    """
    env = os.environ if environ is None else environ
    source = params.get("auth_source") or "auto"
    if source not in AUTH_SOURCES:
        raise ConfigurationError("auth_source=%r is not one of %s" % (source, ", ".join(AUTH_SOURCES)))
    timeout = float(params.get("timeout") or 30)
    max_wait = float(params.get("max_wait") if params.get("max_wait") is not None else 60)
    tenant_id = _pick(params, env, "tenant_id")
    client_id = _pick(params, env, "client_id")
    secret = _pick(params, env, "client_secret")
    token_file = _pick(params, env, "federated_token_file")
    cache = (
        _token_cache.TokenCache(_token_cache.directory(params.get("token_cache_dir"), env))
        if _token_cache.enabled(params.get("token_cache"), env)
        else None
    )

    def service_principal() -> Credential:
        if source == "auto" and not secret:
            raise CredentialUnavailable("client_secret and AZURE_CLIENT_SECRET are not set")
        _require("service_principal", {"tenant_id": tenant_id, "client_id": client_id, "client_secret": secret})
        return EntraClientCredential(
            cloud,
            str(tenant_id),
            str(client_id),
            client_secret=secret,
            session=session,
            timeout=timeout,
            max_wait=max_wait,
            cache=cache,
        )

    def workload_identity() -> Credential:
        if source == "auto" and not token_file:
            raise CredentialUnavailable("federated_token_file and AZURE_FEDERATED_TOKEN_FILE are not set")
        _require(
            "workload_identity",
            {"tenant_id": tenant_id, "client_id": client_id, "federated_token_file": token_file},
        )
        return EntraClientCredential(
            cloud,
            str(tenant_id),
            str(client_id),
            federated_token_file=token_file,
            session=session,
            timeout=timeout,
            max_wait=max_wait,
            cache=cache,
        )

    def managed_identity() -> Credential:
        object_id = params.get("object_id")
        msi_res_id = params.get("msi_res_id")
        # AZURE_CLIENT_ID selects a user-assigned identity only when nothing else does (as in azure-identity).
        mi_client_id = params.get("client_id") or (None if object_id or msi_res_id else env.get("AZURE_CLIENT_ID"))
        return ManagedIdentityCredential(
            cloud,
            client_id=mi_client_id or None,
            object_id=object_id,
            msi_res_id=msi_res_id,
            environ=env,
            # auto probes: a host without managed identity must not cost the whole retry budget.
            timeout=min(timeout, 5.0) if source == "auto" else timeout,
            max_wait=0 if source == "auto" else max(max_wait, 80.0),
            warn=warn,
            cache=cache,
        )

    def cli() -> Credential:
        return AzureCliCredential(cloud, tenant_id=tenant_id, environ=env, timeout=timeout)

    def token() -> Credential:
        access_token = params.get("access_token")
        if not access_token:
            raise ConfigurationError("auth_source=token needs access_token")
        return StaticTokenCredential(access_token)

    factories = {
        "service_principal": service_principal,
        "workload_identity": workload_identity,
        "managed_identity": managed_identity,
        "cli": cli,
        "token": token,
    }
    if source != "auto":
        return factories[source]()
    if params.get("access_token"):
        return token()
    return ChainedCredential([(name, factories[name]) for name in AUTH_SOURCES[1:5]])
