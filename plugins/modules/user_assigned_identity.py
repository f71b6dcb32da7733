#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: user_assigned_identity
short_description: Create or delete an Azure user-assigned managed identity
version_added: 0.1.0
description:
  - Ensures a user-assigned managed identity exists (with its tags) or does not exist.
  - A shared user-assigned identity is the recommended mode for large fleets; one role assignment covers every VM
    it is attached to (see M(managed_identity.azure.vm_identity)).
author:
  - managed_identity.azure contributors (@managed-identity)
extends_documentation_fragment:
  - managed_identity.azure.auth
  - managed_identity.azure.attributes.check_mode_full
  - managed_identity.azure.attributes.diff_mode_full
  - managed_identity.azure.attributes.action_group
options:
  resource_group:
    description:
      - The resource group of the identity.
    type: str
    required: true
  name:
    description:
      - The name of the identity.
    type: str
    required: true
  location:
    description:
      - The Azure region of a new identity. Defaults to the resource group's location.
      - An existing identity cannot move; a different location fails.
    type: str
  tags:
    description:
      - The tags of the identity, replacing all existing tags. Not set leaves the tags as they are.
    type: dict
  update_tags:
    description:
      - V(false) writes O(tags) only when this module creates the identity; an identity that exists already keeps
        its tags (for example a record of who created it), so a run that finds it writes nothing.
    type: bool
    default: true
  state:
    description:
      - V(present) creates the identity or updates its tags; V(absent) deletes it.
      - Deleting an identity removes its principal; role assignments to it stop working.
    type: str
    default: present
    choices: [present, absent]
seealso:
  - module: managed_identity.azure.vm_identity
  - module: managed_identity.azure.role_assignment
"""

EXAMPLES = r"""
- name: A shared identity for the web fleet
  managed_identity.azure.user_assigned_identity:
    subscription_id: "{{ subscription_id }}"
    resource_group: demo-rg
    name: web-fleet
    tags:
      owner: platform
  register: fleet_identity

- name: Grant it Reader on the resource group
  managed_identity.azure.role_assignment:
    subscription_id: "{{ subscription_id }}"
    resource_group: demo-rg
    principal_id: "{{ fleet_identity.principal_id }}"
    role: Reader
"""

RETURN = r"""
id:
  description: The identity's resource ID.
  returned: when the identity exists or would be created
  type: str
  sample: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg/providers/\
    Microsoft.ManagedIdentity/userAssignedIdentities/web-fleet"
name:
  description: The identity's name.
  returned: when the identity exists or would be created
  type: str
  sample: web-fleet
location:
  description: The identity's region.
  returned: when the identity exists or would be created
  type: str
  sample: eastus
tags:
  description: The identity's tags.
  returned: when the identity exists or would be created
  type: dict
  sample: {owner: platform}
client_id:
  description: The identity's client (application) ID, used to select it on a VM (null in check mode on create).
  returned: when the identity exists or would be created
  type: str
  sample: 4024ab25-56a8-4370-aea6-6389221caf29
principal_id:
  description: The identity's principal (object) ID, used in role assignments (null in check mode on create).
  returned: when the identity exists or would be created
  type: str
  sample: 25cc773c-7f05-40fc-a104-32d2300754ad
tenant_id:
  description: The identity's tenant ID (null in check mode on create).
  returned: when the identity exists or would be created
  type: str
  sample: b6c948ef-f6b5-4384-8354-da3a15eca969
"""

from ansible_collections.managed_identity.azure.plugins.module_utils import _arm_identities
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    AzureError,
    ConfigurationError,
    NotFoundError,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._module import AzureModule
from ansible_collections.managed_identity.azure.plugins.module_utils._resource_ids import (
    RESOURCE_GROUPS_API_VERSION,
    location_key,
    resource_group_id,
)


def group_location(client, subscription_id, resource_group):
    try:
        return client.get(resource_group_id(subscription_id, resource_group), RESOURCE_GROUPS_API_VERSION)["location"]
    except NotFoundError as err:
        raise ConfigurationError(
            "resource_group: %r was not found in subscription %s (%s). Create it first or fix the name."
            % (resource_group, subscription_id, err)
        ) from err


def ensure_present(client, path, current, params, subscription_id, check_mode):
    """(changed, resource after) for state=present."""
    if current is None:
        location = params["location"] or group_location(client, subscription_id, params["resource_group"])
        body = {"location": location, "tags": params["tags"] or {}}
    else:
        if params["location"] and location_key(params["location"]) != location_key(current.get("location")):
            raise ConfigurationError(
                "location: identity %s is in %r, not %r; an identity cannot move. Drop location, or delete the "
                "identity (state=absent) and create it again (its principal and client IDs will change)."
                % (current.get("id"), current.get("location"), params["location"])
            )
        if not params["update_tags"] or params["tags"] is None or params["tags"] == (current.get("tags") or {}):
            return False, current
        body = {"location": current["location"], "tags": params["tags"]}
    if check_mode:
        predicted = dict(current or {"id": path, "name": params["name"]})
        predicted.update(body)
        return True, predicted
    response = client.request(
        "PUT", path, api_version=_arm_identities.MSI_API_VERSION, body=body, expected_status=(200, 201)
    )
    return True, response.body


def main():
    argument_spec = {
        "resource_group": {"type": "str", "required": True},
        "name": {"type": "str", "required": True},
        "location": {"type": "str"},
        "tags": {"type": "dict"},
        "update_tags": {"type": "bool", "default": True},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    }
    module = AzureModule(argument_spec, supports_check_mode=True)
    params = module.params
    action = "ensure user-assigned identity %r is %s" % (params["name"], params["state"])
    try:
        subscription_id = module.subscription_id()
        path = _arm_identities.uami_path(subscription_id, params["resource_group"], params["name"])
        current = module.client.get_or_none(path, _arm_identities.MSI_API_VERSION)
        if params["state"] == "present":
            changed, after = ensure_present(module.client, path, current, params, subscription_id, module.check_mode)
        else:
            changed, after = current is not None, None
            if changed and not module.check_mode:
                module.client.request(
                    "DELETE", path, api_version=_arm_identities.MSI_API_VERSION, expected_status=(200, 204)
                )
    except ConfigurationError as err:
        module.fail(err)
    except AzureError as err:
        module.fail(err, action)

    result = _arm_identities.uami_facts(after) if after else {}
    module.exit(
        changed=changed,
        diff={"before": _arm_identities.uami_facts(current) if current else {}, "after": result},
        **result,
    )


if __name__ == "__main__":
    main()
