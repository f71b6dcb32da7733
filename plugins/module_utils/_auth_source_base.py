# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every ``auth_source`` shares: the token a credential hands the ARM client, reuse of that token within the
run and across runs (``_token_cache``), and ``AuthSource``, the base of the one class per source
(``_auth_source_<name>.py``) that ``_authenticator`` selects.

A source reads its own options, an explicit option first and then the Azure SDKs' environment variable, checks the
ones it needs and builds its credential. Secrets never reach a message: errors carry Azure's text and IDs only.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Protocol, Tuple

from ansible_collections.managed_identity.azure.plugins.module_utils import _token_cache
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import Cloud
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    AuthenticationError,
    ConfigurationError,
)

# The Azure SDKs' environment variables (azure-identity EnvironmentCredential / WorkloadIdentityCredential).
ENV = {
    "tenant_id": "AZURE_TENANT_ID",
    "client_id": "AZURE_CLIENT_ID",
    "client_secret": "AZURE_CLIENT_SECRET",
    "federated_token_file": "AZURE_FEDERATED_TOKEN_FILE",
}


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


def scrub(text: str, *secrets: Optional[str]) -> str:
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


class CachingCredential:
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


@dataclass(frozen=True)
class AuthContext:
    """What the selector hands every source: the auth options, the environment, and the run's shared plumbing."""

    params: Mapping[str, Any]
    environ: Mapping[str, str]
    cloud: Cloud
    session: Any  # the run's _http.Session, shared with the ARM client
    timeout: float
    max_wait: float
    cache: Optional[_token_cache.TokenCache]
    warn: Optional[Callable[[str], None]] = None
    auto: bool = False  # picked by auth_source=auto: a source that is not configured raises CredentialUnavailable


class AuthSource:
    """One ``auth_source``: the options it reads, the ones it needs, and the credential it builds from them."""

    NAME = ""

    def __init__(self, context: AuthContext) -> None:
        self.context = context

    def option(self, name: str) -> Optional[str]:
        """The option, else its Azure SDK environment variable (options win over the environment)."""
        value = self.context.params.get(name)
        if value in (None, "") and name in ENV:
            value = self.context.environ.get(ENV[name]) or None
        return value

    def require(self, **values: Optional[str]) -> None:
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise ConfigurationError(
                "auth_source=%s needs %s; set %s"
                % (self.NAME, ", ".join(missing), ", ".join("%s (or %s)" % (m, ENV.get(m, m)) for m in missing))
            )

    def not_set(self, name: str) -> CredentialUnavailable:
        """Why ``auto`` skips this source: its key option is set neither as an option nor in the environment."""
        return CredentialUnavailable("%s and %s are not set" % (name, ENV[name]))

    def credential(self) -> Credential:
        raise NotImplementedError
