# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for finding orphaned role assignments: Graph look-ups in batches, the grace period, the second look."""

from __future__ import annotations

import calendar
import time
import uuid

import pytest

from ansible_collections.managed_identity.azure.plugins.module_utils import _graph, _orphans
from ansible_collections.managed_identity.azure.plugins.module_utils._arm import ArmResponse
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import ConfigurationError

SUB = "/subscriptions/8d10da13-8125-4ba9-a717-bf7490507b3d"
RG = SUB + "/resourceGroups/rg-web"
NOW = float(calendar.timegm(time.strptime("2026-01-01T12:00:00", "%Y-%m-%dT%H:%M:%S")))


def assignment(principal, scope=RG, created="2025-12-01T00:00:00.0000000Z"):
    return {
        "id": "%s/providers/Microsoft.Authorization/roleAssignments/%s" % (scope, uuid.uuid4()),
        "properties": {"principalId": principal, "scope": scope, "createdOn": created},
    }


class Graph:
    """Stands in for the Graph client: answers getByIds from a directory, records each batch."""

    def __init__(self, directory):
        self.directory, self.batches = {d.lower() for d in directory}, []

    def request(self, method, path, body=None, headers=None):
        assert (method, path) == ("POST", "/v1.0/directoryObjects/getByIds")
        self.batches.append(body["ids"])
        return ArmResponse(200, {"value": [{"id": i.upper()} for i in body["ids"] if i in self.directory]})


def test_look_ups_go_in_batches_of_graph_limit():
    ids = [str(uuid.uuid4()) for _n in range(2500)]
    graph = Graph(ids[::2])
    found = _graph.existing_ids(graph, ids + [ids[0].upper()])
    assert found == {i.lower() for i in ids[::2]}
    assert [len(b) for b in graph.batches] == [1000, 1000, 500]


def test_young_assignments_are_not_replicated_old_ones_orphaned_existing_ones_kept():
    alive, gone, fresh = (str(uuid.uuid4()) for _n in range(3))
    assignments = [assignment(alive), assignment(gone), assignment(fresh, created="2026-01-01T11:59:00Z")]
    sweep = _orphans.classify(assignments, {alive}, NOW, grace_period=3600)
    assert [a["properties"]["principalId"] for a in sweep.orphans] == [gone]
    assert [a["properties"]["principalId"] for a in sweep.not_replicated] == [fresh]
    everything_old = _orphans.classify(assignments, {alive}, NOW, grace_period=0)
    assert len(everything_old.orphans) == 2


def test_second_look_keeps_a_principal_that_appeared_since():
    late, gone = str(uuid.uuid4()), str(uuid.uuid4())
    sweep = _orphans.classify([assignment(late), assignment(gone)], set(), NOW, 3600)
    _orphans.second_look(sweep, lambda ids: {late})
    assert [a["properties"]["principalId"] for a in sweep.orphans] == [gone]
    assert [a["properties"]["principalId"] for a in sweep.found_on_second_look] == [late]


def test_only_assignments_at_or_below_the_scope_are_swept():
    above, here, below = assignment("a", SUB), assignment("b", RG), assignment("c", RG + "/providers/X.Y/z/n")
    assert [a["properties"]["principalId"] for a in _orphans.in_scope([above, here, below], RG)] == ["b", "c"]


def test_graph_endpoint_per_cloud_and_required_for_a_custom_one():
    assert (
        _graph.graph_cloud(resolve_cloud("AzureChinaCloud")).arm_endpoint == "https://microsoftgraph.chinacloudapi.cn"
    )
    custom = resolve_cloud(None, arm_endpoint="https://127.0.0.1:8443")
    with pytest.raises(ConfigurationError, match="graph_endpoint: not set"):
        _graph.graph_cloud(custom)
    graph = _graph.graph_cloud(custom, "https://127.0.0.1:9443/")
    assert (graph.arm_endpoint, graph.arm_audience) == ("https://127.0.0.1:9443", "https://127.0.0.1:9443")
