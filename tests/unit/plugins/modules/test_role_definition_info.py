# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""role_definition_info: by name (any casing), by GUID or ID, the default scope, and options that cannot work."""

from __future__ import annotations

from support.fake_arm import arm_error

from ansible_collections.managed_identity.azure.plugins.modules import role_definition_info

SUB = "7d5c3b1e-35a4-4f0b-9a7e-2f4f2e6d1a10"
SUB_SCOPE = "/subscriptions/%s" % SUB
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
DEFINITIONS = SUB_SCOPE + "/providers/Microsoft.Authorization/roleDefinitions"


def definition(guid, name, actions):
    return {
        "id": "%s/%s" % (DEFINITIONS, guid),
        "name": guid,
        "properties": {
            "roleName": name,
            "type": "BuiltInRole",
            "assignableScopes": ["/"],
            "permissions": [{"actions": actions, "notActions": []}],
        },
    }


def world(fake_arm):
    everything = [definition(READER, "Reader", ["*/read"]), definition(OWNER, "Owner", ["*"])]

    def listing(query, body):
        # Like ARM, the roleName filter compares exactly: "reader" finds nothing.
        wanted = query.get("$filter", [""])[0].partition("roleName eq '")[2].rstrip("'")
        return 200, {"value": [d for d in everything if not wanted or d["properties"]["roleName"] == wanted]}, {}

    fake_arm.routes[("GET", DEFINITIONS.lower())] = listing
    for item in everything:
        fake_arm.resources[item["id"].lower()] = item


def test_a_name_in_other_casing_is_found_with_its_permissions(fake_arm, run_arm_module):
    world(fake_arm)
    result = run_arm_module(role_definition_info, {"subscription_id": SUB, "name": "reader"})
    assert result["changed"] is False
    (found,) = result["role_definitions"]
    assert (found["name"], found["role_name"], found["role_type"]) == (READER, "Reader", "BuiltInRole")
    assert found["permissions"] == [
        {"actions": ["*/read"], "not_actions": [], "data_actions": [], "not_data_actions": []}
    ]
    # The filtered read came first; the unfiltered one only because it found nothing.
    filters = [q.get("$filter") for m, p, q, _b, _h in fake_arm.sent]
    assert filters == [["roleName eq 'reader'"], None]


def test_by_guid_reads_one_and_an_unknown_guid_finds_none(fake_arm, run_arm_module):
    world(fake_arm)
    result = run_arm_module(role_definition_info, {"subscription_id": SUB, "id": OWNER})
    assert [d["role_name"] for d in result["role_definitions"]] == ["Owner"]
    assert fake_arm.sent[-1][1] == "%s/%s" % (DEFINITIONS, OWNER)
    missing = run_arm_module(role_definition_info, {"subscription_id": SUB, "id": READER.replace("a", "b")})
    assert missing["role_definitions"] == []


def test_a_role_name_passed_as_id_is_refused_with_the_fix(fake_arm, run_arm_module):
    result = run_arm_module(role_definition_info, {"subscription_id": SUB, "id": "Reader"})
    assert result["failed"] is True
    assert result["msg"] == (
        "id: 'Reader' is neither a role definition GUID nor a role definition ID; pass role names in name."
    )
    assert fake_arm.sent == []


def test_without_a_subscription_the_scope_is_the_root(fake_arm, run_arm_module):
    fake_arm.lists["/providers/microsoft.authorization/roledefinitions"] = [definition(READER, "Reader", [])]
    result = run_arm_module(role_definition_info, {})
    assert [d["role_name"] for d in result["role_definitions"]] == ["Reader"]
    assert fake_arm.sent[0][1] == "/providers/Microsoft.Authorization/roleDefinitions"
    refused = run_arm_module(role_definition_info, {"resource_group": "rg"})
    assert refused["msg"] == "resource_group: needs subscription_id (or AZURE_SUBSCRIPTION_ID)."


def test_failure_names_the_scope_and_the_call(fake_arm, run_arm_module):
    fake_arm.routes[("GET", DEFINITIONS.lower())] = arm_error(429, "SubscriptionRequestsThrottled", "Slow down.")
    result = run_arm_module(role_definition_info, {"subscription_id": SUB})
    assert result["msg"] == (
        "Failed to list role definitions at %s (HTTP 429, SubscriptionRequestsThrottled): Slow down. Gave up after "
        "1 attempt in 0 s (max_wait 0 s). "
        "[list %s, request id req-429]" % (SUB_SCOPE, DEFINITIONS)
    )
