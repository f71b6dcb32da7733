# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for exclusive role sets: what is kept, removed, added, and what is only reported."""

from __future__ import annotations

from ansible_collections.managed_identity.azure.plugins.module_utils import _rbac_sets

SUB = "/subscriptions/8d10da13-8125-4ba9-a717-bf7490507b3d"
RG = SUB + "/resourceGroups/rg-web"
VM = RG + "/providers/Microsoft.Compute/virtualMachines/vm1"
OID = "2b8e0c0d-6f0a-4a57-9c8a-2d5f0f3e1c11"
OTHER = "7c1e4f2a-0b3d-4e5f-8a9b-0c1d2e3f4a5b"
READER, CONTRIBUTOR, OWNER = "acdd72a7-3385-48ef-bd42-f606fba81ae7", "b24988ac-6180-42a0-ab88-20f7382dd24c", "8e3af6"


def assignment(name, scope, role, principal=OID):
    return {
        "id": "%s/providers/Microsoft.Authorization/roleAssignments/%s" % (scope, name),
        "name": name,
        "properties": {
            "scope": scope,
            "principalId": principal,
            "roleDefinitionId": "%s/providers/Microsoft.Authorization/roleDefinitions/%s" % (SUB, role),
        },
    }


LISTED = [
    assignment("owner-above", SUB, OWNER),
    assignment("reader-here", RG.lower(), READER),  # other casing: the same scope
    assignment("contrib-here", RG, CONTRIBUTOR),
    assignment("contrib-vm", VM, CONTRIBUTOR),
    assignment("reader-vm", VM, READER),
    assignment("someone-else", RG, CONTRIBUTOR, principal=OTHER),
]


def names(items):
    return sorted(a["name"] for a in items)


def test_extras_at_the_scope_go_inherited_and_below_are_only_reported():
    plan = _rbac_sets.plan(LISTED, RG, OID.upper(), [READER.upper()])
    assert names(plan.remove) == ["contrib-here"]
    assert names(plan.keep) == ["reader-here"]
    assert plan.add == []
    assert names(plan.inherited) == ["owner-above"]
    assert names(plan.below) == ["contrib-vm", "reader-vm"]


def test_include_below_removes_other_roles_on_child_resources_and_keeps_declared_ones():
    plan = _rbac_sets.plan(LISTED, RG, OID, [READER], include_below=True)
    assert names(plan.remove) == ["contrib-here", "contrib-vm"]
    assert names(plan.keep) == ["reader-here", "reader-vm"]
    assert plan.below == []


def test_a_declared_role_missing_at_the_scope_is_added_even_if_held_below_or_above():
    plan = _rbac_sets.plan(LISTED, RG, OID, [OWNER, READER, OWNER], include_below=True)
    assert plan.add == [OWNER]
    assert names(plan.inherited) == ["owner-above"]


def test_an_empty_set_removes_everything_at_the_scope_only():
    plan = _rbac_sets.plan(LISTED, RG, OID, [])
    assert names(plan.remove) == ["contrib-here", "reader-here"]
    assert names(plan.inherited) == ["owner-above"] and plan.add == []


def test_relation_of_scopes():
    assert _rbac_sets.relation(RG.upper(), RG) == "at"
    assert _rbac_sets.relation(VM, RG) == "below"
    assert _rbac_sets.relation(SUB, RG) == "above"
    assert _rbac_sets.relation(RG + "-other", RG) == "above"  # a sibling is not below
    assert _rbac_sets.relation("/providers/Microsoft.Management/managementGroups/mg", RG) == "above"
