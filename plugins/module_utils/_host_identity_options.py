# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host identity option group: its argspec (documented in ``doc_fragments/host_identity.py``) and one options
adapter, so the ``token_info`` module and the ``token`` lookup read options and get tokens through the
same code.
"""

from __future__ import annotations

import datetime
import os
import time
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from ansible_collections.managed_identity.azure.plugins.module_utils import _token_cache
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import ConfigurationError
from ansible_collections.managed_identity.azure.plugins.module_utils._host_identity_endpoints import (
    DEFAULT_MAX_WAIT,
    DEFAULT_RESOURCE,
    DEFAULT_TIMEOUT,
    SELECTORS,
    SOURCES,
    IdentityToken,
    decode_claims,
    get_token,
    token_endpoint,
)

# Documented by the doc fragment's CONNECTION section.
CONNECTION_ARGSPEC: Dict[str, Dict[str, Any]] = {
    "endpoint": {"type": "str"},
    "timeout": {"type": "float", "default": DEFAULT_TIMEOUT},
    "max_wait": {"type": "float", "default": DEFAULT_MAX_WAIT},
}
# Documented by the doc fragment's DOCUMENTATION section (with CONNECTION).
IDENTITY_ARGSPEC: Dict[str, Dict[str, Any]] = dict(
    CONNECTION_ARGSPEC,
    source={"type": "str", "default": "auto", "choices": ["auto", *SOURCES]},
    client_id={"type": "str"},
    object_id={"type": "str"},
    msi_res_id={"type": "str"},
)
MUTUALLY_EXCLUSIVE = [list(SELECTORS)]


class OptionAdapter:
    """Read options the same way from an ``AnsibleModule`` (``params``) and from a plugin (``get_option``)."""

    def __init__(self, getter: Callable[[str], Any]) -> None:
        self._getter = getter

    @classmethod
    def from_module(cls, module: Any) -> OptionAdapter:
        return cls(module.params.get)

    @classmethod
    def from_plugin(cls, plugin: Any) -> OptionAdapter:
        return cls(plugin.get_option)

    @classmethod
    def from_dict(cls, options: Mapping[str, Any]) -> OptionAdapter:
        return cls(options.get)

    def get(self, name: str) -> Any:
        return self._getter(name)


def connection_kwargs(options: OptionAdapter) -> Dict[str, Any]:
    """``endpoint``/``timeout``/``max_wait``, checked: lookups get no argspec validation, so check here for both."""
    timeout = _number(options, "timeout", CONNECTION_ARGSPEC["timeout"]["default"])
    max_wait = _number(options, "max_wait", CONNECTION_ARGSPEC["max_wait"]["default"])
    if timeout <= 0:
        raise ConfigurationError("Option timeout=%r must be more than 0 seconds." % timeout)
    if max_wait < 0:
        raise ConfigurationError("Option max_wait=%r must be 0 (no retries) or more seconds." % max_wait)
    return {"endpoint": options.get("endpoint") or None, "timeout": timeout, "max_wait": max_wait}


def fetch_token(
    options: OptionAdapter,
    resource: Optional[str] = None,
    *,
    warn: Optional[Callable[[str], None]] = None,
    environ: Optional[Mapping[str, str]] = None,
) -> IdentityToken:
    """A token for ``resource`` (default: the ``resource`` option) with the identity the options select."""
    return get_token(
        resource or options.get("resource") or DEFAULT_RESOURCE,
        source=options.get("source") or "auto",
        client_id=options.get("client_id") or None,
        object_id=options.get("object_id") or None,
        msi_res_id=options.get("msi_res_id") or None,
        warn=warn,
        environ=environ,
        **connection_kwargs(options),
    )


def fetch_access_token_cached(
    options: OptionAdapter,
    resource: Optional[str],
    cache: _token_cache.TokenCache,
    *,
    warn: Optional[Callable[[str], None]] = None,
    environ: Optional[Mapping[str, str]] = None,
) -> str:
    """Like ``fetch_token(...).access_token``, through the controller's token cache: for the ``token`` lookup, which
    runs on the controller once per template evaluation (often once per host)."""
    env = os.environ if environ is None else environ
    selected = [(name, options.get(name)) for name in SELECTORS if options.get(name)]
    key = _token_cache.CacheKey(
        token_endpoint(options.get("source") or "auto", options.get("endpoint") or None, env),
        "",
        " ".join("%s %s" % pair for pair in selected) or "system-assigned identity",
        resource or options.get("resource") or DEFAULT_RESOURCE,
    )

    def fetch() -> Tuple[str, int]:
        token = fetch_token(options, resource, warn=warn, environ=env)
        return token.access_token, int(token.expires_on)

    return cache.get(key, fetch).token


def describe_token(token: IdentityToken, now: Optional[float] = None) -> Dict[str, Any]:
    """What token_info returns about a token, without the token itself (the secret)."""
    now = time.time() if now is None else now
    return {
        "token_type": token.token_type,
        "expires_on": token.expires_on,
        "expires_on_iso": datetime.datetime.fromtimestamp(token.expires_on, datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
        "expires_in": max(0, int(token.expires_on - now)),
        "resource": token.resource,
        "source": token.source,
        "endpoint": token.endpoint,
        "client_id": token.client_id,
        "claims": decode_claims(token.access_token),
    }


def _number(options: OptionAdapter, name: str, default: float) -> float:
    value = options.get(name)
    if value is None:
        return float(default)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigurationError("Option %s=%r is not a number of seconds." % (name, value)) from None
