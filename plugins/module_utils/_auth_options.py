# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared auth option group: its argspec lives next to its doc fragment (doc_fragments/auth.py).

Environment variables are resolved by the auth sources (``_authenticator``) and ``_module`` rather than by argspec
fallbacks, so the code that knows the Azure SDKs' variables is the code that uses them.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Mapping

from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import CLOUDS, DEFAULT_CLOUD

# The choices of auth_source; _authenticator has one class per source.
AUTH_SOURCES = ("auto", "service_principal", "workload_identity", "managed_identity", "cli", "token")
# Controller-side calls to ARM and Entra ID: seconds per answer, and seconds that retries of one request may spend
# waiting (throttling, 5xx, dropped connections). The defaults of the timeout and max_wait options.
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_WAIT = 120.0

AUTH_ARGUMENT_SPEC: Dict[str, Dict[str, Any]] = {
    "auth_source": {"type": "str", "default": "auto", "choices": list(AUTH_SOURCES)},
    "tenant_id": {"type": "str"},
    "client_id": {"type": "str"},
    "client_secret": {"type": "str", "no_log": True},
    "federated_token_file": {"type": "path", "no_log": False},
    "object_id": {"type": "str"},
    "msi_res_id": {"type": "str"},
    "access_token": {"type": "str", "no_log": True},
    "subscription_id": {"type": "str"},
    "cloud": {"type": "str", "default": DEFAULT_CLOUD, "choices": sorted(CLOUDS)},
    "arm_endpoint": {"type": "str"},
    "authority_host": {"type": "str"},
    "audience": {"type": "str"},
    "ca_path": {"type": "path"},
    "timeout": {"type": "float", "default": DEFAULT_TIMEOUT},
    "max_wait": {"type": "float", "default": DEFAULT_MAX_WAIT},
    # No defaults: None means "not set", so ANSIBLE_AZURE_TOKEN_CACHE(_DIR) apply (see _token_cache).
    "token_cache": {"type": "bool", "no_log": False},
    "token_cache_dir": {"type": "path", "no_log": False},
}
AUTH_MUTUALLY_EXCLUSIVE: List[List[str]] = [["client_id", "object_id", "msi_res_id"]]
AUTH_OPTION_NAMES = frozenset(AUTH_ARGUMENT_SPEC)


def auth_argument_spec() -> Dict[str, Dict[str, Any]]:
    return copy.deepcopy(AUTH_ARGUMENT_SPEC)


def merge_argument_spec(module_spec: Mapping[str, Any]) -> Dict[str, Dict[str, Any]]:
    """The module's own options plus the auth group; a module option may not shadow an auth option."""
    clash = sorted(AUTH_OPTION_NAMES.intersection(module_spec))
    if clash:
        raise ValueError("module options %s clash with the shared auth options" % ", ".join(clash))
    merged = auth_argument_spec()
    merged.update(copy.deepcopy(dict(module_spec)))
    return merged


def auth_params(params: Mapping[str, Any]) -> Dict[str, Any]:
    """Only the auth options, e.g. to hand a module's params to ``_authenticator.build_credential``."""
    return {name: params.get(name) for name in AUTH_OPTION_NAMES}
