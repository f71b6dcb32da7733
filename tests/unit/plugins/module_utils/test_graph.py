# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_graph: Graph's endpoint and token audience per cloud, and getByIds in batches of at most 1000 IDs."""

from __future__ import annotations

import pytest

from ansible_collections.managed_identity.azure.plugins.module_utils import _graph
from ansible_collections.managed_identity.azure.plugins.module_utils._arm import ArmResponse
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import ConfigurationError


def test_each_public_cloud_has_its_graph_as_endpoint_and_audience():
    for name, graph in (
        ("AzureCloud", "https://graph.microsoft.com"),
        ("AzureUSGovernment", "https://graph.microsoft.us"),
        ("AzureChinaCloud", "https://microsoftgraph.chinacloudapi.cn"),
    ):
        cloud = _graph.graph_cloud(resolve_cloud(name, None, None, None))
        assert (cloud.arm_endpoint, cloud.arm_audience) == (graph, graph)


def test_a_custom_cloud_needs_graph_endpoint_and_the_message_says_so():
    custom = resolve_cloud(None, "https://127.0.0.1:8443", "https://127.0.0.1:8444", None)
    with pytest.raises(ConfigurationError, match=r"^graph_endpoint: not set.* Give graph_endpoint,"):
        _graph.graph_cloud(custom)
    cloud = _graph.graph_cloud(custom, "https://127.0.0.1:8445/")
    assert cloud.arm_endpoint == "https://127.0.0.1:8445" and cloud.authority_host == custom.authority_host


class Graph:
    """getByIds: answers the known IDs among those asked (in another casing, as Graph may)."""

    def __init__(self, known):
        self.known = {k.lower(): k.upper() for k in known}
        self.asked = []

    def request(self, method, path, body=None, headers=None):
        assert (method, path) == ("POST", "/v1.0/directoryObjects/getByIds")
        self.asked.append(body["ids"])
        found = [{"id": self.known[i], "@odata.type": "#microsoft.graph.servicePrincipal"} for i in body["ids"]
                 if i in self.known]
        return ArmResponse(200, {"value": found}, {})


def test_ids_are_asked_in_batches_of_at_most_1000_once_each():
    ids = ["%08d-0000-4000-8000-000000000000" % n for n in range(2501)]
    graph = Graph(known=ids[::500])
    found = _graph.existing_ids(graph, [i.upper() for i in ids] + ids[:10])  # duplicates in other casing
    assert [len(batch) for batch in graph.asked] == [1000, 1000, 501]
    assert sorted(sum(graph.asked, [])) == sorted(ids)
    assert found == set(ids[::500])


def test_no_ids_asks_nothing():
    graph = Graph(known=[])
    assert _graph.existing_ids(graph, []) == set() and graph.asked == []
