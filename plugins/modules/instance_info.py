#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: instance_info
short_description: Describe the Azure VM the task runs on, from instance metadata
version_added: 0.1.0
description:
  - Reads the Azure Instance Metadata Service (IMDS) of the VM the task runs on and returns where the VM lives in
    Azure - subscription, resource group, name, resource ID, location and cloud - so roles need no IDs passed in.
  - Needs no credential and no identity. Transient IMDS answers (404, 410, 429, 5xx) are retried within O(max_wait).
  - The environment variable E(AZURE_POD_IDENTITY_AUTHORITY_HOST) moves IMDS, as in the Azure SDKs; O(endpoint)
    overrides both.
author:
  - managed_identity.azure contributors (@managed-identity)
extends_documentation_fragment:
  - managed_identity.azure.host_identity.connection
  - managed_identity.azure.attributes.check_mode_full
  - managed_identity.azure.attributes.diff_mode_none
seealso:
  - module: managed_identity.azure.token_info
  - name: Azure Instance Metadata Service
    link: https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service
    description: The metadata this module reads.
"""

EXAMPLES = r"""
- name: Where am I in Azure?
  managed_identity.azure.instance_info:
  register: vm

- name: Read this VM's resource group with its own identity
  ansible.builtin.uri:
    url: "https://management.azure.com{{ vm.resource_id | regex_replace('/providers/.*$', '') }}?api-version=2021-04-01"
    headers:
      Authorization: "Bearer {{ lookup('managed_identity.azure.token') }}"
  no_log: true
"""

RETURN = r"""
subscription_id:
  description: Subscription the VM belongs to.
  returned: success
  type: str
  sample: 8d10da13-8125-4ba9-a717-bf7490507b3d
resource_group:
  description: Resource group of the VM.
  returned: success
  type: str
  sample: my-rg
name:
  description: Name of the VM.
  returned: success
  type: str
  sample: vm1
vm_id:
  description: The VM's unique ID (C(vmId)).
  returned: success
  type: str
  sample: 02aab8a4-74ef-476e-8182-f6d2ba4166a6
resource_id:
  description: ARM resource ID of the VM.
  returned: success
  type: str
  sample: "/subscriptions/8d10da13-8125-4ba9-a717-bf7490507b3d/resourceGroups/my-rg\
    /providers/Microsoft.Compute/virtualMachines/vm1"
location:
  description: Azure region of the VM.
  returned: success
  type: str
  sample: westeurope
az_environment:
  description: The Azure cloud the VM runs in, as IMDS names it.
  returned: success
  type: str
  sample: AzurePublicCloud
os_type:
  description: Operating system type.
  returned: success
  type: str
  sample: Linux
vm_size:
  description: Size of the VM.
  returned: success
  type: str
  sample: Standard_B2s
tags:
  description: The VM's tags.
  returned: success
  type: dict
  sample: {"env": "prod"}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.managed_identity.azure.plugins.module_utils._errors import AzureError
from ansible_collections.managed_identity.azure.plugins.module_utils._host_identity_endpoints import (
    describe_instance,
    get_instance_metadata,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._host_identity_options import (
    CONNECTION_ARGSPEC,
    OptionAdapter,
    connection_kwargs,
)


def main() -> None:
    module = AnsibleModule(argument_spec=CONNECTION_ARGSPEC, supports_check_mode=True)
    try:
        compute = get_instance_metadata(**connection_kwargs(OptionAdapter.from_module(module)))
    except AzureError as err:
        module.fail_json(**err.with_action("read the instance metadata").fail_kwargs())
    module.exit_json(changed=False, **describe_instance(compute))


if __name__ == "__main__":
    main()
