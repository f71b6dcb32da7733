# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every auth source shares: tokens are never shown, JWT expiry is read without verification."""

from __future__ import annotations

from ansible_collections.managed_identity.azure.plugins.module_utils._auth_source_base import AccessToken, jwt_expiry


def test_access_token_repr_hides_the_token():
    assert "x.y.z" not in repr(AccessToken("x.y.z", 5))


def test_jwt_expiry():
    assert jwt_expiry("e30.eyJleHAiOjEyM30.sig") == 123
    assert jwt_expiry("not-a-jwt") == 0
