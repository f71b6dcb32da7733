# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ARM client: one ``_http.Session`` per module run (kept-alive connections), a bearer token reused within the run,
retries (429 with ``Retry-After``, 5xx, dropped connections), long-running operations, paging,
and Azure's error bodies turned into ``_errors.ArmError``.

The token only goes to the configured ARM endpoint (scheme, host and port): a ``nextLink`` or
polling URL anywhere else is refused before anything is sent.
"""

from __future__ import annotations

import contextlib
import os
import platform
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

from ansible.module_utils.ansible_release import __version__ as ANSIBLE_VERSION

from ansible_collections.managed_identity.azure.plugins.module_utils import _http, _tls_trust
from ansible_collections.managed_identity.azure.plugins.module_utils._auth_options import (
    DEFAULT_MAX_WAIT,
    DEFAULT_TIMEOUT,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import Cloud, origin, origin_text
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    ArmError,
    AzureError,
    ConfigurationError,
    NotFoundError,
    PermissionDenied,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._retry import (
    ARM_RETRY_STATUSES,
    RetryPolicy,
    parse_retry_after,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._version import (
    COLLECTION_NAME,
    COLLECTION_VERSION,
)

# Response headers worth returning: IDs support asks for, throttling budget, LRO and concurrency hints.
SAFE_HEADERS = (
    "x-ms-request-id",
    "x-ms-correlation-request-id",
    "x-ms-routing-request-id",
    "etag",
    "retry-after",
    "location",
    "azure-asyncoperation",
)
SAFE_HEADER_PREFIXES = ("x-ms-ratelimit-remaining-",)
# async-operations.md: anything else ("Accepted", "Creating", "Updating", "InProgress", ...) is still running.
TERMINAL_STATES = ("succeeded", "failed", "canceled", "cancelled")
FAILED_STATES = ("failed", "canceled", "cancelled")
# A 401 for these means the token itself is dead (expired, or revoked / signed by a rolled-over key), so one new
# token may fix it; the credential drops it from the token cache too. Other 401s (wrong audience, tenant) would only
# fail again with a new token.
RENEW_ON_401 = ("ExpiredAuthenticationToken", "InvalidAuthenticationToken")


@dataclass
class ArmResponse:
    status_code: int
    body: Any = None  # parsed JSON, or None
    headers: Dict[str, str] = field(default_factory=dict)  # SAFE_HEADERS only, lower-case names

    @property
    def request_id(self) -> Optional[str]:
        return self.headers.get("x-ms-request-id")


def safe_headers(headers: Mapping[str, str]) -> Dict[str, str]:
    kept = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in SAFE_HEADERS or lowered.startswith(SAFE_HEADER_PREFIXES):
            kept[lowered] = value
    return kept


def build_user_agent(extra: Optional[str] = None) -> str:
    parts = [
        "%s/%s" % (COLLECTION_NAME, COLLECTION_VERSION),
        "ansible-core/%s" % ANSIBLE_VERSION,
        "python/%s" % platform.python_version(),
    ]
    if extra:
        parts.append(extra)
    return " ".join(parts)


def build_session(ca_path: Optional[str] = None, environ: Optional[Mapping[str, str]] = None) -> _http.Session:
    """The run's connections (ARM and Entra ID share them). TLS is always verified; ``ca_path`` adds a trusted CA to
    the system's; the environment's HTTPS_PROXY / NO_PROXY apply."""
    env = os.environ if environ is None else environ
    try:
        _http.environment_proxy(env)  # a proxy URL that cannot be used fails here, before any request
    except ValueError as exc:
        raise ConfigurationError("%s; set it to http://[user:password@]host:port or unset it" % exc) from None
    return _http.Session(_tls_trust.context(ca_path, env), env)


def _error_from(response: Any, action: Optional[str]) -> ArmError:
    """Azure's error envelope ``{"error": {"code", "message"}}`` as the matching ArmError."""
    try:
        body = response.json()
    except ValueError:
        body = None
    code = message = None
    if isinstance(body, dict):
        error = body.get("error") if isinstance(body.get("error"), dict) else body
        code = error.get("code")
        message = error.get("message")
    if not message:
        text = " ".join((getattr(response, "text", "") or "").split())[:300]
        message = text or (getattr(response, "reason", None) or "no error body")
    status = response.status_code
    if status == 401 and code == "InvalidAuthenticationTokenAudience":
        message += " (the token audience comes from the cloud and audience options)"
    if getattr(response, "gave_up", None):
        message = "%s Gave up after %s." % (str(message).rstrip(), response.gave_up)
    cls = NotFoundError if status == 404 else PermissionDenied if status == 403 else ArmError
    return cls(
        str(message),
        status=status,
        code=code,
        request_id=response.headers.get("x-ms-request-id"),
        correlation_id=response.headers.get("x-ms-correlation-request-id"),
        action=action,
        body=body,
    )


def _json(response: Any) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


class ArmClient:
    """Calls ARM for one module run. ``max_wait`` is the retry budget of each request, in seconds."""

    def __init__(
        self,
        cloud: Cloud,
        credential: Any,
        *,
        ca_path: Optional[str] = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_wait: float = DEFAULT_MAX_WAIT,
        session: Optional[_http.Session] = None,
        user_agent: Optional[str] = None,
        poll_interval: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cloud = cloud
        self.credential = credential
        self.timeout = timeout
        self.max_wait = max_wait
        self.session = session if session is not None else build_session(ca_path)
        self.user_agent = build_user_agent(user_agent)
        self.poll_interval = poll_interval
        self._sleep = sleep
        self._clock = clock
        self._origin = origin(cloud.arm_endpoint)

    # URLs -----------------------------------------------------------------------------------
    def url(
        self, path_or_url: str, api_version: Optional[str] = None, query: Optional[Mapping[str, Any]] = None
    ) -> str:
        """An absolute URL on the ARM endpoint; absolute URLs elsewhere are a ConfigurationError."""
        if not path_or_url.startswith("/") and "://" in path_or_url:
            self._check_host(path_or_url, "url", user_given=True)
            url = path_or_url
        else:
            url = self.cloud.arm_endpoint + "/" + path_or_url.lstrip("/")
        if api_version is None and not query:
            return url
        parts = urlsplit(url)
        params = list(parse_qsl(parts.query, keep_blank_values=True))
        extra: Dict[str, Any] = dict(query or {})
        if api_version is not None:
            extra["api-version"] = api_version
        params = [(k, v) for k, v in params if k not in extra]
        params += [(k, "" if v is None else str(v)) for k, v in extra.items()]
        return urlunsplit(parts._replace(query=urlencode(params, quote_via=quote)))

    def _check_host(self, url: str, what: str, user_given: bool = False) -> None:
        if origin(url) == self._origin:
            return
        message = "refusing to send the ARM token to %s (%s): it is not the configured ARM endpoint %s" % (
            origin_text(url),
            what,
            origin_text(self.cloud.arm_endpoint),
        )
        if user_given:
            raise ConfigurationError(message + "; set arm_endpoint (or cloud) to call another ARM endpoint")
        raise ArmError(message + "; nothing was sent there", code="UntrustedHost")

    # One exchange, with token renewal and retries ----------------------------------------------
    def _send(
        self,
        method: str,
        url: str,
        body: Any = None,
        headers: Optional[Mapping[str, str]] = None,
        what: str = "request",
    ) -> Any:
        self._check_host(url, what)
        policy = RetryPolicy(self.max_wait, ARM_RETRY_STATUSES, sleep=self._sleep, clock=self._clock)
        renewed = False
        idempotent = method.upper() != "POST"
        while True:
            token = self.credential.get_token(force_refresh=False)
            send_headers = {
                "Accept": "application/json",
                "User-Agent": self.user_agent,
                "x-ms-client-request-id": str(uuid.uuid4()),
            }
            send_headers.update(headers or {})
            send_headers["Authorization"] = "Bearer " + token.token
            try:
                response = self.session.request(
                    method.upper(), url, json_body=body, headers=send_headers, timeout=self.timeout
                )
            except _http.TLSFailure as exc:
                raise ArmError(
                    "TLS with %s failed: %s. Check the system's CAs, or give ca_path the CA that signed the "
                    "endpoint's certificate" % (origin_text(url), exc.reason),
                    code="TLSFailure",
                ) from None
            except _http.TransportError as exc:
                # A POST that may have reached ARM is not sent twice; one whose connection never opened did not.
                safe_to_retry = idempotent or isinstance(exc, _http.Unreachable)
                if safe_to_retry and policy.wait_before_retry(None):
                    continue
                text = "no answer from %s" % origin_text(url)
                if isinstance(exc, _http.TimedOut):
                    text = "%s did not answer within timeout %s s per attempt" % (origin_text(url), self.timeout)
                raise ArmError("%s (%s): %s" % (text, exc.reason, policy.summary())) from None
            status = response.status_code
            if (
                status == 401
                and not renewed
                and getattr(self.credential, "renewable", True)
                and _error_code(response) in RENEW_ON_401
            ):
                renewed = True
                self.credential.get_token(force_refresh=True)
                continue
            # 429 means ARM did not process the request, so even a POST can be sent again.
            if (
                status in ARM_RETRY_STATUSES
                and (idempotent or status == 429)
                and policy.wait_before_retry(status, parse_retry_after(response.headers))
            ):
                continue
            if status in ARM_RETRY_STATUSES and (idempotent or status == 429):  # the message says how long we tried
                response.gave_up = policy.summary()
            return response

    # Public API ----------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        api_version: Optional[str] = None,
        body: Any = None,
        query: Optional[Mapping[str, Any]] = None,
        headers: Optional[Mapping[str, str]] = None,
        expected_status: Optional[Iterable[int]] = None,
        wait: bool = False,
        wait_timeout: float = 1800,
        action: Optional[str] = None,
    ) -> ArmResponse:
        """One ARM call. With ``wait``, follows a long-running operation to its end and returns the
        final resource (a GET of the original URL for PUT/PATCH). ``expected_status``, when given,
        lists the statuses that are not errors; otherwise any status >= 400 raises."""
        method = method.upper()
        url = self.url(path_or_url, api_version, query)
        with _step("%s %s" % (method, urlsplit(path_or_url).path or path_or_url)):
            response = self._send(method, url, body, headers)
            expected = frozenset(expected_status) if expected_status else None
            if (expected is not None and response.status_code not in expected) or (
                expected is None and response.status_code >= 400
            ):
                raise _error_from(response, action)
            if wait and response.status_code < 300:
                return self._wait(method, url, response, wait_timeout, action)
            return ArmResponse(response.status_code, _json(response), safe_headers(response.headers))

    def get(
        self, path: str, api_version: str, *, query: Optional[Mapping[str, Any]] = None, action: Optional[str] = None
    ) -> Any:
        """The resource's body; NotFoundError on 404."""
        return self.request("GET", path, api_version=api_version, query=query, action=action).body

    def get_or_none(
        self, path: str, api_version: str, *, query: Optional[Mapping[str, Any]] = None, action: Optional[str] = None
    ) -> Any:
        try:
            return self.get(path, api_version, query=query, action=action)
        except NotFoundError:
            return None

    def list(
        self, path: str, api_version: str, *, query: Optional[Mapping[str, Any]] = None, action: Optional[str] = None
    ) -> List[Any]:
        """Every item of a collection, following ``nextLink`` (on the ARM endpoint only)."""
        with _step("list %s" % path):
            return self.list_pages(self.url(path, api_version, query), action)[0]

    def list_pages(self, url: str, action: Optional[str]) -> tuple[List[Any], ArmResponse]:
        """(all items, the last page's response) starting from an absolute ARM URL."""
        items: List[Any] = []
        seen = set()
        what = "request"
        while True:
            response = self._send("GET", url, what=what)
            if response.status_code >= 400:
                raise _error_from(response, action)
            body = _json(response) or {}
            items.extend(body.get("value") or [])
            next_link = body.get("nextLink")
            if not next_link:
                return items, ArmResponse(response.status_code, body, safe_headers(response.headers))
            if next_link in seen:
                raise ArmError(
                    "ARM returned the same nextLink twice (%s); stopping" % urlsplit(next_link).path, action=action
                )
            seen.add(next_link)
            url, what = urljoin(url, next_link), "nextLink"

    # Long-running operations ----------------------------------------------------------------
    def _wait(self, method: str, url: str, first: Any, wait_timeout: float, action: Optional[str]) -> ArmResponse:
        """async-operations.md: Azure-AsyncOperation first, then Location, then provisioningState."""
        deadline = self._clock() + wait_timeout
        async_url = first.headers.get("Azure-AsyncOperation")
        location = first.headers.get("Location")
        if async_url:
            done = self._poll(
                urljoin(url, async_url),
                first,
                deadline,
                action,
                "Azure-AsyncOperation",
                lambda r: _state(_json(r), "status") in TERMINAL_STATES,
            )
            operation = _json(done) or {}
            if _state(operation, "status") in FAILED_STATES:
                raise _operation_error(operation, done, action)
            if method in ("PUT", "PATCH"):
                return self._final_get(url, action)
            if method == "POST" and location:
                return self._finish_location(urljoin(url, location), done, deadline, action)
            return ArmResponse(done.status_code, operation, safe_headers(done.headers))
        if location and first.status_code in (201, 202):
            result = self._finish_location(urljoin(url, location), first, deadline, action)
            return self._final_get(url, action) if method in ("PUT", "PATCH") else result
        body = _json(first)
        if method in ("PUT", "PATCH") and isinstance(body, dict):
            state = _state(body.get("properties"), "provisioningState")
            if state and state not in TERMINAL_STATES:
                done = self._poll(
                    url,
                    first,
                    deadline,
                    action,
                    "provisioningState",
                    lambda r: _state((_json(r) or {}).get("properties"), "provisioningState") in TERMINAL_STATES,
                )
                final = _json(done) or {}
                if _state(final.get("properties"), "provisioningState") in FAILED_STATES:
                    raise _operation_error(final, done, action)
                return ArmResponse(done.status_code, final, safe_headers(done.headers))
        return ArmResponse(first.status_code, body, safe_headers(first.headers))

    def _finish_location(self, location: str, previous: Any, deadline: float, action: Optional[str]) -> ArmResponse:
        # A Location poll answers 202 while running, then 200 (with the result) or 204.
        done = self._poll(location, previous, deadline, action, "Location", lambda r: r.status_code != 202)
        return ArmResponse(done.status_code, _json(done), safe_headers(done.headers))

    def _final_get(self, url: str, action: Optional[str]) -> ArmResponse:
        response = self._send("GET", url)
        if response.status_code >= 400:
            raise _error_from(response, action)
        return ArmResponse(response.status_code, _json(response), safe_headers(response.headers))

    def _poll(
        self,
        poll_url: str,
        previous: Any,
        deadline: float,
        action: Optional[str],
        what: str,
        finished: Callable[[Any], bool],
    ) -> Any:
        self._check_host(poll_url, "%s polling URL" % what)
        while True:
            pause = parse_retry_after(previous.headers)
            pause = self.poll_interval if pause is None else pause
            if self._clock() + pause > deadline:
                raise ArmError(
                    "the operation was still running when the wait timed out (last answer HTTP %s)"
                    % previous.status_code,
                    code="OperationTimeout",
                    request_id=previous.headers.get("x-ms-request-id"),
                    correlation_id=previous.headers.get("x-ms-correlation-request-id"),
                    action=action,
                )
            self._sleep(pause)
            response = self._send("GET", poll_url, what="%s polling URL" % what)
            if response.status_code >= 400:
                raise _error_from(response, action)
            if finished(response):
                return response
            previous = response


@contextlib.contextmanager
def _step(step: str) -> Iterator[None]:
    """Name the ARM call on any error raised within it, below the action the caller names in the user's terms."""
    try:
        yield
    except AzureError as err:
        if err.step is None:
            err.step = step
        raise


def _error_code(response: Any) -> Optional[str]:
    body = _json(response)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("code")
    return None


def _state(body: Any, key: str) -> str:
    if isinstance(body, dict) and isinstance(body.get(key), str):
        return body[key].lower()
    return ""


def _operation_error(operation: Mapping[str, Any], response: Any, action: Optional[str]) -> ArmError:
    """The operation's own error (``{"status": "Failed", "error": {"code", "message"}}``)."""
    error = operation.get("error") or (operation.get("properties") or {}).get("error") or {}
    state = operation.get("status") or (operation.get("properties") or {}).get("provisioningState")
    return ArmError(
        error.get("message") or "the operation ended in state %s" % state,
        code=error.get("code") or state,
        request_id=response.headers.get("x-ms-request-id"),
        correlation_id=response.headers.get("x-ms-correlation-request-id"),
        action=action,
        body=operation,
    )
