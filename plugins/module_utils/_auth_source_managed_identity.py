# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``auth_source=managed_identity``: the identity of the host running the module (usually the controller), through
its own identity endpoint (``_host_identity_endpoints``: IMDS, App Service, Arc, ...). client_id, object_id or
msi_res_id select a user-assigned identity; AZURE_CLIENT_ID does when none of them is set, as in azure-identity."""

from __future__ import annotations

import time
from typing import Callable, Mapping, Optional

from ansible_collections.managed_identity.azure.plugins.module_utils import (
    _host_identity_endpoints,
    _token_cache,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._auth_source_base import (
    ENV,
    AccessToken,
    AuthSource,
    CachingCredential,
    Credential,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import Cloud

# auth_source=auto only probes: a host without a managed identity must not cost the whole retry budget.
AUTO_PROBE_TIMEOUT = 5.0


class ManagedIdentityCredential(CachingCredential):
    """The identity of the host running the module (IMDS and the other sources)."""

    name = "managed_identity"

    def __init__(
        self,
        cloud: Cloud,
        *,
        client_id: Optional[str] = None,
        object_id: Optional[str] = None,
        msi_res_id: Optional[str] = None,
        environ: Mapping[str, str],
        timeout: float = _host_identity_endpoints.DEFAULT_TIMEOUT,
        max_wait: float = _host_identity_endpoints.DEFAULT_MAX_WAIT,
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


class ManagedIdentitySource(AuthSource):
    NAME = "managed_identity"

    def credential(self) -> Credential:
        params = self.context.params
        object_id = params.get("object_id")
        msi_res_id = params.get("msi_res_id")
        client_id = params.get("client_id") or (
            None if object_id or msi_res_id else self.context.environ.get(ENV["client_id"])
        )
        auto = self.context.auto
        return ManagedIdentityCredential(
            self.context.cloud,
            client_id=client_id or None,
            object_id=object_id,
            msi_res_id=msi_res_id,
            environ=self.context.environ,
            timeout=min(self.context.timeout, AUTO_PROBE_TIMEOUT) if auto else self.context.timeout,
            # Never less than the identity endpoints' own budget: IMDS can take that long after an identity update.
            max_wait=0 if auto else max(self.context.max_wait, _host_identity_endpoints.DEFAULT_MAX_WAIT),
            warn=self.context.warn,
            cache=self.context.cache,
        )
