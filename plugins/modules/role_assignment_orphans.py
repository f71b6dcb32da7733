#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: role_assignment_orphans
short_description: Find, and on request remove, Azure role assignments whose principal no longer exists
version_added: 0.1.0
description:
  - Finds the role assignments made at a scope (and below it) whose principal is gone from Microsoft Entra ID - what
    the Azure portal shows as "Identity not found", left behind when a VM, a user-assigned identity or an application
    is deleted or recreated.
  - Principals are resolved as the portal does, with Microsoft Graph C(POST /v1.0/directoryObjects/getByIds), in
    batches of up to 1000 IDs (Graph's limit), with a Graph token for the same operator credential the auth options
    select.
  - A principal that is not found but whose assignment is younger than O(grace_period) is reported in
    RV(not_replicated), never as orphaned - a principal created moments ago may not have replicated to every
    directory replica yet. Before anything is removed, the orphans' principals are looked up a second time; one found
    then is reported in RV(found_on_second_look) and kept.
  - Reports only, unless O(remove=true). Run in check mode first - the diff lists each assignment that would go.
author:
  - managed_identity.azure contributors (@managed-identity)
extends_documentation_fragment:
  - managed_identity.azure.auth
  - managed_identity.azure.attributes.check_mode_full
  - managed_identity.azure.attributes.diff_mode_full
  - managed_identity.azure.attributes.action_group
attributes:
  check_mode:
    details: With O(remove=true), reports what would be removed and removes nothing.
  diff_mode:
    details: The orphaned assignments before and after.
options:
  scope:
    description:
      - The ARM scope to sweep; assignments made at it and below it are looked at (inherited ones are made elsewhere
        and are not). Defaults to the subscription O(subscription_id), or its resource group O(resource_group).
    type: str
  resource_group:
    description:
      - With O(subscription_id), sweeps the resource group. Mutually exclusive with O(scope).
    type: str
  remove:
    description:
      - V(true) removes the orphaned assignments. V(false) (the default) only reports them.
    type: bool
    default: false
  grace_period:
    description:
      - Seconds. An assignment younger than this whose principal is not found is reported as not yet replicated, not
        as orphaned. Default one hour - Entra ID replication usually takes minutes.
    type: float
    default: 3600
  graph_endpoint:
    description:
      - The Microsoft Graph base URL. Default - the cloud's (V(https://graph.microsoft.com) for V(AzureCloud)).
        Required for a custom cloud (O(arm_endpoint) or O(authority_host) given), and for US Government L5 (DoD),
        V(https://dod-graph.microsoft.us).
    type: str
notes:
  - The operator needs C(Microsoft.Authorization/roleAssignments/read) (and C(/delete) with O(remove=true)) on the
    scope, and the Microsoft Graph application permission C(Directory.Read.All) (with admin consent) to look principals
    up.
seealso:
  - module: managed_identity.azure.role_assignment_info
  - module: managed_identity.azure.role_assignment_set
  - name: Azure portal - role assignments with "Identity not found"
    link: https://learn.microsoft.com/azure/role-based-access-control/troubleshooting#role-assignments-with-identity-not-found
    description: Why orphaned assignments appear and why they are safe to remove.
"""

EXAMPLES = r"""
- name: Which role assignments in the subscription belong to deleted identities?
  managed_identity.azure.role_assignment_orphans:
    subscription_id: "{{ subscription_id }}"
  register: sweep

- name: Remove them (run with --check --diff first)
  managed_identity.azure.role_assignment_orphans:
    scope: /subscriptions/{{ subscription_id }}/resourceGroups/rg-web
    remove: true
"""

RETURN = r"""
orphans:
  description: The orphaned assignments (removed, with O(remove=true); in check mode, that would be removed).
  returned: always
  type: list
  elements: dict
  contains: &assignment
    id:
      description: The role assignment ID.
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
      description: The role's name.
      type: str
      sample: Reader
    principal_id:
      description: The object ID of the principal the assignment was made for.
      type: str
      sample: 3f2b8e7c-4a1d-4c9e-9a77-1d2e3f4a5b6c
    principal_type:
      description: The principal's type as Azure recorded it.
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
      description: When the assignment was made (ARM's C(createdOn)).
      type: str
      sample: "2025-01-01T12:00:00.0000000Z"
not_replicated:
  description: Assignments whose principal was not found but which are younger than O(grace_period); kept.
  returned: always
  type: list
  elements: dict
  contains: *assignment
found_on_second_look:
  description: Assignments whose principal was missing at first but found when looked up again; kept.
  returned: always
  type: list
  elements: dict
  contains: *assignment
checked:
  description: How many assignments made at or below the scope were checked.
  returned: always
  type: int
  sample: 12
"""

import time

from ansible_collections.managed_identity.azure.plugins.module_utils import _graph, _orphans, _rbac_sets, _roles
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    AzureError,
    ConfigurationError,
    PermissionDenied,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._module import AzureModule


def main():
    argument_spec = {
        "scope": {"type": "str"},
        "resource_group": {"type": "str"},
        "remove": {"type": "bool", "default": False},
        "grace_period": {"type": "float", "default": _orphans.DEFAULT_GRACE_PERIOD},
        "graph_endpoint": {"type": "str"},
    }
    module = AzureModule(argument_spec, supports_check_mode=True, mutually_exclusive=[["scope", "resource_group"]])
    params = module.params
    action = "find orphaned role assignments"
    try:
        if params["grace_period"] < 0:
            raise ConfigurationError(
                "grace_period: %s is negative. Give the age, in seconds, below which an assignment of a principal "
                "that is not found counts as not yet replicated (default 3600)." % params["grace_period"]
            )
        scope = _roles.scope_from_options(
            params["scope"], module.subscription_id(required=False), params["resource_group"]
        )
        action = "find orphaned role assignments at %s" % scope
        client = module.client
        assignments = _orphans.in_scope(_roles.list_assignments(client, scope), scope)
        graph = _graph.graph_client(params, params["graph_endpoint"], warn=module.warn)
        principals = [(a.get("properties") or {}).get("principalId") or "" for a in assignments]
        try:
            existing = _graph.existing_ids(graph, principals)
            sweep = _orphans.classify(assignments, existing, time.time(), params["grace_period"])
            if params["remove"]:
                _orphans.second_look(sweep, lambda ids: _graph.existing_ids(graph, ids))
        except PermissionDenied as err:
            err.message += (
                " Fix: grant the operator identity the Microsoft Graph application permission Directory.Read.All "
                "(with admin consent); it is needed to look principals up."
            )
            module.fail(err, "look up the principals of the role assignments at %s in Microsoft Graph" % scope)
        names = _rbac_sets.role_names(client, scope) if assignments else {}
        if params["remove"] and not module.check_mode:
            action = "remove orphaned role assignments at %s" % scope
            for assignment in sweep.orphans:
                _roles.delete_assignment(client, assignment["id"])
    except ConfigurationError as err:
        module.fail(err)
    except AzureError as err:
        module.fail(_roles.explain_denied(err, "Microsoft.Authorization/roleAssignments/read and /delete"), action)

    orphans = _rbac_sets.facts(sweep.orphans, names)
    removed = params["remove"] and bool(orphans)
    module.exit(
        changed=removed,
        orphans=orphans,
        not_replicated=_rbac_sets.facts(sweep.not_replicated, names),
        found_on_second_look=_rbac_sets.facts(sweep.found_on_second_look, names),
        checked=len(assignments),
        diff={
            "before": {"orphans": sorted(o["id"] for o in orphans)},
            "after": {"orphans": [] if removed else sorted(o["id"] for o in orphans)},
        },
    )


if __name__ == "__main__":
    main()
