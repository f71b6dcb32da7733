#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: access_check
short_description: Prove from an Azure VM that its managed identity can read its resource group
version_added: 0.1.0
description:
  - Runs on the VM (or any host with a managed identity) and does, in one go, what Microsoft's tutorial "Use a VM's
    managed identity to access Resource Manager" does by hand - gets an access token from the host's own identity
    endpoint, checks that it is for the principal that was granted access (O(principal_id)), and reads the resource
    group (or, without a resource group, the subscription) through Azure Resource Manager with that token.
  - The token never leaves the host - it is not returned, not logged, and sent nowhere but to ARM. Only its
    non-secret claims are returned.
  - Needs only Python on the host (the standard library; no C(requests)).
  - Where the VM lives comes from instance metadata (IMDS) unless O(subscription_id) and O(resource_group) are given.
  - Throttling (429), server errors and broken connections are retried within O(max_wait). A C(403
    AuthorizationFailed), which is what a new role assignment looks like until it reaches ARM, fails at once with
    C(error_code=AuthorizationFailed), so that the caller can retry with C(until) and the waiting shows in the output
    (the C(managed_identity.azure.validate_access) role does).
  - With O(expect_actions) or O(forbid_actions), also checks what the identity may do at the scope it read, from
    ARM's own answer for the identity (C(Microsoft.Authorization/permissions), no role needed to ask) - every expected
    action granted, no forbidden one - and fails naming each missing action, and each excess permission with the
    role assignment that grants it (read with the same token; that takes C(roleAssignments/read) and
    C(roleDefinitions/read), which Reader has; without them the failure names the permission block instead).
author:
  - managed_identity.azure contributors (@managed-identity)
extends_documentation_fragment:
  - managed_identity.azure.host_identity
  - managed_identity.azure.host_identity.connection
  - managed_identity.azure.attributes.check_mode_full
  - managed_identity.azure.attributes.diff_mode_none
options:
  resource:
    description:
      - The resource the token is requested for (its audience). Keep the trailing slash.
      - For a sovereign cloud use its ARM audience, for example V(https://management.chinacloudapi.cn/).
    type: str
    default: https://management.azure.com/
  principal_id:
    description:
      - The principal (object) ID that was granted access; the token's C(oid) claim must be this one.
      - Not set skips that check (the token's C(oid) is still returned).
    type: str
  subscription_id:
    description:
      - The subscription to read in. Default - the VM's, from instance metadata.
    type: str
  resource_group:
    description:
      - The resource group to read. Default - the VM's, from instance metadata (when O(subscription_id) is not given
        either; with only O(subscription_id) given, the subscription itself is read).
    type: str
  metadata_endpoint:
    description:
      - Base URL of the Instance Metadata Service for the VM's location, when O(subscription_id) or O(resource_group)
        is not given. Default - O(endpoint) with O(source=imds), else C(http://169.254.169.254) (or
        E(AZURE_POD_IDENTITY_AUTHORITY_HOST)).
    type: str
  cloud:
    description:
      - The Azure cloud whose ARM to call.
    type: str
    default: AzureCloud
    choices: [AzureCloud, AzureChinaCloud, AzureUSGovernment]
  arm_endpoint:
    description:
      - The ARM base URL, instead of the cloud's (Azure Stack, a test double).
    type: str
  ca_path:
    description:
      - A PEM file on the host with one more CA to trust for ARM, besides the system's. TLS is always verified.
    type: str
  expect_actions:
    description:
      - Azure RBAC actions the identity must be granted at the scope it read, for example
        V(Microsoft.Resources/subscriptions/resourceGroups/read). A pattern with C(*) must be granted whole.
      - Missing ones fail the module with C(error_code=MissingPermissions) and list them in RV(missing_actions).
    type: list
    elements: str
    default: []
    version_added: 0.1.0
  forbid_actions:
    description:
      - Action patterns the identity must not be granted at the scope it read, in any part, for example V(*/write),
        V(*/delete) or V(Microsoft.Authorization/*/write). Patterns compare without regard to case and C(*) matches
        any characters, as in role definitions.
      - An excess fails the module with C(error_code=ExcessPermissions), naming each pattern and the role assignment
        (role, assignment ID and scope) that grants it; RV(excess_permissions) has the details.
      - Conservative - an action granted by one entry and carved out again only by a narrower C(notActions) entry of
        the same role counts as granted.
    type: list
    elements: str
    default: []
    version_added: 0.1.0
seealso:
  - module: managed_identity.azure.token_info
  - module: managed_identity.azure.instance_info
  - name: "Tutorial: Use a Linux VM's managed identity to access Azure Resource Manager"
    link: https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/tutorial-linux-managed-identities-vm-access
    description: The steps this module performs.
"""

EXAMPLES = r"""
- name: Read this VM's resource group with its own identity
  managed_identity.azure.access_check:
  register: access

- name: Wait until a new role assignment has reached ARM (up to 10 minutes), showing each retry
  managed_identity.azure.access_check:
    principal_id: "{{ vm_principal_id }}"
  register: access
  until: access is succeeded or access.error_code | default('') != 'AuthorizationFailed'
  retries: 60
  delay: 10

- name: Prove least privilege - the VM reads its resource group and can write nothing, at all
  managed_identity.azure.access_check:
    expect_actions:
      - Microsoft.Resources/subscriptions/resourceGroups/read
    forbid_actions:
      - "*/write"
      - "*/delete"
      - Microsoft.Authorization/*/write

- name: With a user-assigned identity, on a VM that has several
  managed_identity.azure.access_check:
    client_id: "{{ identity_client_id }}"
    resource_group: rg-web
"""

RETURN = r"""
principal_id:
  description: The token's C(oid) - the principal the host's identity acted as.
  returned: success
  type: str
  sample: 2b8e0c0d-6f0a-4a57-9c8a-2d5f0f3e1c11
source:
  description: The identity source that issued the token.
  returned: success
  type: str
  sample: imds
client_id:
  description: Client ID of the identity, when the endpoint reports it.
  returned: success
  type: str
  sample: 6b4a0c83-2a54-4d05-9a1c-9d1f4a2f2a07
expires_on_iso:
  description: When the token expires, ISO 8601 in UTC.
  returned: success
  type: str
  sample: "2025-01-01T12:00:00Z"
claims:
  description: The token's claims, decoded without verifying the signature (nothing in them is secret).
  returned: success
  type: dict
  sample:
    oid: 2b8e0c0d-6f0a-4a57-9c8a-2d5f0f3e1c11
    xms_mirid: "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg\
      /providers/Microsoft.Compute/virtualMachines/vm1"
scope:
  description: The ARM ID that was read.
  returned: success
  type: str
  sample: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg
resource:
  description: The resource group (or subscription) as ARM returned it to the host - the tutorial's output.
  returned: success
  type: dict
  sample:
    id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg
    name: rg
    location: westus
    properties:
      provisioningState: Succeeded
error_code:
  description:
    - Azure's error code on failure; V(AuthorizationFailed) while the role has not reached ARM.
    - V(MissingPermissions) or V(ExcessPermissions) when the O(expect_actions) or O(forbid_actions) check fails.
  returned: failure
  type: str
  sample: AuthorizationFailed
permissions:
  description: What ARM says the identity may do at the scope, one entry per permission block of each role assignment
    that applies there.
  returned: when O(expect_actions) or O(forbid_actions) is given
  type: list
  elements: dict
  sample:
    - actions: ["*/read"]
      notActions: []
      dataActions: []
      notDataActions: []
missing_actions:
  description: The entries of O(expect_actions) that are not granted.
  returned: when O(expect_actions) or O(forbid_actions) is given
  type: list
  elements: str
  sample: []
excess_permissions:
  description: The entries of O(forbid_actions) that are granted, each with the permission entries and the role
    assignments that grant it.
  returned: when O(expect_actions) or O(forbid_actions) is given
  type: list
  elements: dict
  sample:
    - action: "*/write"
      blocks:
        - actions: ["*"]
          notActions: []
      granted_by:
        - role_name: Owner
          role_definition_id: "/subscriptions/00000000-0000-0000-0000-000000000000/providers/\
            Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
          assignment_id: "/subscriptions/00000000-0000-0000-0000-000000000000/providers/\
            Microsoft.Authorization/roleAssignments/0b5e2a64-37a8-4a2b-9c8f-0f7a1d2b3c4d"
          scope: /subscriptions/00000000-0000-0000-0000-000000000000
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.managed_identity.azure.plugins.module_utils import _access, _permissions
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import CLOUDS, resolve_cloud
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import AzureError, ConfigurationError
from ansible_collections.managed_identity.azure.plugins.module_utils._host_identity_endpoints import (
    DEFAULT_RESOURCE,
    describe_instance,
    get_instance_metadata,
)
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
            principal_id={"type": "str"},
            subscription_id={"type": "str"},
            resource_group={"type": "str"},
            metadata_endpoint={"type": "str"},
            cloud={"type": "str", "default": "AzureCloud", "choices": list(CLOUDS)},
            arm_endpoint={"type": "str"},
            ca_path={"type": "str"},
            expect_actions={"type": "list", "elements": "str", "default": []},
            forbid_actions={"type": "list", "elements": "str", "default": []},
        ),
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    params = module.params
    checked = None
    action = "read the instance metadata"  # what a failure's message leads with; the ARM reads name their own
    try:
        expected = _permissions.check_patterns("expect_actions", params["expect_actions"])
        forbidden = _permissions.check_patterns("forbid_actions", params["forbid_actions"])
        cloud = resolve_cloud(params["cloud"], arm_endpoint=params["arm_endpoint"])
        subscription_id, resource_group = params["subscription_id"], params["resource_group"]
        if not subscription_id:
            metadata_endpoint = params["metadata_endpoint"]
            if not metadata_endpoint and params["source"] == "imds":
                metadata_endpoint = params["endpoint"]
            compute = get_instance_metadata(
                endpoint=metadata_endpoint, timeout=params["timeout"], max_wait=params["max_wait"]
            )
            vm = describe_instance(compute)
            subscription_id, resource_group = vm["subscription_id"], resource_group or vm["resource_group"]
        scope = _access.Scope(subscription_id, resource_group)
        action = "get a managed identity token"
        token = fetch_token(OptionAdapter.from_module(module), warn=module.warn)
        facts = describe_token(token)
        claims = facts["claims"]
        _access.check_principal(claims, params["principal_id"], token.source)
        resource = _access.read_scope(
            cloud,
            scope,
            token.access_token,
            principal=str(claims.get("oid") or "unknown"),
            ca_path=params["ca_path"],
            timeout=params["timeout"],
            max_wait=params["max_wait"],
        )
        if expected or forbidden:
            principal = str(claims.get("oid") or "unknown")
            action = "check the permissions of principal %s at %s" % (principal, scope)
            arm = _permissions.host_client(
                cloud,
                token.access_token,
                ca_path=params["ca_path"],
                timeout=params["timeout"],
                max_wait=params["max_wait"],
            )
            checked = _permissions.check(arm, scope.path, principal, expected, forbidden)
    except ConfigurationError as err:
        module.fail_json(**err.fail_kwargs())
    except AzureError as err:
        module.fail_json(**err.with_action(action).fail_kwargs())
    found = {}
    if checked is not None:
        found = {k: checked[k] for k in ("permissions", "missing_actions", "excess_permissions")}
        problems = []
        if checked["missing_actions"]:
            problems.append(
                "principal %s lacks %s at %s (expect_actions)."
                % (claims.get("oid"), ", ".join(checked["missing_actions"]), scope.path)
            )
        if checked["excess_permissions"]:
            problems.append(
                _permissions.describe_excess(
                    checked["excess_permissions"], str(claims.get("oid")), scope.path, checked["note"]
                )
            )
        if problems:
            module.fail_json(
                msg="check the permissions of the host's identity: " + " ".join(problems),
                error_code="ExcessPermissions" if checked["excess_permissions"] else "MissingPermissions",
                principal_id=claims.get("oid"),
                scope=scope.path,
                **found,
            )
    module.exit_json(
        changed=False,
        **found,
        principal_id=claims.get("oid"),
        source=facts["source"],
        client_id=facts["client_id"],
        expires_on_iso=facts["expires_on_iso"],
        claims=facts["claims"],
        scope=scope.path,
        resource=resource,
    )


if __name__ == "__main__":
    main()
