"""ARM authentication without a running emulator: the 401 bodies that need hand-made tokens (another tenant,
expiry formatting) and the challenge header."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from azure_emulator.arm.auth import Authenticator, us_time
from azure_emulator.arm.errors import ArmError
from azure_emulator.tokens import TokenError

TENANT = "28676654-7b46-4e5c-9a0a-4b3c1cfe5e6b"
OTHER = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"


class FakeIssuer:
    def __init__(self, claims: dict | None = None, error: TokenError | None = None) -> None:
        self.claims, self.error = claims, error

    def verify(self, token: str) -> dict:
        if self.error:
            raise self.error
        return dict(self.claims or {})


def authenticator(issuer: FakeIssuer) -> Authenticator:
    emulator = SimpleNamespace(arm_endpoint="https://127.0.0.1:4443/", authority_host="https://127.0.0.1:4444/",
                               world=SimpleNamespace(tenant_id=TENANT), issuer=issuer)
    return Authenticator(emulator)


def claims(**overrides: object) -> dict:
    base = {"aud": "https://management.azure.com/", "iss": f"https://sts.windows.net/{TENANT}/", "tid": TENANT,
            "oid": "11111111-1111-1111-1111-111111111111", "appid": "22222222-2222-2222-2222-222222222222",
            "exp": 4102444800}
    base.update(overrides)
    return base


def test_us_time_matches_arm_format() -> None:
    assert us_time(1502999681) == "8/17/2017 7:54:41 PM"
    assert us_time(1502928000) == "8/17/2017 12:00:00 AM"


def test_token_from_another_tenant() -> None:
    auth = authenticator(FakeIssuer(claims(iss=f"https://sts.windows.net/{OTHER}/", tid=OTHER)))
    with pytest.raises(ArmError) as caught:
        auth.authenticate("Bearer x.y.z")
    err = caught.value
    assert (err.status, err.code) == (401, "InvalidAuthenticationTokenTenant")
    assert err.message.startswith(f"The access token is from the wrong issuer 'https://sts.windows.net/{OTHER}/'. "
                                  f"It must match the tenant 'https://sts.windows.net/{TENANT}/' associated with this "
                                  f"subscription. Please use the authority (URL) 'https://127.0.0.1:4444/{TENANT}' "
                                  "to get the token.")
    assert err.headers["WWW-Authenticate"].startswith(
        f'Bearer authorization_uri="https://127.0.0.1:4444/{TENANT}", error="invalid_token", error_description="')


def test_emulator_endpoint_is_an_accepted_audience() -> None:
    for audience in ("https://127.0.0.1:4443/", "https://127.0.0.1:4443", "https://management.core.windows.net/"):
        caller = authenticator(FakeIssuer(claims(aud=audience))).authenticate("Bearer t")
        assert caller.object_id == "11111111-1111-1111-1111-111111111111"
        assert caller.client_id == "22222222-2222-2222-2222-222222222222"


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer  "])
def test_header_in_an_invalid_format(header: str) -> None:
    with pytest.raises(ArmError) as caught:
        authenticator(FakeIssuer(claims())).authenticate(header)
    assert (caught.value.status, caught.value.code) == (401, "AuthenticationFailed")
    assert caught.value.message == "Authentication failed. The 'Authorization' header is provided in an invalid format."


def test_bad_signature_is_an_invalid_token() -> None:
    auth = authenticator(FakeIssuer(error=TokenError("signature", "bad")))
    with pytest.raises(ArmError) as caught:
        auth.authenticate("Bearer a.b.c")
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        401, "InvalidAuthenticationToken", "The access token is invalid.")
