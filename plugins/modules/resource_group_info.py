#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: resource_group_info
short_description: Read an Azure resource group
version_added: 0.1.0
author:
  - managed_identity.azure contributors (@managed-identity)
description:
  - Reads one resource group through Azure Resource Manager and returns its ID, name, location, provisioning state
    and tags.
  - A resource group that does not exist is not an error; RV(exists) is V(false).
  - This is the call that proves a managed identity can read what it was granted; a 403 fails with Azure's message
    and the reminder that a recent role assignment can take minutes to take effect.
extends_documentation_fragment:
  - managed_identity.azure.auth
  - managed_identity.azure.attributes.check_mode_full
  - managed_identity.azure.attributes.diff_mode_none
  - managed_identity.azure.attributes.action_group
options:
  name:
    description:
      - Name of the resource group (case-insensitive).
    type: str
    required: true
notes:
  - O(subscription_id) (or E(AZURE_SUBSCRIPTION_ID)) is required.
"""

EXAMPLES = r"""
- name: Read the resource group the VM was granted Reader on
  managed_identity.azure.resource_group_info:
    subscription_id: "{{ subscription_id }}"
    name: rg-demo
  register: rg

- name: From a VM, with the VM's own managed identity
  managed_identity.azure.resource_group_info:
    auth_source: managed_identity
    subscription_id: "{{ subscription_id }}"
    name: rg-demo
"""

RETURN = r"""
exists:
  description: Whether the resource group exists.
  returned: always
  type: bool
  sample: true
id:
  description: ARM resource ID of the resource group.
  returned: when RV(exists) is true
  type: str
  sample: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-demo
name:
  description: Name of the resource group, as Azure stores it.
  returned: when RV(exists) is true
  type: str
  sample: rg-demo
location:
  description: Azure region of the resource group.
  returned: when RV(exists) is true
  type: str
  sample: eastus
provisioning_state:
  description: Provisioning state of the resource group.
  returned: when RV(exists) is true
  type: str
  sample: Succeeded
tags:
  description: Tags of the resource group.
  returned: when RV(exists) is true
  type: dict
  sample: {"env": "demo"}
request_id:
  description: The C(x-ms-request-id) of the GET, for Azure support.
  returned: when ARM answered
  type: str
"""

from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    ArmError,
    AzureError,
    PermissionDenied,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._module import AzureModule
from ansible_collections.managed_identity.azure.plugins.module_utils._resource_ids import (
    RESOURCE_GROUPS_API_VERSION,
    resource_group_id,
)

# troubleshooting.md: role assignment changes can take up to 10 minutes to reach ARM's cache.
PROPAGATION_HINT = (
    " A role assignment made in the last few minutes may not have taken effect yet (up to 10 minutes);"
    " retry later or check the assignment's scope."
)


def main() -> None:
    azure = AzureModule({"name": {"type": "str", "required": True}}, supports_check_mode=True)
    name = azure.params["name"]
    action = "read resource group %s" % name
    try:
        subscription_id = azure.subscription_id()
        action = "read resource group %s in subscription %s" % (name, subscription_id)
        path = resource_group_id(subscription_id, name)
        response = azure.client.request(
            "GET",
            path,
            api_version=RESOURCE_GROUPS_API_VERSION,
            expected_status=[200, 404],
            action=action,
        )
    except PermissionDenied as err:
        err.message += PROPAGATION_HINT
        azure.fail(err, action)
    except AzureError as err:
        azure.fail(err, action)
    if response.status_code == 404:
        code = ((response.body or {}).get("error") or {}).get("code")
        if code and code != "ResourceGroupNotFound":
            # SubscriptionNotFound and the like: the question itself was wrong, not the answer "absent".
            azure.fail(
                ArmError(
                    response.body["error"].get("message") or code,
                    status=404,
                    code=code,
                    request_id=response.request_id,
                    correlation_id=response.headers.get("x-ms-correlation-request-id"),
                    step="GET %s" % path,
                ),
                action,
            )
        azure.exit(changed=False, exists=False, request_id=response.request_id)
    group = response.body or {}
    azure.exit(
        changed=False,
        exists=True,
        id=group.get("id"),
        name=group.get("name"),
        location=group.get("location"),
        provisioning_state=(group.get("properties") or {}).get("provisioningState"),
        tags=group.get("tags") or {},
        request_id=response.request_id,
    )


if __name__ == "__main__":
    main()
