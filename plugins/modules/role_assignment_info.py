#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: role_assignment_info
short_description: List Azure role assignments at a scope
version_added: 0.1.0
description:
  - Lists the role assignments that apply at a scope, optionally only those of one principal and/or one role.
  - As Azure does, the list includes assignments inherited from parent scopes and those made on child scopes;
    O(exact_scope) keeps only the ones made at exactly O(scope).
author:
  - managed_identity.azure contributors (@managed-identity)
extends_documentation_fragment:
  - managed_identity.azure.auth
  - managed_identity.azure.attributes.check_mode_full
  - managed_identity.azure.attributes.diff_mode_na
  - managed_identity.azure.attributes.action_group
options:
  scope:
    description:
      - The ARM scope to list at. Defaults to the subscription O(subscription_id), or its resource group
        O(resource_group).
    type: str
  resource_group:
    description:
      - With O(subscription_id), lists at the resource group. Mutually exclusive with O(scope).
    type: str
  principal_id:
    description:
      - Only assignments of this principal (object) ID.
    type: str
  role:
    description:
      - Only assignments of this role, as a role name (exact, without regard to case), a role definition GUID or a
        full role definition ID.
    type: str
  exact_scope:
    description:
      - Only assignments made at exactly O(scope) (compared without regard to case).
    type: bool
    default: false
seealso:
  - module: managed_identity.azure.role_assignment
"""

EXAMPLES = r"""
- name: Which roles does the VM's identity have on its resource group?
  managed_identity.azure.role_assignment_info:
    subscription_id: "{{ subscription_id }}"
    resource_group: demo-rg
    principal_id: "{{ vm.principal_id }}"
  register: grants

- name: Who are the Readers of the resource group itself?
  managed_identity.azure.role_assignment_info:
    scope: /subscriptions/{{ subscription_id }}/resourceGroups/demo-rg
    role: Reader
    exact_scope: true
"""

RETURN = r"""
role_assignments:
  description: The matching role assignments.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The role assignment ID.
      type: str
      sample: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg/providers/\
        Microsoft.Authorization/roleAssignments/6d1ba8a5-3e73-5b3c-9b52-6d5a3e2c1f11"
    name:
      description: The role assignment name (a GUID).
      type: str
      sample: 6d1ba8a5-3e73-5b3c-9b52-6d5a3e2c1f11
    scope:
      description: The scope the assignment was made at.
      type: str
      sample: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg
    role_definition_id:
      description: The role definition ID.
      type: str
      sample: "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/\
        roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
    role_name:
      description: The role's name (null when the role is not visible at O(scope)).
      type: str
      sample: Reader
    principal_id:
      description: The principal's object ID.
      type: str
      sample: 3f2b8e7c-4a1d-4c9e-9a77-1d2e3f4a5b6c
    principal_type:
      description: The principal's type.
      type: str
      sample: ServicePrincipal
    description:
      description: The assignment's description.
      type: str
      sample: null
    condition:
      description: The assignment's ABAC condition.
      type: str
      sample: null
"""

from ansible_collections.managed_identity.azure.plugins.module_utils import _roles
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import AzureError, ConfigurationError
from ansible_collections.managed_identity.azure.plugins.module_utils._module import AzureModule


def main():
    argument_spec = {
        "scope": {"type": "str"},
        "resource_group": {"type": "str"},
        "principal_id": {"type": "str"},
        "role": {"type": "str"},
        "exact_scope": {"type": "bool", "default": False},
    }
    module = AzureModule(argument_spec, supports_check_mode=True, mutually_exclusive=[["scope", "resource_group"]])
    params = module.params
    action = "list role assignments"
    try:
        principal_id = _roles.check_principal_id(params["principal_id"]) if params["principal_id"] else None
        scope = _roles.scope_from_options(
            params["scope"], module.subscription_id(required=False), params["resource_group"]
        )
        action = "list role assignments at %s" % scope
        client = module.client
        role_guid = None
        if params["role"]:
            role_guid = _roles.role_definition_guid(_roles.resolve_role_definition(client, scope, params["role"])["id"])
        assignments = [
            a
            for a in _roles.list_assignments(client, scope, principal_id)
            if _roles.assignment_matches(
                a, scope=scope if params["exact_scope"] else None, role_guid=role_guid, principal_id=principal_id
            )
        ]
        names = {}
        if assignments:
            names = {
                _roles.role_definition_guid(d.get("id") or ""): (d.get("properties") or {}).get("roleName")
                for d in _roles.list_role_definitions(client, scope)
            }
    except ConfigurationError as err:
        module.fail(err)
    except AzureError as err:
        module.fail(err, action)
    module.exit(
        changed=False,
        role_assignments=[
            _roles.assignment_facts(
                a, names.get(_roles.role_definition_guid((a.get("properties") or {}).get("roleDefinitionId") or ""))
            )
            for a in assignments
        ],
    )


if __name__ == "__main__":
    main()
