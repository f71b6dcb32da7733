"""Authentication of ARM requests: the bearer token's signature, expiry, audience and issuer.

401 bodies and the ``WWW-Authenticate`` challenge follow azure-reference REFERENCE.md section 6 "401 / 403":
missing header -> AuthenticationFailed; expired -> ExpiredAuthenticationToken with US-style UTC times; wrong audience
-> InvalidAuthenticationTokenAudience listing the accepted audiences; wrong tenant -> InvalidAuthenticationTokenTenant
(observed text, Azure/azure-sdk-for-net#49391, Azure/pcs-cli#357); anything unreadable -> InvalidAuthenticationToken.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import jwt

from .errors import ArmError

if TYPE_CHECKING:
    from ..context import AppContext

ARM_AUDIENCES = (
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
)
_CACHE_LIMIT = 4096


@dataclass(frozen=True)
class Caller:
    object_id: str
    client_id: str
    claims: dict


def us_time(ts: float) -> str:
    """'8/17/2017 10:54:41 PM', the format ARM uses in ExpiredAuthenticationToken."""
    moment = datetime.fromtimestamp(ts, timezone.utc)
    hour = moment.hour % 12 or 12
    return (f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment.minute:02d}:{moment.second:02d} "
            f"{'AM' if moment.hour < 12 else 'PM'}")


class Authenticator:
    def __init__(self, context: AppContext) -> None:
        self.context = context
        self._verified: dict[str, dict] = {}

    @property
    def audiences(self) -> tuple[str, ...]:
        arm = self.context.arm_endpoint
        return ARM_AUDIENCES + (arm.rstrip("/") + "/", arm.rstrip("/"))

    def challenge(self, description: str) -> dict[str, str]:
        authority = self.context.authority_host.rstrip("/")
        tenant = self.context.world.tenant_id
        return {"WWW-Authenticate": f'Bearer authorization_uri="{authority}/{tenant}", error="invalid_token", '
                                    f'error_description="{description}"'}

    def fail(self, code: str, message: str, description: str | None = None) -> ArmError:
        return ArmError(401, code, message, headers=self.challenge(description or message))

    def authenticate(self, header: str | None) -> Caller:
        if not header:
            raise self.fail("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.",
                            "The authentication failed because of missing 'Authorization' header.")
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise self.fail("AuthenticationFailed",
                            "Authentication failed. The 'Authorization' header is provided in an invalid format.")
        claims = self._verified.get(token)
        now = time.time()
        if claims is None or claims.get("exp", 0) <= now:
            claims = self._verify(token, now)
        return Caller(object_id=str(claims.get("oid", "")), client_id=str(claims.get("appid") or claims.get("azp", "")),
                      claims=claims)

    def _verify(self, token: str, now: float) -> dict:
        from ..tokens import TokenError

        try:
            claims = self.context.issuer.verify(token)
        except TokenError as err:
            if err.kind == "expired":
                raise self._expired(token, now) from None
            raise self.fail("InvalidAuthenticationToken", "The access token is invalid.") from None
        aud = claims.get("aud")
        if aud not in self.audiences:
            allowed = ",".join(f"'{a}'" for a in self.audiences)
            raise self.fail("InvalidAuthenticationTokenAudience",
                            f"The access token has been obtained for wrong audience or resource '{aud}'. It should "
                            f"exactly match with one of the allowed audiences {allowed}.")
        tenant = self.context.world.tenant_id
        expected = (f"https://sts.windows.net/{tenant}/", f"https://login.microsoftonline.com/{tenant}/v2.0")
        issuer = claims.get("iss", "")
        if issuer.lower() not in expected or str(claims.get("tid", "")).lower() != tenant.lower():
            authority = self.context.authority_host.rstrip("/")
            raise self.fail("InvalidAuthenticationTokenTenant",
                            f"The access token is from the wrong issuer '{issuer}'. It must match the tenant "
                            f"'https://sts.windows.net/{tenant}/' associated with this subscription. Please use the "
                            f"authority (URL) '{authority}/{tenant}' to get the token. Note, if the subscription is "
                            "transferred to another tenant there is no impact to the services, but information about "
                            "new tenant could take time to propagate (up to an hour). If you just transferred your "
                            "subscription and see this error message, please try back later.")
        if len(self._verified) >= _CACHE_LIMIT:
            self._verified.clear()
        self._verified[token] = claims
        return claims

    def _expired(self, token: str, now: float) -> ArmError:
        try:
            exp = float(jwt.decode(token, options={"verify_signature": False}).get("exp", now))
        except jwt.PyJWTError:
            exp = now
        return self.fail("ExpiredAuthenticationToken",
                         f"The access token expiry UTC time '{us_time(exp)}' is earlier than current UTC time "
                         f"'{us_time(now)}'.")
