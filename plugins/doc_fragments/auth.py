# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The shared auth options of every controller-side module; the argspec is plugins/module_utils/_auth_options.py.
    DOCUMENTATION = r"""
options:
  auth_source:
    description:
      - How to authenticate to Azure Resource Manager.
      - V(auto) tries, in this order, a service principal with a secret (O(client_secret) or E(AZURE_CLIENT_SECRET)),
        workload identity (O(federated_token_file) or E(AZURE_FEDERATED_TOKEN_FILE)), the managed identity of the
        host running the module, and the Azure CLI login; when none works the failure lists what was tried.
        A source that is configured but refused (for example a wrong secret) fails at once.
        When O(access_token) is given, V(auto) uses it.
      - V(service_principal) uses O(tenant_id), O(client_id) and O(client_secret).
      - V(workload_identity) exchanges the federated token in O(federated_token_file) for an ARM token (AKS workload
        identity, GitHub Actions OIDC, ...), with O(tenant_id) and O(client_id).
      - V(managed_identity) uses the managed identity of the host running the module (the controller, usually
        C(localhost)); O(client_id), O(object_id) or O(msi_res_id) select a user-assigned identity.
        E(AZURE_POD_IDENTITY_AUTHORITY_HOST) redirects IMDS, as in the Azure SDKs.
      - V(cli) runs C(az account get-access-token) and needs the Azure CLI logged in on the controller.
      - V(token) uses O(access_token) as is; it cannot be renewed.
    type: str
    default: auto
    choices: [auto, service_principal, workload_identity, managed_identity, cli, token]
  tenant_id:
    description:
      - The Microsoft Entra tenant (directory) ID of the service principal or workload identity.
      - Defaults to the environment variable E(AZURE_TENANT_ID).
    type: str
  client_id:
    description:
      - The application (client) ID of the service principal or workload identity, or with
        O(auth_source=managed_identity) the client ID of a user-assigned managed identity.
      - Defaults to the environment variable E(AZURE_CLIENT_ID).
    type: str
  client_secret:
    description:
      - The client secret of the service principal. Never shown in output or messages.
      - Defaults to the environment variable E(AZURE_CLIENT_SECRET).
    type: str
  federated_token_file:
    description:
      - Path of a file holding the federated token (a JWT) for workload identity; it is read again whenever a new
        ARM token is needed, so a rotated file is picked up.
      - Defaults to the environment variable E(AZURE_FEDERATED_TOKEN_FILE).
    type: path
  object_id:
    description:
      - With O(auth_source=managed_identity), the object (principal) ID of the user-assigned identity to use.
    type: str
  msi_res_id:
    description:
      - With O(auth_source=managed_identity), the ARM resource ID of the user-assigned identity to use.
    type: str
  access_token:
    description:
      - An ARM access token to use as is, with O(auth_source=token) (or V(auto)). Never shown in output or messages.
    type: str
  subscription_id:
    description:
      - The Azure subscription ID, for modules that work in a subscription.
      - Defaults to the environment variable E(AZURE_SUBSCRIPTION_ID). It is never guessed from the subscriptions
        the credential can see.
    type: str
  cloud:
    description:
      - The Azure cloud. Sets the ARM endpoint, the Entra ID authority host and the ARM token audience.
      - O(arm_endpoint), O(authority_host) and O(audience) override single values, for a custom cloud
        (Azure Stack Hub, or an emulator).
    type: str
    default: AzureCloud
    choices: [AzureChinaCloud, AzureCloud, AzureUSGovernment]
  arm_endpoint:
    description:
      - Base URL of Azure Resource Manager, for example V(https://management.azure.com), overriding the O(cloud)'s.
      - The access token is only ever sent to this scheme, host and port; a paging or polling URL elsewhere is refused.
    type: str
  authority_host:
    description:
      - Base URL of the Microsoft Entra ID authority, for example V(https://login.microsoftonline.com), overriding
        the O(cloud)'s.
      - Defaults to the environment variable E(AZURE_AUTHORITY_HOST).
    type: str
  audience:
    description:
      - The audience (resource) ARM tokens are requested for, overriding the O(cloud)'s, for example
        V(https://management.core.windows.net/). Entra ID scopes are built as the audience followed by C(/.default).
    type: str
  ca_path:
    description:
      - Path of a PEM file with a CA certificate to trust in addition to the default ones, for example a private CA
        or the offline emulator's. TLS certificates are always verified; there is no option to turn that off.
      - The default ones are the system's CA certificates, or the bundle that E(REQUESTS_CA_BUNDLE) or
        E(CURL_CA_BUNDLE) names (E(SSL_CERT_FILE) and E(SSL_CERT_DIR) work as in OpenSSL).
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP answer from ARM and from the Entra ID token endpoint.
    type: float
    default: 30
  max_wait:
    description:
      - Seconds that retries of one request to ARM or Entra ID may spend waiting in total (throttling with
        C(Retry-After), 5xx answers, dropped connections), with exponential backoff and jitter.
      - With O(auth_source=managed_identity), never less than 80, the retry budget of the identity endpoints
        (IMDS can need up to 70 seconds after an identity update).
    type: float
    default: 120
  token_cache:
    description:
      - Keep ARM access tokens in a cache on the controller, shared by every module run, the
        M(managed_identity.azure.token) lookup and later plays of the same user, so that a fleet run asks Entra ID
        for one token per identity and audience instead of one per task (many identical requests get
        C(429 AADSTS50196), Entra ID's client request loop detection).
      - A token is reused until 5 minutes before it expires; when ARM refuses it as expired or revoked, it is dropped
        and fetched again, once.
      - Only access tokens are kept, never a client secret or a federated token, in files readable by their owner
        only (see O(token_cache_dir)).
      - Applies to V(service_principal), V(workload_identity) and V(managed_identity); V(cli) uses the Azure CLI's
        own cache, V(token) uses the token given.
      - Defaults to the environment variable E(ANSIBLE_AZURE_TOKEN_CACHE), else V(true).
    type: bool
  token_cache_dir:
    description:
      - Directory of the token cache. Created with mode C(0700); modules refuse to use it, or a token file in it,
        when its mode lets anyone but its owner in.
      - Defaults to the environment variable E(ANSIBLE_AZURE_TOKEN_CACHE_DIR), else
        C(~/.ansible/managed_identity_azure/token_cache).
    type: path
notes:
  - All controller-side modules of this collection are in the action group C(managed_identity.azure.azure), so
    C(module_defaults) for C(group/managed_identity.azure.azure) sets these options once.
  - Requests carry the User-Agent C(managed_identity.azure/<version>); E(AZURE_HTTP_USER_AGENT) is appended when set.
  - ARM and Entra ID are reached through the proxy that E(HTTPS_PROXY) (or E(ALL_PROXY)) names, as an
    C(http://[user:password@]host:port) URL, except for the hosts E(NO_PROXY) lists, as curl and requests do.
"""
