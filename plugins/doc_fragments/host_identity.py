# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Managed identity selection: which identity endpoint, and which identity on it.
    # Argspec: plugins/module_utils/_host_identity_options.py IDENTITY_ARGSPEC.
    DOCUMENTATION = r"""
options:
  source:
    description:
      - Where the managed identity endpoint is.
      - V(auto) detects it from the environment in the order the Azure SDKs use
        (Service Fabric, App Service, Azure Machine Learning, Azure Arc, Cloud Shell), and otherwise uses IMDS.
      - V(imds) is the Azure Instance Metadata Service of a VM or VM scale set (C(http://169.254.169.254)); the
        environment variable E(AZURE_POD_IDENTITY_AUTHORITY_HOST) moves it, as in the Azure SDKs.
      - V(vm_extension) is the legacy VM extension endpoint C(http://localhost:50342). It still works where it is
        installed, but Microsoft replaced it with IMDS; the plugin warns when it is used.
      - V(app_service) uses E(IDENTITY_ENDPOINT) and E(IDENTITY_HEADER) (API version 2019-08-01), or the older
        E(MSI_ENDPOINT) and E(MSI_SECRET) (API version 2017-09-01).
      - V(arc) answers the Azure Arc agent's challenge. The key file is read only if it is a regular C(.key) file of
        at most 4096 bytes directly in C(/var/opt/azcmagent/tokens), without following symbolic links. Reading it
        needs root (C(become=true)).
      - V(service_fabric) uses E(IDENTITY_ENDPOINT), E(IDENTITY_HEADER) and pins the server certificate to
        E(IDENTITY_SERVER_THUMBPRINT).
      - V(azure_ml) uses E(MSI_ENDPOINT) and E(MSI_SECRET).
      - V(cloud_shell) returns the signed-in user's token in Azure Cloud Shell (not a managed identity).
    type: str
    default: auto
    choices: [auto, imds, vm_extension, app_service, arc, service_fabric, azure_ml, cloud_shell]
  client_id:
    description:
      - Client ID (application ID) of the user-assigned identity to use.
      - Without O(client_id), O(object_id) or O(msi_res_id) the endpoint uses the system-assigned identity,
        or the only user-assigned identity when there is no system-assigned one.
      - Sent under the name each source expects (C(client_id), or C(clientid) for the 2017-09-01 protocol).
      - Mutually exclusive with O(object_id) and O(msi_res_id).
    type: str
  object_id:
    description:
      - Object ID (principal ID) of the user-assigned identity to use.
      - Supported by V(imds), V(vm_extension) and V(app_service) (2019-08-01).
      - Mutually exclusive with O(client_id) and O(msi_res_id).
    type: str
  msi_res_id:
    description:
      - Azure resource ID of the user-assigned identity to use,
        C(/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>).
      - Sent as C(msi_res_id) to IMDS and as C(mi_res_id) to App Service and Azure Machine Learning.
      - Mutually exclusive with O(client_id) and O(object_id).
      - V(arc), V(service_fabric) and V(cloud_shell) take no selector; giving one is an error.
    type: str
"""

    # Reaching the endpoint. Argspec: plugins/module_utils/_host_identity_options.py CONNECTION_ARGSPEC.
    CONNECTION = r"""
options:
  endpoint:
    description:
      - URL to call instead of the one the source normally uses, for example to reach an emulator or a proxy
        sidecar.
      - For IMDS and the VM extension a base URL such as C(http://169.254.169.254) is enough; the standard path is
        added when the URL has none. Other sources take the full URL.
    type: str
  timeout:
    description:
      - Seconds to wait for each answer. Connecting gives up after at most 5 seconds, because identity endpoints are
        local to the host.
    type: float
    default: 10
  max_wait:
    description:
      - Total seconds to spend waiting between retries.
      - Retried, with exponential backoff and jitter, as Microsoft's IMDS guidance says - HTTP 404 and 410 (IMDS
        can need up to 70 seconds after an update), 429 (honouring C(Retry-After)), 5xx and dropped connections.
        Other 4xx answers are never retried.
      - An endpoint that does not accept connections at all fails at once.
      - V(0) disables retries.
    type: float
    default: 80
"""
