#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: role_definition_info
short_description: Find Azure role definitions by name or ID
version_added: 0.1.0
description:
  - Returns the role definitions available at a scope, with their permissions.
  - Filtered by O(name) (exact, without regard to case) or O(id); otherwise every definition at the scope.
author:
  - managed_identity.azure contributors (@managed-identity)
extends_documentation_fragment:
  - managed_identity.azure.auth
  - managed_identity.azure.attributes.check_mode_full
  - managed_identity.azure.attributes.diff_mode_na
  - managed_identity.azure.attributes.action_group
options:
  name:
    description:
      - The role name, such as V(Reader), matched exactly without regard to case.
    type: str
  id:
    description:
      - A role definition GUID or a full role definition ID.
    type: str
  role:
    description:
      - One role, by name, GUID or full ID, resolved exactly as M(managed_identity.azure.role_assignment) resolves
        its O(managed_identity.azure.role_assignment#module:role) - one definition, or a failure that names similar
        roles. For checking a role before anything is granted.
    type: str
  scope:
    description:
      - The scope to look at. Defaults to the subscription O(subscription_id) (or its resource group
        O(resource_group)); without a subscription, the tenant root C(/) (built-in roles only).
    type: str
  resource_group:
    description:
      - With O(subscription_id), looks at the resource group. Mutually exclusive with O(scope).
    type: str
seealso:
  - module: managed_identity.azure.role_assignment
"""

EXAMPLES = r"""
- name: What may a Reader do?
  managed_identity.azure.role_definition_info:
    subscription_id: "{{ subscription_id }}"
    name: reader
  register: reader

- name: Fail early, with similar names, when a role name is misspelt
  managed_identity.azure.role_definition_info:
    subscription_id: "{{ subscription_id }}"
    role: "{{ role_to_grant }}"

- name: Show its actions
  ansible.builtin.debug:
    var: reader.role_definitions[0].permissions[0].actions
"""

RETURN = r"""
role_definitions:
  description: The matching role definitions (empty when none matches).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The role definition ID.
      type: str
      sample: "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/\
        roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
    name:
      description: The role definition GUID.
      type: str
      sample: acdd72a7-3385-48ef-bd42-f606fba81ae7
    role_name:
      description: The role's name.
      type: str
      sample: Reader
    role_type:
      description: V(BuiltInRole) or V(CustomRole).
      type: str
      sample: BuiltInRole
    description:
      description: What the role is for.
      type: str
      sample: View all resources, but does not allow you to make any changes.
    assignable_scopes:
      description: Where the role can be assigned.
      type: list
      elements: str
      sample: ["/"]
    permissions:
      description: What the role allows and excludes.
      type: list
      elements: dict
      contains:
        actions:
          description: Allowed control-plane actions.
          type: list
          elements: str
          sample: ["*/read"]
        not_actions:
          description: Control-plane actions excluded from RV(role_definitions[].permissions[].actions).
          type: list
          elements: str
          sample: []
        data_actions:
          description: Allowed data-plane actions.
          type: list
          elements: str
          sample: []
        not_data_actions:
          description: Data-plane actions excluded from RV(role_definitions[].permissions[].data_actions).
          type: list
          elements: str
          sample: []
"""

from ansible_collections.managed_identity.azure.plugins.module_utils import _roles
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    AzureError,
    ConfigurationError,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._module import AzureModule


def find_definitions(client, scope, name, definition_id):
    if definition_id:
        kind, value = _roles.parse_role(definition_id)
        if kind == "name":
            raise ConfigurationError(
                "id: %r is neither a role definition GUID nor a role definition ID; pass role names in name."
                % (definition_id,)
            )
        path = value if kind == "id" else _roles.under(scope, "%s/%s" % (_roles.ROLE_DEFINITIONS, value))
        found = client.get_or_none(path, _roles.AUTHORIZATION_API_VERSION)
        return [found] if found else []
    if name:
        matches = _roles.match_role_names(_roles.list_role_definitions(client, scope, name), name)
        if matches:
            return matches
        # The server-side filter may be case-sensitive; look at everything once.
        return _roles.match_role_names(_roles.list_role_definitions(client, scope), name)
    return _roles.list_role_definitions(client, scope)


def main():
    argument_spec = {
        "name": {"type": "str"},
        "id": {"type": "str"},
        "role": {"type": "str"},
        "scope": {"type": "str"},
        "resource_group": {"type": "str"},
    }
    module = AzureModule(
        argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[["name", "id", "role"], ["scope", "resource_group"]],
    )
    params = module.params
    scope = params["scope"]
    try:
        subscription_id = module.subscription_id(required=False)
        if params["scope"] or subscription_id:
            scope = _roles.scope_from_options(params["scope"], subscription_id, params["resource_group"])
        elif params["resource_group"]:
            raise ConfigurationError("resource_group: needs subscription_id (or AZURE_SUBSCRIPTION_ID).")
        else:
            scope = "/"
        if params["role"] is not None:
            definitions = [_roles.resolve_role_definition(module.client, scope, params["role"])]
        else:
            definitions = find_definitions(module.client, scope, params["name"], params["id"])
    except ConfigurationError as err:
        module.fail(err)
    except AzureError as err:
        module.fail(err, "list role definitions at %s" % scope)
    module.exit(changed=False, role_definitions=[_roles.definition_facts(d) for d in definitions])


if __name__ == "__main__":
    main()
