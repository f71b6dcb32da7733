# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: token
short_description: Access token from the controller's own managed identity
version_added: 0.1.0
description:
  - Returns an access token from the managed identity of the machine the B(controller) runs on - AWX or Ansible
    Automation Platform on an Azure VM, a CI runner with an identity, an Arc-enabled server.
  - The controller-side twin of M(managed_identity.azure.token_info), with the same options through the same code.
  - One token per term; without terms, one token for O(resource).
  - The token is a secret. Use it only in tasks that set C(no_log=true).
author:
  - managed_identity.azure contributors (@managed-identity)
extends_documentation_fragment:
  - managed_identity.azure.host_identity
  - managed_identity.azure.host_identity.connection
options:
  _terms:
    description: Resources (App ID URIs) to get tokens for. Overrides O(resource).
    type: list
    elements: str
    required: false
  resource:
    description:
      - App ID URI of the service the token is for, when no term is given.
      - Keep the trailing slash of C(https://management.azure.com/).
    type: str
    default: https://management.azure.com/
  token_cache:
    description:
      - Keep tokens in the controller's token cache, shared with the modules of this collection and later plays, so
        that a lookup evaluated for every host asks the identity endpoint once per identity and resource.
      - A token is reused until 5 minutes before it expires. Only access tokens are kept, in files readable by their
        owner only.
    type: bool
    default: true
    env:
      - name: ANSIBLE_AZURE_TOKEN_CACHE
  token_cache_dir:
    description:
      - Directory of the token cache, created with mode C(0700); a directory or token file that anyone but its owner
        may read is refused.
    type: path
    default: ~/.ansible/managed_identity_azure/token_cache
    env:
      - name: ANSIBLE_AZURE_TOKEN_CACHE_DIR
seealso:
  - module: managed_identity.azure.token_info
"""

EXAMPLES = r"""
- name: Call ARM with the controller's identity
  ansible.builtin.uri:
    url: https://management.azure.com/subscriptions?api-version=2022-12-01
    headers:
      Authorization: "Bearer {{ lookup('managed_identity.azure.token') }}"
  delegate_to: localhost
  no_log: true

- name: Token for Key Vault from a user-assigned identity of the controller
  ansible.builtin.set_fact:
    vault_token: "{{ lookup('managed_identity.azure.token', 'https://vault.azure.net',
                     client_id='00000000-0000-0000-0000-000000000000') }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description: One access token per term (or one for O(resource)). Secrets.
  type: list
  elements: str
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.managed_identity.azure.plugins.module_utils import _token_cache
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import AzureError
from ansible_collections.managed_identity.azure.plugins.module_utils._host_identity_options import (
    OptionAdapter,
    fetch_access_token_cached,
    fetch_token,
)

display = Display()


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        options = OptionAdapter.from_plugin(self)
        tokens = []
        try:
            cache = (
                _token_cache.TokenCache(_token_cache.directory(options.get("token_cache_dir"), {}))
                if options.get("token_cache")
                else None
            )
            for resource in terms or [None]:
                if cache is not None:
                    tokens.append(fetch_access_token_cached(options, resource, cache, warn=display.warning))
                else:
                    tokens.append(fetch_token(options, resource, warn=display.warning).access_token)
        except AzureError as err:
            raise AnsibleLookupError(str(err)) from None
        return tokens
