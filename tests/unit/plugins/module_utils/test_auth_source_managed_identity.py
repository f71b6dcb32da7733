# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""auth_source=managed_identity: the host's own identity, and which user-assigned identity is asked for."""

from __future__ import annotations

from ansible_collections.managed_identity.azure.plugins.module_utils import _host_identity_endpoints
from ansible_collections.managed_identity.azure.plugins.module_utils._authenticator import build_credential
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.managed_identity.azure.plugins.module_utils._host_identity_endpoints import IdentityToken

CLIENT = "6b4a0c83-2a54-4d05-9a1c-9d1f4a2f2a07"
CLOUD = resolve_cloud(None, None, None, None)


def test_managed_identity_selects_user_assigned(monkeypatch):
    seen = {}

    def imds(resource, **kwargs):
        seen.update(kwargs)
        return IdentityToken("a.b.c", "Bearer", 1, resource, "imds", "http://x", None)

    monkeypatch.setattr(_host_identity_endpoints, "get_token", imds)
    params = {"auth_source": "managed_identity", "object_id": "oid-1"}
    build_credential(params, CLOUD, environ={"AZURE_CLIENT_ID": CLIENT}, session=None).get_token()
    assert seen["object_id"] == "oid-1" and seen["client_id"] is None  # env client id does not add a 2nd selector
    assert seen["max_wait"] >= 80
