# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Microsoft Graph from the controller, with the operator's own credential: which directory objects exist.

The credential is the one the auth options select; only the audience differs (Graph's instead of ARM's), so the same
service principal, workload identity, managed identity or Azure CLI login asks Entra ID for a Graph token. Calls go
through the ARM client's transport (retries, 429 with Retry-After, error bodies: Graph uses the same
``{"error": {"code", "message"}}`` envelope), pointed at the Graph endpoint, and the token goes nowhere else.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Iterable, List, Mapping, Optional, Set

from ansible_collections.managed_identity.azure.plugins.module_utils import _arm
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import Cloud, _endpoint
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import ConfigurationError
from ansible_collections.managed_identity.azure.plugins.module_utils._module import (
    client_from_params,
    cloud_from_params,
)

# Microsoft Graph national cloud deployments (graph/deployments.md); US Government L5 (DoD) is
# https://dod-graph.microsoft.us, given as graph_endpoint.
GRAPH_ENDPOINTS = {
    "AzureCloud": "https://graph.microsoft.com",
    "AzureChinaCloud": "https://microsoftgraph.chinacloudapi.cn",
    "AzureUSGovernment": "https://graph.microsoft.us",
}
# directoryObject: getByIds takes "a collection of up to 1000 IDs" (graph directoryobject-getbyids.md).
MAX_IDS = 1000


def graph_cloud(cloud: Cloud, graph_endpoint: Optional[str] = None) -> Cloud:
    """``cloud`` with Graph as its endpoint and token audience (``graph_endpoint`` for a custom cloud)."""
    if graph_endpoint:
        endpoint = _endpoint("graph_endpoint", graph_endpoint)
    elif cloud.name in GRAPH_ENDPOINTS:
        endpoint = GRAPH_ENDPOINTS[cloud.name]
    else:
        raise ConfigurationError(
            "graph_endpoint: not set, and a custom cloud (arm_endpoint or authority_host given) has no known Microsoft "
            "Graph endpoint. Give graph_endpoint, the base URL of its Graph, for example https://graph.microsoft.com."
        )
    return dataclasses.replace(cloud, arm_endpoint=endpoint, arm_audience=endpoint)


def graph_client(params: Mapping[str, Any], graph_endpoint: Optional[str] = None, warn: Any = None) -> _arm.ArmClient:
    """A client for Graph with the credential the shared auth options select."""
    cloud = graph_cloud(cloud_from_params(params, os.environ), graph_endpoint)
    return client_from_params(params, warn=warn, cloud=cloud)


def existing_ids(client: Any, object_ids: Iterable[str], batch_size: int = MAX_IDS) -> Set[str]:
    """The lower-cased IDs, of those asked, that name an object in the directory (of any type: users, groups,
    service principals, devices), in batches of ``batch_size``; an ID of no object is simply absent from Graph's
    answer."""
    wanted: List[str] = sorted({i.lower() for i in object_ids})
    found: Set[str] = set()
    for start in range(0, len(wanted), batch_size):
        response = client.request(
            "POST",
            "/v1.0/directoryObjects/getByIds",
            body={"ids": wanted[start : start + batch_size]},
            headers={"Content-Type": "application/json"},
        )
        found.update(str(o.get("id") or "").lower() for o in (response.body or {}).get("value") or [])
    return found
