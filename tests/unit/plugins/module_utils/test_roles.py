# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the RBAC helpers: scopes, deterministic names, role resolution, PrincipalNotFound retry."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from ansible_collections.managed_identity.azure.plugins.module_utils import _roles
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    ArmError,
    ConfigurationError,
    NotFoundError,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._retry import RetryPolicy

SUB = "7d5c3b1e-35a4-4f0b-9a7e-2f4f2e6d1a10"
PRINCIPAL = "0b4b7a6c-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


def definition(name, guid, scope="/subscriptions/%s" % SUB):
    return {
        "id": "%s/providers/Microsoft.Authorization/roleDefinitions/%s" % (scope, guid),
        "name": guid,
        "properties": {"roleName": name, "type": "BuiltInRole", "permissions": [{"actions": ["*/read"]}]},
    }


def assignment(scope, role_guid, principal, name="a1"):
    return {
        "id": "%s/providers/Microsoft.Authorization/roleAssignments/%s" % (scope, name),
        "name": name,
        "properties": {
            "scope": scope,
            "roleDefinitionId": "/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s"
            % (SUB, role_guid),
            "principalId": principal,
            "principalType": "ServicePrincipal",
        },
    }


class FakeClient:
    """Records calls; answers from tables keyed by path."""

    def __init__(self, gets=None, lists=None, puts=None):
        self.gets = gets or {}
        self.lists = lists or {}
        self.puts = list(puts or [])
        self.calls = []

    def get(self, path, api_version, *, query=None):
        self.calls.append(("GET", path, query))
        if path not in self.gets:
            raise NotFoundError("not found", status=404, code="RoleDefinitionDoesNotExist")
        return self.gets[path]

    def list(self, path, api_version, *, query=None):
        self.calls.append(("LIST", path, query))
        return self.lists.get((path, (query or {}).get("$filter")), [])

    def request(
        self, method, path, *, api_version=None, body=None, query=None, headers=None, expected_status=None, wait=False
    ):
        self.calls.append((method, path, body))
        answer = self.puts.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return SimpleNamespace(status_code=answer[0], body=answer[1], headers={})


@pytest.mark.parametrize(
    "scope, expected",
    [
        ("/", "/"),
        ("/subscriptions/%s/" % SUB, "/subscriptions/%s" % SUB),
        ("/subscriptions/%s/resourcegroups/RG-1" % SUB, "/subscriptions/%s/resourcegroups/RG-1" % SUB),
        (
            "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1" % SUB,
            "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1" % SUB,
        ),
        (
            "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Sql/servers/s1/databases/d1" % SUB,
            "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Sql/servers/s1/databases/d1" % SUB,
        ),
        (
            "/providers/Microsoft.Management/managementGroups/mg1",
            "/providers/Microsoft.Management/managementGroups/mg1",
        ),
    ],
)
def test_valid_scopes_keep_their_casing_without_trailing_slash(scope, expected):
    assert _roles.normalize_scope(scope) == expected


@pytest.mark.parametrize(
    "scope",
    [
        "subscriptions/%s" % SUB,
        "/subscriptions/not-a-guid",
        "/subscriptions/%s//resourceGroups/rg" % SUB,
        "/subscriptions/%s/resourceGroups" % SUB,
        "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines" % SUB,
        "/subscriptions/%s/resourceGroups/rg?api-version=1" % SUB,
        "/resourceGroups/rg",
        "/subscriptions/%s/providers/Microsoft.Authorization/roleAssignments/x" % SUB,
        "",
    ],
)
def test_malformed_scopes_name_the_option_and_the_value(scope):
    with pytest.raises(ConfigurationError) as info:
        _roles.normalize_scope(scope)
    assert str(info.value).startswith("scope: %r" % scope)
    assert "/subscriptions/<subscription GUID>" in str(info.value)


def test_scope_key_ignores_case_and_trailing_slash():
    assert _roles.scope_key("/subscriptions/%s/resourceGroups/RG/" % SUB.upper()) == _roles.scope_key(
        "/subscriptions/%s/resourcegroups/rg" % SUB
    )


def test_assignment_name_is_uuid5_of_normalised_inputs():
    name = _roles.assignment_name("/subscriptions/%s/resourceGroups/RG/" % SUB.upper(), READER.upper(), PRINCIPAL)
    again = _roles.assignment_name("/subscriptions/%s/resourcegroups/rg" % SUB, READER, PRINCIPAL.upper())
    assert name == again
    parsed = uuid.UUID(name)
    assert parsed.version == 5
    expected = uuid.uuid5(
        _roles.ROLE_ASSIGNMENT_NAMESPACE, "/subscriptions/%s/resourcegroups/rg|%s|%s" % (SUB, READER, PRINCIPAL)
    )
    assert parsed == expected


def test_assignment_name_differs_per_scope_role_and_principal():
    base = _roles.assignment_name("/subscriptions/%s" % SUB, READER, PRINCIPAL)
    assert base != _roles.assignment_name("/subscriptions/%s/resourceGroups/rg" % SUB, READER, PRINCIPAL)
    assert base != _roles.assignment_name("/subscriptions/%s" % SUB, "b24988ac-6180-42a0-ab88-20f7382dd24c", PRINCIPAL)
    assert base != _roles.assignment_name("/subscriptions/%s" % SUB, READER, str(uuid.UUID(int=1)))


def test_namespace_never_changes():
    # Changing it would let two collection versions running at once create duplicate assignments.
    assert str(_roles.ROLE_ASSIGNMENT_NAMESPACE) == "bdfdec7b-100c-45ff-989a-213d051e2523"


@pytest.mark.parametrize(
    "role, expected",
    [
        ("Reader", ("name", "Reader")),
        (READER.upper(), ("guid", READER)),
        (
            "/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s" % (SUB, READER),
            ("id", "/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s" % (SUB, READER)),
        ),
        (
            "/providers/microsoft.authorization/roledefinitions/%s/" % READER,
            ("id", "/providers/microsoft.authorization/roledefinitions/%s" % READER),
        ),
    ],
)
def test_parse_role(role, expected):
    assert _roles.parse_role(role) == expected


@pytest.mark.parametrize(
    "role", ["", "   ", "/providers/Microsoft.Authorization/roleDefinitions/Reader", "/subscriptions/x"]
)
def test_parse_role_rejects_bad_input(role):
    with pytest.raises(ConfigurationError, match=r"^role: "):
        _roles.parse_role(role)


@pytest.mark.parametrize("principal", ["not-a-guid", "", "0b4b7a6c1a2b4c3d8e9f0a1b2c3d4e5f0", "{%s}" % PRINCIPAL])
def test_principal_must_be_a_guid(principal):
    with pytest.raises(ConfigurationError) as info:
        _roles.check_principal_id(principal)
    assert str(info.value).startswith("principal_id: %r is not a GUID" % principal)


def test_resolve_role_by_name_ignores_case_and_uses_the_filter():
    scope = "/subscriptions/%s" % SUB
    path = scope + _roles.ROLE_DEFINITIONS
    client = FakeClient(lists={(path, "roleName eq 'reader'"): [definition("Reader", READER)]})
    found = _roles.resolve_role_definition(client, scope, "reader")
    assert found["name"] == READER
    assert client.calls == [("LIST", path, {"$filter": "roleName eq 'reader'"})]


def test_resolve_unknown_role_name_lists_similar_names():
    scope = "/subscriptions/%s" % SUB
    path = scope + _roles.ROLE_DEFINITIONS
    everything = [
        definition("Reader", READER),
        definition("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c"),
        definition("Reader and Data Access", "c12c1c16-33a1-487b-954d-41c89c60f349"),
    ]
    client = FakeClient(lists={(path, None): everything})
    with pytest.raises(ConfigurationError) as info:
        _roles.resolve_role_definition(client, scope, "Reder")
    message = str(info.value)
    assert message.startswith("role: no role definition named 'Reder'")
    assert "Similar names: Reader" in message


def test_resolve_ambiguous_role_name_lists_every_match():
    scope = "/subscriptions/%s" % SUB
    path = scope + _roles.ROLE_DEFINITIONS
    two = [definition("Ops", str(uuid.UUID(int=1))), definition("OPS", str(uuid.UUID(int=2)))]
    client = FakeClient(lists={(path, "roleName eq 'ops'"): two})
    with pytest.raises(ConfigurationError) as info:
        _roles.resolve_role_definition(client, scope, "ops")
    assert "matches 2 role definitions" in str(info.value)
    assert str(uuid.UUID(int=1)) in str(info.value) and str(uuid.UUID(int=2)) in str(info.value)


def test_resolve_role_name_with_quote_is_escaped():
    scope = "/"
    client = FakeClient()
    with pytest.raises(ConfigurationError):
        _roles.resolve_role_definition(client, scope, "O'Brien")
    assert client.calls[0] == ("LIST", _roles.ROLE_DEFINITIONS, {"$filter": "roleName eq 'O''Brien'"})


def test_resolve_role_by_guid_reads_it_at_the_scope():
    scope = "/subscriptions/%s/resourceGroups/rg" % SUB
    path = "%s%s/%s" % (scope, _roles.ROLE_DEFINITIONS, READER)
    client = FakeClient(gets={path: definition("Reader", READER)})
    assert _roles.resolve_role_definition(client, scope, READER)["properties"]["roleName"] == "Reader"


def test_resolve_missing_role_guid_names_the_option():
    with pytest.raises(ConfigurationError, match=r"^role: no role definition"):
        _roles.resolve_role_definition(FakeClient(), "/subscriptions/%s" % SUB, READER)


def test_find_assignment_compares_normalised_ids():
    rg = "/subscriptions/%s/resourceGroups/RG" % SUB
    items = [
        assignment("/subscriptions/%s" % SUB, READER, PRINCIPAL, "parent"),
        assignment(rg + "/providers/Microsoft.Compute/virtualMachines/vm", READER, PRINCIPAL, "child"),
        assignment(rg, "b24988ac-6180-42a0-ab88-20f7382dd24c", PRINCIPAL, "other-role"),
        assignment(rg.upper().replace("SUBSCRIPTIONS", "subscriptions"), READER.upper(), PRINCIPAL.upper(), "it"),
    ]
    found = _roles.find_assignment(items, "/subscriptions/%s/resourcegroups/rg/" % SUB, READER, PRINCIPAL)
    assert found["name"] == "it"
    assert _roles.find_assignment(items[:3], rg, READER, PRINCIPAL) is None


def fast_policy(max_wait, statuses, **kwargs):
    slept = []
    return RetryPolicy(max_wait, statuses, sleep=slept.append, jitter=lambda lo, hi: hi, **kwargs)


def test_principal_not_found_is_retried_then_succeeds():
    not_found = ArmError("Principal x does not exist", status=400, code="PrincipalNotFound")
    client = FakeClient(puts=[not_found, not_found, (201, {"name": "n"})])
    status, body = _roles.put_assignment(
        client,
        "/subscriptions/%s" % SUB,
        "n",
        {"principalId": PRINCIPAL},
        principal_wait=60,
        policy_factory=fast_policy,
    )
    assert (status, body) == (201, {"name": "n"})
    assert [c[0] for c in client.calls] == ["PUT", "PUT", "PUT"]
    assert client.calls[0][1] == "/subscriptions/%s/providers/Microsoft.Authorization/roleAssignments/n" % SUB


def test_principal_not_found_timeout_explains_replication():
    not_found = ArmError("Principal x does not exist in the directory", status=400, code="PrincipalNotFound")
    client = FakeClient(puts=[not_found] * 20)
    with pytest.raises(ArmError) as info:
        _roles.put_assignment(
            client, "/", "n", {"principalId": PRINCIPAL}, principal_wait=5, policy_factory=fast_policy
        )
    message = str(info.value)
    assert "principal_id: %s was still not found" % PRINCIPAL in message
    assert "replicate" in message and "principal_type" in message and "principal_wait" in message
    assert "Azure said: Principal x does not exist" in message
    assert info.value.code == "PrincipalNotFound"


def test_other_errors_are_not_retried():
    denied = ArmError("no", status=403, code="AuthorizationFailed")
    client = FakeClient(puts=[denied, (201, {})])
    with pytest.raises(ArmError) as info:
        _roles.put_assignment(client, "/", "n", {}, principal_wait=60, policy_factory=fast_policy)
    assert info.value is denied
    assert len(client.calls) == 1


def test_assignment_properties_and_updates():
    props = _roles.assignment_properties("/x/" + READER, PRINCIPAL, None, "why", "@Resource[x] == 'y'")
    assert "principalType" not in props
    assert props["conditionVersion"] == "2.0"
    existing = {"properties": {"description": "why", "condition": None}}
    assert _roles.assignment_updates(existing, "why", None) == {}
    assert _roles.assignment_updates(existing, None, None) == {}
    assert _roles.assignment_updates(existing, "other", None) == {"description": "other"}


def test_facts_are_snake_case():
    facts = _roles.definition_facts(definition("Reader", READER))
    assert facts["role_name"] == "Reader"
    assert facts["permissions"] == [
        {"actions": ["*/read"], "not_actions": [], "data_actions": [], "not_data_actions": []}
    ]
    a = _roles.assignment_facts(assignment("/subscriptions/%s" % SUB, READER, PRINCIPAL), "Reader")
    assert a["role_name"] == "Reader" and a["principal_type"] == "ServicePrincipal" and a["scope"].endswith(SUB)
