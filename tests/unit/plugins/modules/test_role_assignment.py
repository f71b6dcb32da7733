# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""role_assignment's decisions: create with the deterministic name, 409 means unchanged, updates, absent."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.managed_identity.azure.plugins.module_utils import _roles
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import ArmError
from ansible_collections.managed_identity.azure.plugins.modules import role_assignment

SUB = "7d5c3b1e-35a4-4f0b-9a7e-2f4f2e6d1a10"
SCOPE = "/subscriptions/%s/resourceGroups/rg" % SUB
PRINCIPAL = "0b4b7a6c-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
DEFINITION = {
    "id": "/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s" % (SUB, READER),
    "name": READER,
    "properties": {"roleName": "Reader"},
}
PARAMS = {
    "description": None,
    "update_description": True,
    "condition": None,
    "principal_type": "ServicePrincipal",
    "principal_wait": 0,
}


def existing(name="other", description=None):
    return {
        "id": "%s/providers/Microsoft.Authorization/roleAssignments/%s" % (SCOPE, name),
        "name": name,
        "properties": {
            "scope": SCOPE,
            "roleDefinitionId": DEFINITION["id"],
            "principalId": PRINCIPAL,
            "principalType": "ServicePrincipal",
            "description": description,
        },
    }


class Client:
    def __init__(self, answers, listed=()):
        self.answers = list(answers)
        self.listed = list(listed)
        self.calls = []

    def request(self, method, path, **kwargs):
        self.calls.append((method, path, kwargs.get("body")))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return SimpleNamespace(status_code=answer[0], body=answer[1], headers={})

    def list(self, path, api_version, *, query=None):
        self.calls.append(("LIST", path, query))
        return self.listed


def test_create_uses_the_deterministic_name_and_principal_type():
    name = _roles.assignment_name(SCOPE, READER, PRINCIPAL)
    client = Client([(201, existing(name))])
    changed, after = role_assignment.ensure_present(client, SCOPE, DEFINITION, PRINCIPAL, None, PARAMS, False)
    assert changed and after["name"] == name
    method, path, body = client.calls[0]
    assert (method, path) == ("PUT", "%s/providers/Microsoft.Authorization/roleAssignments/%s" % (SCOPE, name))
    assert body == {
        "properties": {
            "roleDefinitionId": DEFINITION["id"],
            "principalId": PRINCIPAL,
            "principalType": "ServicePrincipal",
        }
    }


def test_auto_principal_type_sends_none():
    client = Client([(201, existing())])
    role_assignment.ensure_present(
        client, SCOPE, DEFINITION, PRINCIPAL, None, dict(PARAMS, principal_type="auto"), False
    )
    assert "principalType" not in client.calls[0][2]["properties"]


def test_same_name_created_concurrently_is_unchanged():
    client = Client([(200, existing())])
    changed, _after = role_assignment.ensure_present(client, SCOPE, DEFINITION, PRINCIPAL, None, PARAMS, False)
    assert not changed


def test_409_exists_returns_the_existing_assignment_unchanged():
    conflict = ArmError("The role assignment already exists.", status=409, code="RoleAssignmentExists")
    theirs = existing("theirs")
    client = Client([conflict], listed=[theirs])
    changed, after = role_assignment.ensure_present(client, SCOPE, DEFINITION, PRINCIPAL, None, PARAMS, False)
    assert (changed, after) == (False, theirs)
    assert client.calls[1] == ("LIST", SCOPE + _roles.ROLE_ASSIGNMENTS, {"$filter": "principalId eq '%s'" % PRINCIPAL})


def test_409_without_a_match_is_an_error():
    conflict = ArmError("exists", status=409, code="RoleAssignmentExists")
    with pytest.raises(ArmError):
        role_assignment.ensure_present(Client([conflict]), SCOPE, DEFINITION, PRINCIPAL, None, PARAMS, False)


def test_existing_is_unchanged_without_writes_and_check_mode_writes_nothing():
    client = Client([])
    assert role_assignment.ensure_present(client, SCOPE, DEFINITION, PRINCIPAL, existing(), PARAMS, False)[0] is False
    changed, after = role_assignment.ensure_present(client, SCOPE, DEFINITION, PRINCIPAL, None, PARAMS, True)
    assert changed and after["properties"]["scope"] == SCOPE
    assert client.calls == []


def test_description_change_updates_in_place_under_the_existing_name():
    client = Client([(200, existing("theirs", "new"))])
    params = dict(PARAMS, description="new")
    changed, _after = role_assignment.ensure_present(
        client, SCOPE, DEFINITION, PRINCIPAL, existing("theirs", "old"), params, False
    )
    assert changed
    method, path, body = client.calls[0]
    assert path.endswith("/roleAssignments/theirs")
    assert body["properties"]["description"] == "new"
    assert body["properties"]["principalId"] == PRINCIPAL


def test_absent_deletes_exactly_the_found_assignment():
    client = Client([(200, {})])
    assert role_assignment.ensure_absent(client, existing("theirs"), False)
    assert client.calls == [("DELETE", existing("theirs")["id"], None)]
    assert role_assignment.ensure_absent(client, None, False) is False
    assert role_assignment.ensure_absent(Client([]), existing(), True) is True


def test_a_description_written_only_on_create_leaves_an_existing_assignment_alone():
    params = dict(PARAMS, description="Granted by the web team.", update_description=False)
    found = existing(description="Made by hand.")
    client = Client([])
    changed, after = role_assignment.ensure_present(client, SCOPE, DEFINITION, PRINCIPAL, found, params, False)
    assert (changed, after, client.calls) == (False, found, [])
    # A new assignment still gets it, in the same PUT that creates it.
    name = _roles.assignment_name(SCOPE, READER, PRINCIPAL)
    client = Client([(201, existing(name, "Granted by the web team."))])
    changed, _after = role_assignment.ensure_present(client, SCOPE, DEFINITION, PRINCIPAL, None, params, False)
    assert changed
    assert client.calls[0][2]["properties"]["description"] == "Granted by the web team."
