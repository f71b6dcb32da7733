# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The jwt_claims filter; documented in jwt_claims.yml."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Callable, Dict

from ansible.errors import AnsibleFilterError


def jwt_claims(token: Any) -> Dict[str, Any]:
    """The payload of a JWT as a dict. Errors never repeat the value: it is a bearer token."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        raise AnsibleFilterError(
            "jwt_claims: the value is not a JWT (a string of three dot-separated base64url parts); "
            "pass the access_token of a token response."
        )
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (binascii.Error, ValueError):
        raise AnsibleFilterError("jwt_claims: the JWT's payload is not base64url-encoded JSON.") from None
    if not isinstance(claims, dict):
        raise AnsibleFilterError("jwt_claims: the JWT's payload is not a JSON object.")
    return claims


class FilterModule:
    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {"jwt_claims": jwt_claims}
