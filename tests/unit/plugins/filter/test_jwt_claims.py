# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.managed_identity.azure.plugins.filter.jwt_claims import FilterModule, jwt_claims


def _part(data) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _token(claims) -> str:
    return "%s.%s.%s" % (_part({"alg": "RS256", "typ": "JWT"}), _part(claims), "c2lnbmF0dXJl")


def test_claims_of_an_unpadded_base64url_payload():
    # "?>" encodes to "Pz4" in base64url: a payload with - or _ and no padding decodes as the JWT spec writes it.
    claims = {"oid": "2b8e0c0d-6f0a-4a57-9c8a-2d5f0f3e1c11", "aud": "https://management.azure.com/", "x": "?>?"}
    assert jwt_claims(_token(claims)) == claims
    assert FilterModule().filters()["jwt_claims"] is jwt_claims


@pytest.mark.parametrize(
    "value, message",
    [
        ("secret-opaque-token", "is not a JWT"),
        (None, "is not a JWT"),
        ("a.b.c.d", "is not a JWT"),
        ("aGVhZGVy.!!!secret!!!.c2ln", "not base64url-encoded JSON"),
        ("aGVhZGVy.%s.c2ln" % _part(b"secret not json"), "not base64url-encoded JSON"),
        ("aGVhZGVy.%s.c2ln" % _part(["secret"]), "not a JSON object"),
    ],
)
def test_a_value_that_is_not_a_jwt_fails_without_repeating_it(value, message):
    with pytest.raises(AnsibleFilterError) as raised:
        jwt_claims(value)
    assert message in str(raised.value)
    assert "secret" not in str(raised.value)
