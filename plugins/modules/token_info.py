#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: token_info
short_description: Get an access token from the host's own managed identity
version_added: 0.1.0
description:
  - Gets an OAuth 2.0 access token for O(resource) from the managed identity of the host the task runs on, with no
    credential in the playbook - the host proves who it is to the local identity endpoint.
  - On an Azure VM that is the Instance Metadata Service (IMDS); App Service, Azure Arc, Service Fabric, Azure Machine
    Learning and Cloud Shell are detected from the environment (see O(source)).
  - Returns what the token is (claims, expiry, source) and, only with O(return_token=true), the token itself. The token
    is a bearer credential - set C(no_log=true) on a task that asks for it, and pass it only to tasks that also set
    C(no_log=true). The module never puts the token in messages or warnings.
  - RV(claims) are decoded from the token without verifying its signature. They are informational (for example to
    check which principal the token is for); do not base trust decisions on them.
  - Transient answers are retried (see O(max_wait)); errors say what to fix (no identity on the host, a requested
    user-assigned identity that is not attached, several identities and no selector, an unknown O(resource)).
  - Use M(managed_identity.azure.instance_info) for the VM's subscription, resource group and name.
author:
  - managed_identity.azure contributors (@managed-identity)
extends_documentation_fragment:
  - managed_identity.azure.host_identity
  - managed_identity.azure.host_identity.connection
  - managed_identity.azure.attributes.check_mode_full
  - managed_identity.azure.attributes.diff_mode_none
attributes:
  check_mode:
    details: The module changes nothing; in check mode it still gets the token.
options:
  return_token:
    description:
      - Also return the token itself (RV(access_token)). Off by default, so a task without C(no_log) cannot print the
        bearer token, even at C(-vvv).
      - To check who a token is for, or when it expires, the default is enough.
    type: bool
    default: false
  resource:
    description:
      - App ID URI of the service the token is for; it becomes the token's C(aud) claim.
      - The default is Azure Resource Manager. Keep its trailing slash - C(https://management.azure.com/) - as the
        tutorials insist; Microsoft Entra ID compares the URI as text.
      - Other examples are C(https://vault.azure.net) and C(https://storage.azure.com/).
    type: str
    default: https://management.azure.com/
notes:
  - The token lasts as long as Azure says (about 24 hours for managed identities) and the endpoint caches it; asking
    again returns the same token until shortly before it expires.
  - For a controller that itself runs on Azure (AWX on a VM, a CI runner with an identity), the
    P(managed_identity.azure.token#lookup) lookup gets the same token with the same options.
seealso:
  - module: managed_identity.azure.instance_info
  - plugin: managed_identity.azure.token
    plugin_type: lookup
  - name: How to use managed identities on an Azure VM to acquire an access token
    link: https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token
    description: Microsoft's description of the IMDS token endpoint this module calls.
"""

EXAMPLES = r"""
# The tutorial's flow, run on the VM: token from the VM's own identity, then read the resource group with it.
- name: Discover the VM's subscription and resource group
  managed_identity.azure.instance_info:
  register: vm

- name: Get an ARM token from the VM's system-assigned identity
  managed_identity.azure.token_info:
    resource: https://management.azure.com/
    return_token: true
  register: arm_token
  no_log: true

- name: Show who the token is for (claims are not secret)
  ansible.builtin.debug:
    msg: "Token for principal {{ arm_token.claims.oid }}, expires {{ arm_token.expires_on_iso }}"

- name: Read the resource group with the token
  ansible.builtin.uri:
    url: "https://management.azure.com{{ rg_id }}?api-version=2021-04-01"
    headers:
      Authorization: "Bearer {{ arm_token.access_token }}"
  vars:
    rg_id: "/subscriptions/{{ vm.subscription_id }}/resourceGroups/{{ vm.resource_group }}"
  register: resource_group
  no_log: true

- name: Which principal does a user-assigned identity, chosen by its client ID, act as? (no token returned)
  managed_identity.azure.token_info:
    client_id: 00000000-0000-0000-0000-000000000000
  register: uami_token

- name: Token for Key Vault from a user-assigned identity chosen by resource ID
  managed_identity.azure.token_info:
    resource: https://vault.azure.net
    msi_res_id: "{{ app_identity.id }}"  # as returned by managed_identity.azure.user_assigned_identity
    return_token: true
  register: vault_token
  no_log: true

- name: Azure Arc machine - reading the agent's key needs root
  managed_identity.azure.token_info:
    source: arc
    return_token: true
  become: true
  register: arc_token
  no_log: true
"""

RETURN = r"""
access_token:
  description:
    - The bearer token. A secret - set C(no_log=true) on the task and on every task that uses it.
  returned: success, with O(return_token=true)
  type: str
  sample: eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9...
token_type:
  description: Token type, for the C(Authorization) header.
  returned: success
  type: str
  sample: Bearer
expires_on:
  description: When the token expires, in seconds since the epoch (the token's C(exp) claim).
  returned: success
  type: int
  sample: 1735732800
expires_on_iso:
  description: When the token expires, ISO 8601 in UTC.
  returned: success
  type: str
  sample: "2025-01-01T12:00:00Z"
expires_in:
  description: Seconds from now until the token expires.
  returned: success
  type: int
  sample: 86399
resource:
  description: The resource the token is for, as the endpoint reported it.
  returned: success
  type: str
  sample: https://management.azure.com/
source:
  description: The identity source that issued the token (the detected one when O(source=auto)).
  returned: success
  type: str
  sample: imds
endpoint:
  description: The URL that was called.
  returned: success
  type: str
  sample: http://169.254.169.254/metadata/identity/oauth2/token
client_id:
  description: Client ID of the identity, when the endpoint reports it (IMDS and App Service do).
  returned: success
  type: str
  sample: 6b4a0c83-2a54-4d05-9a1c-9d1f4a2f2a07
claims:
  description:
    - The token's claims, decoded WITHOUT verifying the signature. Informational only.
    - Empty if the token is not a JWT.
  returned: success
  type: dict
  sample:
    aud: https://management.azure.com/
    iss: https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/
    oid: 2b8e0c0d-6f0a-4a57-9c8a-2d5f0f3e1c11
    tid: 72f988bf-86f1-41af-91ab-2d7cd011db47
    appid: 6b4a0c83-2a54-4d05-9a1c-9d1f4a2f2a07
    idtyp: app
    xms_mirid: "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg\
      /providers/Microsoft.Compute/virtualMachines/vm1"
    exp: 1735732800
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.managed_identity.azure.plugins.module_utils._errors import AzureError, ConfigurationError
from ansible_collections.managed_identity.azure.plugins.module_utils._host_identity_endpoints import DEFAULT_RESOURCE
from ansible_collections.managed_identity.azure.plugins.module_utils._host_identity_options import (
    IDENTITY_ARGSPEC,
    MUTUALLY_EXCLUSIVE,
    OptionAdapter,
    describe_token,
    fetch_token,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            IDENTITY_ARGSPEC,
            resource={"type": "str", "default": DEFAULT_RESOURCE},
            return_token={"type": "bool", "default": False},
        ),
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    try:
        token = fetch_token(OptionAdapter.from_module(module), warn=module.warn)
    except ConfigurationError as err:
        module.fail_json(**err.fail_kwargs())
    except AzureError as err:
        # Errors raised deeper may already say what failed ("reach the managed identity endpoint"); a timeout does
        # not, and its message must still lead with the task.
        module.fail_json(**err.with_action("get a managed identity token").fail_kwargs())
    facts = describe_token(token)
    if module.params["return_token"]:
        facts["access_token"] = token.access_token
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()
