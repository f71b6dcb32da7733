#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: role_assignment
short_description: Grant or revoke an Azure RBAC role for a principal on a scope
version_added: 0.1.0
description:
  - Ensures that a principal (a managed identity, service principal, user or group) has, or does not have, an
    Azure role on a scope.
  - Idempotent with one filtered list of the assignments at the scope; scopes and role IDs are compared without
    regard to case, so a scope typed with other casing is the same scope.
  - New assignments get a deterministic name (a UUID v5 of the scope, the role definition and the principal), so
    several runs at the same time create one assignment, not several. Azure's C(409 RoleAssignmentExists) is
    reported as unchanged, with the existing assignment returned.
  - A principal created moments ago may not have replicated in Microsoft Entra ID yet. With the default
    O(principal_type=ServicePrincipal) Azure does not look the principal up, which avoids the race for managed
    identities; otherwise C(PrincipalNotFound) is retried for up to O(principal_wait) seconds.
author:
  - managed_identity.azure contributors (@managed-identity)
extends_documentation_fragment:
  - managed_identity.azure.auth
  - managed_identity.azure.attributes.check_mode_full
  - managed_identity.azure.attributes.diff_mode_full
  - managed_identity.azure.attributes.action_group
options:
  principal_id:
    description:
      - The object (principal) ID of the user, group or service principal; for a managed identity, the
        C(principal_id) returned by M(managed_identity.azure.vm_identity) or
        M(managed_identity.azure.user_assigned_identity). Not a client ID.
    type: str
    required: true
  role:
    description:
      - The role, as a role name such as V(Reader) (matched exactly, without regard to case), a role definition
        GUID, or a full role definition ID.
      - A name that matches no role definition, or more than one, fails and lists what matched.
    type: str
    required: true
  scope:
    description:
      - The ARM scope of the assignment, for example C(/subscriptions/<id>/resourceGroups/<name>) or a full
        resource ID.
      - When not given, the scope is the subscription O(subscription_id), or its resource group
        O(resource_group).
    type: str
  resource_group:
    description:
      - With O(subscription_id), makes the resource group the scope. Mutually exclusive with O(scope).
    type: str
  principal_type:
    description:
      - The type of the principal, sent to Azure so it does not have to look the principal up in Microsoft
        Entra ID. Managed identities are V(ServicePrincipal).
      - V(auto) sends no type; Azure then looks the principal up, which fails with C(PrincipalNotFound) for a
        principal that has not replicated yet (retried within O(principal_wait)).
      - Only used when an assignment is created.
    type: str
    default: ServicePrincipal
    choices: [ServicePrincipal, User, Group, ForeignGroup, Device, auto]
  description:
    description:
      - A description of the assignment. Updated in place when it differs, unless O(update_description=false).
    type: str
  update_description:
    description:
      - V(false) writes O(description) only when this module creates the assignment; an assignment that exists
        already keeps its own description (for example a record of who created it), so a run that finds the
        assignment writes nothing.
    type: bool
    default: true
  condition:
    description:
      - An ABAC condition limiting the assignment (condition version 2.0). Updated in place when it differs.
    type: str
  principal_wait:
    description:
      - How many seconds to keep retrying C(PrincipalNotFound) (Entra ID replication delay) before failing.
    type: float
    default: 180
  state:
    description:
      - V(present) creates the assignment when missing; V(absent) removes exactly this assignment (principal,
        role and scope) and nothing else.
    type: str
    default: present
    choices: [present, absent]
notes:
  - Creating or removing assignments needs C(Microsoft.Authorization/roleAssignments/write) or C(/delete) on the
    scope, for example Owner, User Access Administrator or Role Based Access Control Administrator.
  - Role assignments can take up to 10 minutes to take effect, because ARM caches them.
seealso:
  - module: managed_identity.azure.role_assignment_info
  - module: managed_identity.azure.role_definition_info
"""

EXAMPLES = r"""
- name: Let a VM's system-assigned identity read its resource group
  managed_identity.azure.role_assignment:
    subscription_id: "{{ subscription_id }}"
    resource_group: demo-rg
    principal_id: "{{ vm.principal_id }}"
    role: Reader

- name: Same, by role definition GUID on an explicit scope
  managed_identity.azure.role_assignment:
    scope: /subscriptions/{{ subscription_id }}/resourceGroups/demo-rg
    principal_id: "{{ vm.principal_id }}"
    role: acdd72a7-3385-48ef-bd42-f606fba81ae7

- name: Grant, recording who made the assignment only when it is created (an existing one is left as it is)
  managed_identity.azure.role_assignment:
    resource_group: demo-rg
    principal_id: "{{ vm.principal_id }}"
    role: Reader
    description: Granted by the web team's playbook.
    update_description: false

- name: Remove exactly that assignment
  managed_identity.azure.role_assignment:
    scope: /subscriptions/{{ subscription_id }}/resourceGroups/demo-rg
    principal_id: "{{ vm.principal_id }}"
    role: Reader
    state: absent
"""

RETURN = r"""
id:
  description: The role assignment ID.
  returned: when the assignment exists, would be created, or was removed
  type: str
  sample: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg/providers/\
    Microsoft.Authorization/roleAssignments/6d1ba8a5-3e73-5b3c-9b52-6d5a3e2c1f11"
name:
  description: The role assignment name (a GUID).
  returned: when the assignment exists, would be created, or was removed
  type: str
  sample: 6d1ba8a5-3e73-5b3c-9b52-6d5a3e2c1f11
scope:
  description: The scope of the assignment.
  returned: when the assignment exists, would be created, or was removed
  type: str
  sample: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg
role_definition_id:
  description: The role definition ID.
  returned: when the assignment exists, would be created, or was removed
  type: str
  sample: "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/\
    roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
role_name:
  description: The role's name.
  returned: when the assignment exists, would be created, or was removed
  type: str
  sample: Reader
principal_id:
  description: The principal's object ID.
  returned: when the assignment exists, would be created, or was removed
  type: str
  sample: 3f2b8e7c-4a1d-4c9e-9a77-1d2e3f4a5b6c
principal_type:
  description: The principal's type as Azure recorded it (null in check mode with O(principal_type=auto)).
  returned: when the assignment exists, would be created, or was removed
  type: str
  sample: ServicePrincipal
description:
  description: The assignment's description.
  returned: when the assignment exists, would be created, or was removed
  type: str
  sample: Lets the demo VM read its resource group
condition:
  description: The assignment's ABAC condition.
  returned: when the assignment exists, would be created, or was removed
  type: str
  sample: null
"""

from ansible_collections.managed_identity.azure.plugins.module_utils import _roles
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    ArmError,
    AzureError,
    ConfigurationError,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._module import AzureModule


def ensure_present(client, scope, definition, principal_id, existing, params, check_mode):
    """(changed, assignment) after making sure the assignment exists with the asked description/condition."""
    if existing:
        description = params["description"] if params["update_description"] else None
        updates = _roles.assignment_updates(existing, description, params["condition"])
        if not updates:
            return False, existing
        props = dict(existing["properties"])
        props.update(updates)
        if check_mode:
            return True, dict(existing, properties=props)
        mutable = ("roleDefinitionId", "principalId", "principalType", "description", "condition", "conditionVersion")
        keep = {k: props[k] for k in mutable if props.get(k) is not None}
        _status, body = _roles.put_assignment(
            client, scope, existing["name"], keep, principal_wait=params["principal_wait"]
        )
        return True, body

    principal_type = None if params["principal_type"] == "auto" else params["principal_type"]
    role_guid = _roles.role_definition_guid(definition["id"])
    name = _roles.assignment_name(scope, role_guid, principal_id)
    props = _roles.assignment_properties(
        definition["id"], principal_id, principal_type, params["description"], params["condition"]
    )
    if check_mode:
        props["scope"] = scope
        path = _roles.under(scope, "%s/%s" % (_roles.ROLE_ASSIGNMENTS, name))
        return True, {"id": path, "name": name, "properties": props}
    try:
        status, body = _roles.put_assignment(client, scope, name, props, principal_wait=params["principal_wait"])
    except ArmError as err:
        if err.code != "RoleAssignmentExists":
            raise
        # Someone else created the same grant (under another name) since our list: theirs is ours.
        found = _roles.find_assignment(
            _roles.list_assignments(client, scope, principal_id), scope, role_guid, principal_id
        )
        if found is None:
            raise
        return False, found
    # 200 instead of 201: a concurrent run with the same deterministic name created it first.
    return status == 201, body


def ensure_absent(client, existing, check_mode):
    if not existing:
        return False
    if not check_mode:
        _roles.delete_assignment(client, existing["id"])
    return True


def main():
    argument_spec = {
        "principal_id": {"type": "str", "required": True},
        "role": {"type": "str", "required": True},
        "scope": {"type": "str"},
        "resource_group": {"type": "str"},
        "principal_type": {
            "type": "str",
            "default": "ServicePrincipal",
            "choices": list(_roles.PRINCIPAL_TYPES) + ["auto"],
        },
        "description": {"type": "str"},
        "update_description": {"type": "bool", "default": True},
        "condition": {"type": "str"},
        "principal_wait": {"type": "float", "default": 180},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    }
    module = AzureModule(argument_spec, supports_check_mode=True, mutually_exclusive=[["scope", "resource_group"]])
    params = module.params
    action = "ensure role %r for principal %s" % (params["role"], params["principal_id"])
    try:
        principal_id = _roles.check_principal_id(params["principal_id"])
        scope = _roles.scope_from_options(
            params["scope"], module.subscription_id(required=False), params["resource_group"]
        )
        action = "ensure role %r for principal %s on %s" % (params["role"], principal_id, scope)
        client = module.client
        definition = _roles.resolve_role_definition(client, scope, params["role"])
        role_name = (definition.get("properties") or {}).get("roleName")
        role_guid = _roles.role_definition_guid(definition["id"])
        existing = _roles.find_assignment(
            _roles.list_assignments(client, scope, principal_id), scope, role_guid, principal_id
        )
        if params["state"] == "present":
            changed, after = ensure_present(
                client, scope, definition, principal_id, existing, params, module.check_mode
            )
            result = _roles.assignment_facts(after, role_name)
        else:
            changed = ensure_absent(client, existing, module.check_mode)
            after = None
            result = _roles.assignment_facts(existing, role_name) if existing else {}
    except ConfigurationError as err:
        module.fail(err)
    except AzureError as err:
        module.fail(_roles.explain_denied(err, "Microsoft.Authorization/roleAssignments/write or /delete"), action)

    module.exit(
        changed=changed,
        diff={
            "before": _roles.assignment_facts(existing, role_name) if existing else {},
            "after": _roles.assignment_facts(after, role_name) if after else {},
        },
        **result,
    )


if __name__ == "__main__":
    main()
