# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""user_assigned_identity: create in the group's region, tags, no move, absent, check mode and diff."""

from __future__ import annotations

from support.fake_arm import arm_error

from ansible_collections.managed_identity.azure.plugins.modules import user_assigned_identity

SUB = "7d5c3b1e-35a4-4f0b-9a7e-2f4f2e6d1a10"
GROUP = "/subscriptions/%s/resourceGroups/rg" % SUB
PATH = GROUP + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app"
ARGS = {"subscription_id": SUB, "resource_group": "rg", "name": "app"}


def identity(location="eastus", tags=None):
    return {
        "id": PATH,
        "name": "app",
        "location": location,
        "tags": tags or {},
        "properties": {"clientId": "c-1", "principalId": "p-1", "tenantId": "t-1"},
    }


def test_created_in_the_resource_groups_region(fake_arm, run_arm_module):
    fake_arm.resources[GROUP.lower()] = {"id": GROUP, "location": "westeurope"}
    fake_arm.routes[("PUT", PATH.lower())] = lambda query, body: (
        201,
        dict(identity(body["location"]), tags=body["tags"]),
        {},
    )
    result = run_arm_module(user_assigned_identity, dict(ARGS, tags={"env": "dev"}))
    assert result["changed"] is True
    assert (result["client_id"], result["principal_id"], result["location"]) == ("c-1", "p-1", "westeurope")
    puts = [(p, b) for m, p, _q, b, _h in fake_arm.sent if m == "PUT"]
    assert puts == [(PATH, {"location": "westeurope", "tags": {"env": "dev"}})]
    assert result["diff"]["before"] == {} and result["diff"]["after"]["id"] == PATH


def test_check_mode_predicts_the_identity_and_writes_nothing(fake_arm, run_arm_module):
    fake_arm.resources[GROUP.lower()] = {"id": GROUP, "location": "westeurope"}
    result = run_arm_module(user_assigned_identity, dict(ARGS, _ansible_check_mode=True))
    assert result["changed"] is True and result["id"] == PATH and result["location"] == "westeurope"
    assert fake_arm.writes() == []


def test_same_identity_is_unchanged_and_region_spelling_does_not_matter(fake_arm, run_arm_module):
    fake_arm.resources[PATH.lower()] = identity("eastus", {"env": "dev"})
    result = run_arm_module(user_assigned_identity, dict(ARGS, location="East US", tags={"env": "dev"}))
    assert result["changed"] is False and result["client_id"] == "c-1"
    assert fake_arm.writes() == []


def test_new_tags_are_written_in_place(fake_arm, run_arm_module):
    fake_arm.resources[PATH.lower()] = identity("eastus", {"env": "dev"})
    result = run_arm_module(user_assigned_identity, dict(ARGS, tags={"env": "prod"}))
    assert result["changed"] is True and result["tags"] == {"env": "prod"}
    assert fake_arm.resources[PATH.lower()]["tags"] == {"env": "prod"}
    assert fake_arm.resources[PATH.lower()]["location"] == "eastus"


def test_an_identity_cannot_move_and_the_message_says_what_to_do(fake_arm, run_arm_module):
    fake_arm.resources[PATH.lower()] = identity("eastus")
    result = run_arm_module(user_assigned_identity, dict(ARGS, location="westus"))
    assert result["failed"] is True
    assert result["msg"].startswith(
        "location: identity %s is in 'eastus', not 'westus'; an identity cannot move." % PATH
    )
    assert fake_arm.writes() == []


def test_absent_deletes_once_and_check_mode_does_not(fake_arm, run_arm_module):
    fake_arm.resources[PATH.lower()] = identity()
    checked = run_arm_module(user_assigned_identity, dict(ARGS, state="absent", _ansible_check_mode=True))
    assert checked["changed"] is True and fake_arm.writes() == []
    result = run_arm_module(user_assigned_identity, dict(ARGS, state="absent"))
    assert result["changed"] is True and result["diff"]["before"]["client_id"] == "c-1"
    assert PATH.lower() not in fake_arm.resources
    again = run_arm_module(user_assigned_identity, dict(ARGS, state="absent"))
    assert again["changed"] is False
    assert fake_arm.writes() == [("DELETE", PATH)]


def test_a_missing_resource_group_names_the_option(fake_arm, run_arm_module):
    fake_arm.routes[("GET", GROUP.lower())] = arm_error(
        404, "ResourceGroupNotFound", "Resource group 'rg' could not be found."
    )
    result = run_arm_module(user_assigned_identity, ARGS)
    assert result["msg"].startswith("resource_group: 'rg' was not found in subscription %s (" % SUB)
    assert "HTTP 404, ResourceGroupNotFound" in result["msg"] and "request id req-404" in result["msg"]
    assert fake_arm.writes() == []
