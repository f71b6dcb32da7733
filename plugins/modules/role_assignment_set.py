#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: role_assignment_set
short_description: Make a principal's Azure roles on a scope exactly the declared ones
version_added: 0.1.0
description:
  - Declares the complete set of roles a principal (a managed identity, service principal, user or group) has on a
    scope. Missing roles are assigned; any other role assigned to that principal at the scope is removed, and, with
    O(include_below=true), any other role assigned to it on resources below the scope too.
  - Assignments inherited from above the scope (a subscription, a management group) are reported in RV(inherited)
    and in a warning, and never removed - they belong to another scope; manage them there.
  - Other principals' assignments are never touched.
  - New assignments are made as M(managed_identity.azure.role_assignment) makes them - a deterministic name, so
    concurrent runs create one assignment, and O(principal_type=ServicePrincipal) so a new identity's replication
    delay does not fail the grant.
  - In check mode nothing is written; the result and the diff list each assignment that would be added or removed.
author:
  - managed_identity.azure contributors (@managed-identity)
extends_documentation_fragment:
  - managed_identity.azure.auth
  - managed_identity.azure.attributes.check_mode_full
  - managed_identity.azure.attributes.diff_mode_full
  - managed_identity.azure.attributes.action_group
attributes:
  check_mode:
    details: Reports every assignment that would be added or removed, and writes nothing.
  diff_mode:
    details: The principal's assignments at the scope (and below, with O(include_below)) before and after.
options:
  principal_id:
    description:
      - The object (principal) ID of the user, group or service principal; for a managed identity, its
        C(principal_id). Not a client ID.
    type: str
    required: true
  roles:
    description:
      - The complete set of roles the principal should have on the scope, each a role name such as V(Reader), a role
        definition GUID or a full role definition ID.
      - An empty list removes every role the principal has at the scope.
    type: list
    elements: str
    required: true
  scope:
    description:
      - The ARM scope, for example C(/subscriptions/<id>/resourceGroups/<name>). When not given, the subscription
        O(subscription_id), or its resource group O(resource_group).
    type: str
  resource_group:
    description:
      - With O(subscription_id), makes the resource group the scope. Mutually exclusive with O(scope).
    type: str
  include_below:
    description:
      - Also remove the principal's assignments of other roles made on resources below the scope (a VM, a storage
        account in the resource group). Assignments of the declared roles below the scope are kept; nothing is added
        below.
    type: bool
    default: false
  principal_type:
    description:
      - The principal's type, sent when an assignment is created so that Azure does not look the principal up
        (V(auto) sends none).
    type: str
    default: ServicePrincipal
    choices: [ServicePrincipal, User, Group, ForeignGroup, Device, auto]
  description:
    description:
      - The description of assignments this module creates; existing ones keep theirs.
    type: str
  principal_wait:
    description:
      - How many seconds to keep retrying C(PrincipalNotFound) (Entra ID replication delay) before failing.
    type: float
    default: 180
notes:
  - Needs C(Microsoft.Authorization/roleAssignments/read), C(/write) and C(/delete) on the scope, for example Owner,
    User Access Administrator or Role Based Access Control Administrator.
  - A removed assignment can keep granting for up to 10 minutes, because ARM caches assignments.
seealso:
  - module: managed_identity.azure.role_assignment
  - module: managed_identity.azure.role_assignment_info
  - module: managed_identity.azure.role_assignment_orphans
"""

EXAMPLES = r"""
- name: The VM's identity reads its resource group, and can do nothing else there
  managed_identity.azure.role_assignment_set:
    subscription_id: "{{ subscription_id }}"
    resource_group: rg-web
    principal_id: "{{ vm.principal_id }}"
    roles: [Reader]

- name: Plan it first - what would be removed?
  managed_identity.azure.role_assignment_set:
    scope: /subscriptions/{{ subscription_id }}/resourceGroups/rg-web
    principal_id: "{{ vm.principal_id }}"
    roles: [Reader, Virtual Machine Contributor]
    include_below: true
  check_mode: true
  register: plan

- name: Show the removals
  ansible.builtin.debug:
    msg: "{{ plan.removed | map(attribute='role_name') | list }}"
"""

RETURN = r"""
role_assignments:
  description: The principal's assignments at the scope (and below, with O(include_below)) after the run - exactly the
    declared roles.
  returned: always
  type: list
  elements: dict
  contains: &assignment
    id:
      description: The role assignment ID (for an assignment still to be created, the ID it will get).
      type: str
      sample: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-web/providers/\
        Microsoft.Authorization/roleAssignments/6d1ba8a5-3e73-5b3c-9b52-6d5a3e2c1f11"
    name:
      description: The role assignment name (a GUID).
      type: str
      sample: 6d1ba8a5-3e73-5b3c-9b52-6d5a3e2c1f11
    scope:
      description: The scope the assignment is made at.
      type: str
      sample: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-web
    role_definition_id:
      description: The role definition ID.
      type: str
      sample: "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/\
        roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
    role_name:
      description: The role's name (null when the role is not visible at the scope).
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
    created_on:
      description: When the assignment was made (ARM's C(createdOn); null for one still to be created).
      type: str
      sample: "2025-01-01T12:00:00.0000000Z"
added:
  description: The assignments created (in check mode, that would be created).
  returned: always
  type: list
  elements: dict
  contains: *assignment
removed:
  description: The assignments removed (in check mode, that would be removed), each with its role and scope.
  returned: always
  type: list
  elements: dict
  contains: *assignment
inherited:
  description: The principal's assignments made above the scope, which apply at it too; reported, never removed.
  returned: always
  type: list
  elements: dict
  contains: *assignment
below:
  description: The principal's assignments made below the scope, left alone because O(include_below=false).
  returned: always
  type: list
  elements: dict
  contains: *assignment
"""

from ansible_collections.managed_identity.azure.plugins.module_utils import _rbac_sets, _roles
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import AzureError, ConfigurationError
from ansible_collections.managed_identity.azure.plugins.module_utils._module import AzureModule


def summary(assignments):
    """One line per assignment, for a readable --diff."""
    return sorted("%s on %s (%s)" % (a["role_name"], a["scope"], a["name"]) for a in assignments)


def main():
    argument_spec = {
        "principal_id": {"type": "str", "required": True},
        "roles": {"type": "list", "elements": "str", "required": True},
        "scope": {"type": "str"},
        "resource_group": {"type": "str"},
        "include_below": {"type": "bool", "default": False},
        "principal_type": {
            "type": "str",
            "default": "ServicePrincipal",
            "choices": list(_roles.PRINCIPAL_TYPES) + ["auto"],
        },
        "description": {"type": "str"},
        "principal_wait": {"type": "float", "default": 180},
    }
    module = AzureModule(argument_spec, supports_check_mode=True, mutually_exclusive=[["scope", "resource_group"]])
    params = module.params
    action = "set the roles of principal %s to %s" % (params["principal_id"], ", ".join(params["roles"]) or "none")
    try:
        principal_id = _roles.check_principal_id(params["principal_id"])
        scope = _roles.scope_from_options(
            params["scope"], module.subscription_id(required=False), params["resource_group"]
        )
        action += " on %s" % scope
        client = module.client
        definitions = {}
        for role in params["roles"]:
            definition = _roles.resolve_role_definition(client, scope, role)
            definitions[_roles.role_definition_guid(definition["id"])] = definition
        current = _roles.list_assignments(client, scope, principal_id)
        plan = _rbac_sets.plan(current, scope, principal_id, list(definitions), params["include_below"])
        names = _rbac_sets.role_names(client, scope)
        names.update({guid: (d.get("properties") or {}).get("roleName") for guid, d in definitions.items()})
        principal_type = None if params["principal_type"] == "auto" else params["principal_type"]
        added = []
        for guid in plan.add:
            name = _roles.assignment_name(scope, guid, principal_id)
            props = _roles.assignment_properties(
                definitions[guid]["id"], principal_id, principal_type, params["description"], None
            )
            if module.check_mode:
                path = _roles.under(scope, "%s/%s" % (_roles.ROLE_ASSIGNMENTS, name))
                added.append({"id": path, "name": name, "properties": dict(props, scope=scope)})
            else:
                added.append(
                    _roles.put_assignment(client, scope, name, props, principal_wait=params["principal_wait"])[1]
                )
        if not module.check_mode:
            for assignment in plan.remove:
                _roles.delete_assignment(client, assignment["id"])
    except ConfigurationError as err:
        module.fail(err)
    except AzureError as err:
        module.fail(
            _roles.explain_denied(err, "Microsoft.Authorization/roleAssignments/read, /write and /delete"), action
        )

    inherited = _rbac_sets.facts(plan.inherited, names)
    if inherited:
        # Reported, never removed: they are made at another scope and apply here through inheritance.
        module.warn(
            "principal %s also holds, inherited at %s and not removed here: %s. Remove them at their own scope if "
            "they are not meant."
            % (principal_id, scope, "; ".join("%s from %s" % (a["role_name"], a["scope"]) for a in inherited))
        )
    before = _rbac_sets.facts(plan.keep + plan.remove, names)
    after = _rbac_sets.facts(plan.keep + added, names)
    module.exit(
        changed=bool(added or plan.remove),
        role_assignments=after,
        added=_rbac_sets.facts(added, names),
        removed=_rbac_sets.facts(plan.remove, names),
        inherited=inherited,
        below=_rbac_sets.facts(plan.below, names),
        diff={"before": {"role_assignments": summary(before)}, "after": {"role_assignments": summary(after)}},
    )


if __name__ == "__main__":
    main()
