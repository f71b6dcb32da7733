# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Endpoints and token audiences per Azure cloud, or a custom cloud (Azure Stack, the emulator)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple
from urllib.parse import urlsplit

from ansible_collections.managed_identity.azure.plugins.module_utils._errors import ConfigurationError


@dataclass(frozen=True)
class Cloud:
    """Where ARM and Entra ID live, and the audience ARM tokens are requested for."""

    name: str
    arm_endpoint: str  # no trailing slash: paths start with "/"
    authority_host: str  # no trailing slash: "{authority_host}/{tenant}/oauth2/v2.0/token"
    arm_audience: str  # exactly as Azure CLI's active_directory_resource_id (trailing slash kept)


# Azure CLI azure/cli/core/cloud.py (endpoints, active_directory_resource_id) and MSAL-py authority hosts.
CLOUDS = {
    "AzureCloud": Cloud(
        "AzureCloud",
        "https://management.azure.com",
        "https://login.microsoftonline.com",
        "https://management.core.windows.net/",
    ),
    "AzureChinaCloud": Cloud(
        "AzureChinaCloud",
        "https://management.chinacloudapi.cn",
        "https://login.chinacloudapi.cn",
        "https://management.core.chinacloudapi.cn/",
    ),
    "AzureUSGovernment": Cloud(
        "AzureUSGovernment",
        "https://management.usgovcloudapi.net",
        "https://login.microsoftonline.us",
        "https://management.core.usgovcloudapi.net/",
    ),
}
DEFAULT_CLOUD = "AzureCloud"


def origin(url: str) -> Tuple[str, str, int]:
    """(scheme, host, port) of a URL, lower-cased with the default port filled in, for same-host checks."""
    parts = urlsplit(url)
    scheme = (parts.scheme or "").lower()
    port = parts.port or (443 if scheme == "https" else 80 if scheme == "http" else 0)
    return scheme, (parts.hostname or "").lower(), port


def origin_text(url: str) -> str:
    scheme, host, port = origin(url)
    return "%s://%s:%s" % (scheme, host, port)


def _endpoint(option: str, value: str) -> str:
    """An https base URL without path or trailing slash, or a ConfigurationError naming the option."""
    parts = urlsplit(value.strip())
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise ConfigurationError(
            "%s=%r is not an https URL; give the base URL, for example https://management.azure.com "
            "(TLS is always verified; use ca_path to trust a private CA)" % (option, value)
        )
    if parts.query or parts.fragment or parts.path.strip("/"):
        raise ConfigurationError(
            "%s=%r must be a base URL without path or query, for example https://%s" % (option, value, parts.netloc)
        )
    return "https://%s" % parts.netloc.lower()


def resolve_cloud(
    name: Optional[str],
    arm_endpoint: Optional[str] = None,
    authority_host: Optional[str] = None,
    audience: Optional[str] = None,
) -> Cloud:
    """The named cloud (default AzureCloud), with any endpoint or the audience overridden.

    A custom cloud (Azure Stack, the emulator) gives ``arm_endpoint`` and ``authority_host``; each
    one left out is the named cloud's. Tokens are requested for ``audience``, else for the named
    cloud's ARM audience.
    """
    cloud_name = name or DEFAULT_CLOUD
    if cloud_name not in CLOUDS:
        raise ConfigurationError(
            "cloud=%r is not a known Azure cloud; use one of %s, or give arm_endpoint and authority_host "
            "for a custom cloud" % (cloud_name, ", ".join(sorted(CLOUDS)))
        )
    base = CLOUDS[cloud_name]
    if not (arm_endpoint or authority_host or audience):
        return base
    if audience is not None and not urlsplit(audience).scheme:
        raise ConfigurationError(
            "audience=%r is not a URI; ARM audiences look like https://management.core.windows.net/" % audience
        )
    return Cloud(
        name=cloud_name if not (arm_endpoint or authority_host) else "custom",
        arm_endpoint=_endpoint("arm_endpoint", arm_endpoint) if arm_endpoint else base.arm_endpoint,
        authority_host=_endpoint("authority_host", authority_host) if authority_host else base.authority_host,
        arm_audience=audience or base.arm_audience,
    )
