# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""role_assignment_orphans: assignments at or below the scope whose principal Graph does not know; young ones kept as
not yet replicated, a second look before removing, removal only on request, never in check mode."""

from __future__ import annotations

import datetime

import pytest
from support.fake_arm import ARM, FakeArm, arm_error

from ansible_collections.managed_identity.azure.plugins.module_utils import _arm, _graph
from ansible_collections.managed_identity.azure.plugins.module_utils._auth_source_base import AccessToken
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.managed_identity.azure.plugins.modules import role_assignment_orphans

SUB = "7d5c3b1e-35a4-4f0b-9a7e-2f4f2e6d1a10"
SUB_SCOPE = "/subscriptions/%s" % SUB
RG_SCOPE = SUB_SCOPE + "/resourceGroups/rg"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
DEFINITIONS = SUB_SCOPE + "/providers/Microsoft.Authorization/roleDefinitions/"
ASSIGNMENTS = RG_SCOPE.lower() + "/providers/microsoft.authorization/roleassignments"
ROLES = RG_SCOPE.lower() + "/providers/microsoft.authorization/roledefinitions"
ALIVE = "11111111-1111-4111-8111-111111111111"
GONE = "22222222-2222-4222-8222-222222222222"
FRESH = "33333333-3333-4333-8333-333333333333"
LATE = "44444444-4444-4444-8444-444444444444"
GETBYIDS = ("POST", "/v1.0/directoryobjects/getbyids")


def created(seconds_ago):
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def assignment(name, principal, age, scope=RG_SCOPE):
    return {
        "id": "%s/providers/Microsoft.Authorization/roleAssignments/%s" % (scope, name),
        "name": name,
        "properties": {"scope": scope, "roleDefinitionId": DEFINITIONS + READER, "principalId": principal,
                       "createdOn": created(age)},
    }


@pytest.fixture
def graph(monkeypatch):
    """Graph as a fake of its own; ``answers`` is one set of known IDs per getByIds call (the last one repeats)."""
    fake = FakeArm()
    fake.answers = [{ALIVE}]

    def by_ids(query, body):
        known = fake.answers[0] if len(fake.answers) == 1 else fake.answers.pop(0)
        return 200, {"value": [{"id": i, "@odata.type": "#microsoft.graph.servicePrincipal"}
                               for i in body["ids"] if i in known]}, {}

    fake.routes[GETBYIDS] = by_ids

    class Credential:
        def get_token(self, force_refresh=False):
            return AccessToken("graph.tok.en", 0)

    def client(params, graph_endpoint=None, warn=None):
        cloud = resolve_cloud(None, ARM, "https://login.example.test", None)
        return _arm.ArmClient(cloud, Credential(), session=fake, sleep=lambda s: None, max_wait=0)

    monkeypatch.setattr(_graph, "graph_client", client)
    return fake


def world(fake_arm):
    assignments = [
        assignment("a-alive", ALIVE, 86400),
        assignment("a-gone", GONE, 86400),  # a deleted VM's identity: the orphan
        assignment("a-fresh", FRESH, 60),  # a principal created a minute ago, not yet replicated
        assignment("a-late", LATE, 86400),
        assignment("a-inherited", GONE, 86400, scope=SUB_SCOPE),  # made above the scope: not this scope's to clean
    ]
    fake_arm.lists[ASSIGNMENTS] = assignments
    fake_arm.lists[ROLES] = [{"id": DEFINITIONS + READER, "name": READER, "properties": {"roleName": "Reader"}}]
    for a in assignments:
        fake_arm.resources[a["id"].lower()] = a


def test_reports_orphans_and_keeps_young_ones_without_removing(fake_arm, graph, run_arm_module):
    world(fake_arm)
    graph.answers = [{ALIVE, LATE}]
    result = run_arm_module(role_assignment_orphans, {"subscription_id": SUB, "resource_group": "rg"})
    assert result["changed"] is False
    assert [(o["name"], o["role_name"]) for o in result["orphans"]] == [("a-gone", "Reader")]
    assert [o["name"] for o in result["not_replicated"]] == ["a-fresh"]
    assert result["checked"] == 4
    assert fake_arm.writes() == []
    (asked,) = [body for method, path, _q, body, _h in graph.sent if method == "POST"]
    assert sorted(asked["ids"]) == sorted([ALIVE, GONE, FRESH, LATE])


def test_check_mode_with_remove_plans_and_writes_nothing(fake_arm, graph, run_arm_module):
    world(fake_arm)
    graph.answers = [{ALIVE, LATE}]
    result = run_arm_module(role_assignment_orphans, {"subscription_id": SUB, "resource_group": "rg", "remove": True,
                                                      "_ansible_check_mode": True, "_ansible_diff": True})
    assert result["changed"] is True
    assert result["diff"] == {"before": {"orphans": [assignment("a-gone", GONE, 0)["id"]]}, "after": {"orphans": []}}
    assert fake_arm.writes() == []


def test_remove_looks_twice_and_deletes_only_what_is_still_missing(fake_arm, graph, run_arm_module):
    world(fake_arm)
    graph.answers = [{ALIVE}, {LATE}]  # first look: LATE missing too; second look: it has replicated
    result = run_arm_module(role_assignment_orphans, {"subscription_id": SUB, "resource_group": "rg", "remove": True})
    assert result["changed"] is True
    assert [o["name"] for o in result["found_on_second_look"]] == ["a-late"]
    assert fake_arm.writes() == [("DELETE", assignment("a-gone", GONE, 0)["id"])]


def test_without_graph_access_the_fix_is_named(fake_arm, graph, run_arm_module):
    world(fake_arm)
    graph.routes[GETBYIDS] = arm_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the "
                                       "operation.")
    result = run_arm_module(role_assignment_orphans, {"subscription_id": SUB, "resource_group": "rg", "remove": True})
    assert result["failed"] is True
    assert result["msg"].startswith(
        "Failed to look up the principals of the role assignments at %s in Microsoft Graph (HTTP 403, "
        "Authorization_RequestDenied): Insufficient privileges to complete the operation. Fix: grant the operator "
        "identity the Microsoft Graph application permission Directory.Read.All" % RG_SCOPE
    )
    assert fake_arm.writes() == []


def test_a_negative_grace_period_names_the_option_and_asks_nothing(fake_arm, graph, run_arm_module):
    result = run_arm_module(role_assignment_orphans, {"subscription_id": SUB, "resource_group": "rg",
                                                      "grace_period": -5})
    assert result["failed"] is True and result["msg"].startswith("grace_period: -5.0 is negative.")
    assert fake_arm.sent == [] and graph.sent == []
