#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_identity
short_description: Enable or disable managed identities on an Azure VM or VM scale set
version_added: 0.1.0
description:
  - Turns the system-assigned identity of a virtual machine or a virtual machine scale set on or off, and attaches
    or detaches user-assigned identities.
  - Only the C(identity) block is sent, in a PATCH with C(If-Match) on the resource's etag, so a concurrent change
    is not overwritten; when the resource changed since it was read, it is read again, the change is planned again
    from what is there now, and sent again.
  - Never drops an identity it was not asked to drop.
  - Waits for the update to finish.
author:
  - managed_identity.azure contributors (@managed-identity)
extends_documentation_fragment:
  - managed_identity.azure.auth
  - managed_identity.azure.attributes.check_mode_full
  - managed_identity.azure.attributes.diff_mode_full
  - managed_identity.azure.attributes.action_group
attributes:
  diff_mode:
    details: Returns the identity type, the system-assigned flag and the user-assigned IDs before and after.
options:
  resource_group:
    description:
      - The resource group of the virtual machine or scale set.
    type: str
    required: true
  name:
    description:
      - The name of the virtual machine or scale set.
    type: str
    required: true
  resource_type:
    description:
      - Whether O(name) is a virtual machine or a virtual machine scale set.
    type: str
    default: virtual_machine
    choices: [virtual_machine, virtual_machine_scale_set]
  system_assigned:
    description:
      - V(true) enables the system-assigned identity, V(false) disables it (its principal is deleted by Azure, and
        its role assignments stop working).
      - Not set leaves it as it is.
    type: bool
  user_assigned:
    description:
      - User-assigned identities, as full resource IDs or as names of identities in O(resource_group).
      - Not set leaves the user-assigned identities as they are.
    type: list
    elements: str
  user_assigned_mode:
    description:
      - V(add) attaches the identities in O(user_assigned) and keeps the others.
      - V(remove) detaches the identities in O(user_assigned) and keeps the others.
      - V(exact) leaves exactly the identities in O(user_assigned) attached (an empty list detaches all).
    type: str
    default: add
    choices: [add, remove, exact]
  ownership_tag:
    description:
      - A tag, one C(name) and C(value), that records on the resource itself that this module turned its
        system-assigned identity on, written in the same PATCH as the identity (merged with the resource's other
        tags), so the change and its record land together even when the run is interrupted or the reply is lost.
      - With O(system_assigned=true), the tag is added only when this run turns the identity on; an identity that
        was on already is not claimed.
      - With O(system_assigned=false), the identity is turned off only when the resource carries the tag (and the
        tag goes in the same PATCH); an identity someone else turned on stays on and the module reports no change
        for it.
      - Tag names are compared ignoring case, values exactly.
    type: dict
notes:
  - Needs Virtual Machine Contributor on the VM; attaching a user-assigned identity also needs Managed Identity
    Operator on that identity.
seealso:
  - module: managed_identity.azure.user_assigned_identity
  - module: managed_identity.azure.role_assignment
"""

EXAMPLES = r"""
- name: Enable the system-assigned identity, keeping any user-assigned ones
  managed_identity.azure.vm_identity:
    subscription_id: "{{ subscription_id }}"
    resource_group: demo-rg
    name: demo-vm
    system_assigned: true
  register: vm

- name: Attach a shared user-assigned identity to every instance of a scale set
  managed_identity.azure.vm_identity:
    resource_group: demo-rg
    name: demo-vmss
    resource_type: virtual_machine_scale_set
    user_assigned:
      - fleet-identity

- name: Detach one user-assigned identity, keep everything else
  managed_identity.azure.vm_identity:
    resource_group: demo-rg
    name: demo-vm
    user_assigned:
      - "{{ shared_identity_id }}"
    user_assigned_mode: remove

- name: Enable the system-assigned identity and record on the VM that this play did it
  managed_identity.azure.vm_identity:
    resource_group: demo-rg
    name: demo-vm
    system_assigned: true
    ownership_tag:
      managed_identity.azure: system-assigned-identity

- name: Later, turn it off again only if the record says this play turned it on
  managed_identity.azure.vm_identity:
    resource_group: demo-rg
    name: demo-vm
    system_assigned: false
    ownership_tag:
      managed_identity.azure: system-assigned-identity

- name: Remove every identity
  managed_identity.azure.vm_identity:
    resource_group: demo-rg
    name: demo-vm
    system_assigned: false
    user_assigned: []
    user_assigned_mode: exact
"""

RETURN = r"""
type:
  description: The resulting identity type.
  returned: success
  type: str
  sample: SystemAssigned, UserAssigned
principal_id:
  description:
    - The principal (object) ID of the system-assigned identity, for role assignments.
    - Null when there is none, and in check mode when it would be created.
  returned: success
  type: str
  sample: 3f2b8e7c-4a1d-4c9e-9a77-1d2e3f4a5b6c
tenant_id:
  description: The tenant of the system-assigned identity (null when there is none).
  returned: success
  type: str
  sample: 72f988bf-86f1-41af-91ab-2d7cd011db47
user_assigned:
  description: The attached user-assigned identities, by resource ID.
  returned: success
  type: dict
  sample:
    /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1:
      principal_id: 25cc773c-7f05-40fc-a104-32d2300754ad
      client_id: 4024ab25-56a8-4370-aea6-6389221caf29
"""

from ansible_collections.managed_identity.azure.plugins.module_utils import _arm_identities
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    AzureError,
    ConfigurationError,
    NotFoundError,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._module import AzureModule


def main():
    argument_spec = {
        "resource_group": {"type": "str", "required": True},
        "name": {"type": "str", "required": True},
        "resource_type": {"type": "str", "default": "virtual_machine", "choices": list(_arm_identities.RESOURCE_KINDS)},
        "system_assigned": {"type": "bool"},
        "user_assigned": {"type": "list", "elements": "str"},
        "user_assigned_mode": {"type": "str", "default": "add", "choices": list(_arm_identities.USER_ASSIGNED_MODES)},
        "ownership_tag": {"type": "dict"},
    }
    module = AzureModule(argument_spec, supports_check_mode=True)
    params = module.params
    kind, group, name, mode = (
        params["resource_type"],
        params["resource_group"],
        params["name"],
        params["user_assigned_mode"],
    )
    action = "update the identity of %s %r" % (_arm_identities.RESOURCE_KINDS[kind][1], name)
    try:
        subscription_id = module.subscription_id()
        ownership_tag = _arm_identities.check_ownership_tag(params["ownership_tag"])
        path = _arm_identities.resource_path(kind, subscription_id, group, name)
        requested = _arm_identities.requested_uamis(params["user_assigned"], subscription_id, group)
        known = {}
        if requested and mode != "remove":
            # Fail before any write when an identity to attach does not exist; its GET also gives its IDs.
            for uid in requested:
                known[uid.lower()] = _arm_identities.get_uami(module.client, uid)
        try:
            update = _arm_identities.update_identity(
                module.client,
                path,
                lambda current: _arm_identities.plan_identity(current, params["system_assigned"], requested, mode),
                check_mode=module.check_mode,
                ownership_tag=ownership_tag,
            )
        except NotFoundError as err:
            raise _arm_identities.missing_resource(err, kind, name, group, subscription_id) from err
    except ConfigurationError as err:
        module.fail(err)
    except AzureError as err:
        module.fail(err, action)

    if update.after is not None:
        facts = _arm_identities.identity_facts(update.after.get("identity"))
    elif update.changed:
        facts = _arm_identities.predicted_facts(update.before.get("identity"), update.after_state, known)
    else:
        facts = _arm_identities.identity_facts(update.before.get("identity"))
    module.exit(
        changed=update.changed,
        diff={
            "before": _arm_identities.diff_view(update.before_state),
            "after": _arm_identities.diff_view(update.after_state),
        },
        **facts,
    )


if __name__ == "__main__":
    main()
