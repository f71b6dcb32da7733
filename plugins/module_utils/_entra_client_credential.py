# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OAuth 2.0 client credentials grant at the Entra ID v2 token endpoint, with a client secret
(``auth_source=service_principal``) or a federated token (``auth_source=workload_identity``).

Anything Entra ID echoes back is scrubbed of the secret and the federated token, just in case.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

from ansible_collections.managed_identity.azure.plugins.module_utils import _http, _token_cache
from ansible_collections.managed_identity.azure.plugins.module_utils._auth_options import (
    DEFAULT_MAX_WAIT,
    DEFAULT_TIMEOUT,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._auth_source_base import (
    AccessToken,
    AuthSource,
    CachingCredential,
    Credential,
    jwt_expiry,
    scrub,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import Cloud
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    AuthenticationError,
    ConfigurationError,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._retry import (
    ARM_RETRY_STATUSES,
    RetryPolicy,
    parse_retry_after,
)

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


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


class EntraClientCredential(CachingCredential):
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
        timeout: float = DEFAULT_TIMEOUT,
        max_wait: float = DEFAULT_MAX_WAIT,
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
                response = self._session.request(
                    "POST",
                    self.token_endpoint,
                    data=form,
                    timeout=self._timeout,
                    headers={"Accept": "application/json"},
                )
            except _http.TLSFailure as exc:
                raise AuthenticationError(
                    "TLS with %s failed: %s. Check the system's CAs, or give ca_path the CA that signed the "
                    "endpoint's certificate" % (self.cloud.authority_host, exc.reason),
                    step=action,
                ) from None
            except _http.TransportError as exc:
                # A token request changes nothing in Entra ID: sending it again is safe.
                if policy.wait_before_retry(None):
                    continue
                raise AuthenticationError(
                    "no answer from %s (%s): %s" % (self.token_endpoint, exc.reason, policy.summary()), step=action
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
                scrub(description, self._secret, assertion),
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


class EntraClientSource(AuthSource):
    """An ``auth_source`` that signs in as an app registration: tenant_id, client_id and one key option, each an
    option or its Azure SDK environment variable. ``auto`` skips the source when its key option is not set."""

    KEY_OPTION = ""  # client_secret or federated_token_file: also the EntraClientCredential argument

    def credential(self) -> Credential:
        tenant_id = self.option("tenant_id")
        client_id = self.option("client_id")
        key = self.option(self.KEY_OPTION)
        if self.context.auto and not key:
            raise self.not_set(self.KEY_OPTION)
        self.require(tenant_id=tenant_id, client_id=client_id, **{self.KEY_OPTION: key})
        return EntraClientCredential(
            self.context.cloud,
            str(tenant_id),
            str(client_id),
            session=self.context.session,
            timeout=self.context.timeout,
            max_wait=self.context.max_wait,
            cache=self.context.cache,
            **{self.KEY_OPTION: key},
        )
