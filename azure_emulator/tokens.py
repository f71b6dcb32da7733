"""RS256 access tokens with the claims Entra ID puts in them, the JWKS that verifies them, and verification.

The signing key lives in ``world.keys['signing']``: with ``--state`` it survives a restart, so tokens issued
before a restart stay valid after it.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import re
import secrets
import time
import uuid
from typing import TYPE_CHECKING

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from .audiences import is_graph_audience

if TYPE_CHECKING:
    from .knobs import Knobs
    from .world import Principal

MI_LIFETIME = 86700.0   # observed: exp - iat of real managed-identity tokens (activity-log dump)
SP_LIFETIME = 3599.0    # Entra v2 client-credentials docs: expires_in 3599
_CACHE_LIMIT = 20000

_RESOURCE_GROUPS = re.compile("/resourcegroups/", re.IGNORECASE)


class TokenError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind          # "malformed" | "signature" | "expired"
        self.message = message


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _new_signing_material() -> dict:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "accounts.accesscontrol.windows.net")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1825)).sign(key, hashes.SHA256()))
    return {"key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode(),
            "cert": cert.public_bytes(serialization.Encoding.PEM).decode()}


class TokenIssuer:
    def __init__(self, tenant_id: str, knobs: Knobs, keys: dict, clock=time.time) -> None:
        if "key" not in keys:
            keys.update(_new_signing_material())
        self.tenant_id = tenant_id
        self.knobs = knobs
        self._clock = clock
        self._key = serialization.load_pem_private_key(keys["key"].encode(), None)
        self._public = self._key.public_key()
        cert = x509.load_pem_x509_certificate(keys["cert"].encode())
        der = cert.public_bytes(serialization.Encoding.DER)
        self.kid = _b64url(hashlib.sha1(der).digest())  # noqa: S324 (x5t is defined as a SHA-1 thumbprint)
        self._x5c = base64.b64encode(der).decode()
        self._verified: dict[str, dict] = {}
        self.graph_endpoint = ""  # set once the Graph listener is bound

    # -- issuing ---------------------------------------------------------------------------------------------
    def sign(self, claims: dict, *, x5t: bool = True) -> str:
        headers = {"typ": "JWT", "kid": self.kid}
        if x5t:
            headers["x5t"] = self.kid
        return jwt.encode(claims, self._key, algorithm="RS256", headers=headers)

    def default_lifetime(self, principal: Principal) -> float:
        if self.knobs.token_lifetime is not None:
            return self.knobs.token_lifetime
        return MI_LIFETIME if principal.kind == "managed_identity" else SP_LIFETIME

    def issue(self, principal: Principal, audience: str, *, version: str = "1.0", lifetime: float | None = None,
              extra: dict | None = None) -> tuple[str, dict]:
        """An access token for ``principal`` with ``aud=audience``; returns (token, claims)."""
        now = int(self._clock())
        life = lifetime if lifetime is not None else self.default_lifetime(principal)
        acr = "2" if principal.kind == "managed_identity" else "1"
        sts = f"https://sts.windows.net/{self.tenant_id}/"
        claims: dict = {"aud": audience}
        if version == "1.0":
            claims.update({"iss": sts, "iat": now, "nbf": now, "exp": now + int(life),
                           "aio": _b64url(secrets.token_bytes(48)), "appid": principal.client_id,
                           "appidacr": acr, "idp": sts})
        else:
            claims.update({"iss": f"https://login.microsoftonline.com/{self.tenant_id}/v2.0", "iat": now,
                           "nbf": now, "exp": now + int(life), "aio": _b64url(secrets.token_bytes(48)),
                           "azp": principal.client_id, "azpacr": acr})
        claims.update({"idtyp": "app", "oid": principal.object_id,
                       "rh": f"0.{_b64url(uuid.UUID(self.tenant_id).bytes + secrets.token_bytes(16))}.",
                       "sub": principal.object_id, "tid": self.tenant_id, "uti": _b64url(secrets.token_bytes(16)),
                       "ver": version})
        if principal.mi_resource_id:
            # Real MI tokens spell the segment 'resourcegroups' in lower case, whatever the resource's casing
            # (observed; azure-reference section 5).
            claims["xms_mirid"] = _RESOURCE_GROUPS.sub("/resourcegroups/", principal.mi_resource_id)
        if principal.graph_roles and is_graph_audience(audience, self.graph_endpoint):
            # Application permissions granted on Microsoft Graph travel in "roles" (access-token-claims-reference).
            claims["roles"] = list(principal.graph_roles)
        if extra:
            claims.update(extra)
        if version != "1.0" and "appidacr" in claims:
            claims["azpacr"] = claims.pop("appidacr")
        return self.sign(claims, x5t=version == "1.0"), claims

    # -- verifying -------------------------------------------------------------------------------------------
    def verify(self, token: str) -> dict:
        """Check signature and expiry; the caller checks the audience. Verified tokens are cached by string."""
        claims = self._verified.get(token)
        if claims is None:
            try:
                claims = jwt.decode(token, self._public, algorithms=["RS256"],
                                    options={"verify_aud": False, "verify_exp": False, "verify_nbf": False,
                                             "verify_iat": False})
            except jwt.InvalidSignatureError:
                raise TokenError("signature", "The signature of the access token is invalid.") from None
            except jwt.PyJWTError:
                raise TokenError("malformed", "The access token is invalid.") from None
            if len(self._verified) >= _CACHE_LIMIT:
                self._verified.clear()
            self._verified[token] = claims
        if claims.get("exp", 0) <= self._clock():
            raise TokenError("expired", "The access token has expired.")
        return claims

    def jwks(self, issuer: str | None = None) -> dict:
        numbers = self._public.public_numbers()
        key = {"kty": "RSA", "use": "sig", "kid": self.kid, "x5t": self.kid, "n": _int_b64(numbers.n),
               "e": _int_b64(numbers.e), "x5c": [self._x5c]}
        if issuer:
            key["issuer"] = issuer
        return {"keys": [key]}
