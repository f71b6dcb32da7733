# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``auth_source`` selector: operator credentials for ARM calls from the controller.

Each source is one class in its own file (``_auth_source_<name>.py``) that owns its options, environment
variables and checks. ``auto`` uses ``access_token`` when it is given, and otherwise tries service_principal,
workload_identity, managed_identity and cli in that order, like the Azure SDKs' DefaultAzureCredential.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Type

from ansible_collections.managed_identity.azure.plugins.module_utils import _token_cache
from ansible_collections.managed_identity.azure.plugins.module_utils._auth_options import (
    AUTH_SOURCES,
    DEFAULT_MAX_WAIT,
    DEFAULT_TIMEOUT,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._auth_source_base import (
    AccessToken,
    AuthContext,
    AuthSource,
    Credential,
    CredentialUnavailable,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._auth_source_cli import CliSource
from ansible_collections.managed_identity.azure.plugins.module_utils._auth_source_managed_identity import (
    ManagedIdentitySource,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._auth_source_service_principal import (
    ServicePrincipalSource,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._auth_source_token import TokenSource
from ansible_collections.managed_identity.azure.plugins.module_utils._auth_source_workload_identity import (
    WorkloadIdentitySource,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import Cloud
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    AuthenticationError,
    ConfigurationError,
    IdentityError,
)

SOURCES: Dict[str, Type[AuthSource]] = {
    source.NAME: source
    for source in (ServicePrincipalSource, WorkloadIdentitySource, ManagedIdentitySource, CliSource, TokenSource)
}
# azure-identity DefaultAzureCredential's order: environment, workload identity, managed identity, Azure CLI.
AUTO_CHAIN = ("service_principal", "workload_identity", "managed_identity", "cli")


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


def build_credential(
    params: Mapping[str, Any],
    cloud: Cloud,
    *,
    environ: Optional[Mapping[str, str]] = None,
    session: Any,
    warn: Optional[Callable[[str], None]] = None,
) -> Credential:
    """The credential ``params`` (the shared auth options, see ``_auth_options``) ask for.

    Explicit options win over the environment variables. Raises ConfigurationError when the
    chosen source lacks an option; tokens are only requested on the first ``get_token``.
    """
    env = os.environ if environ is None else environ
    source = params.get("auth_source") or "auto"
    if source not in AUTH_SOURCES:
        raise ConfigurationError("auth_source=%r is not one of %s" % (source, ", ".join(AUTH_SOURCES)))
    context = AuthContext(
        params=params,
        environ=env,
        cloud=cloud,
        session=session,
        timeout=float(params.get("timeout") or DEFAULT_TIMEOUT),
        max_wait=float(params["max_wait"] if params.get("max_wait") is not None else DEFAULT_MAX_WAIT),
        cache=(
            _token_cache.TokenCache(_token_cache.directory(params.get("token_cache_dir"), env))
            if _token_cache.enabled(params.get("token_cache"), env)
            else None
        ),
        warn=warn,
        auto=source == "auto",
    )
    if source != "auto":
        return SOURCES[source](context).credential()
    if params.get("access_token"):
        return TokenSource(context).credential()
    return ChainedCredential([(name, SOURCES[name](context).credential) for name in AUTO_CHAIN])
