# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small HTTP/1.1 client on the standard library, for the host-local identity endpoints.

Host-side modules run at every task on every host, and importing ``requests`` costs more than the
rest of such a module. Identity endpoints need little: one request per connection, no proxy (IMDS
is "not supported behind a proxy", instance-metadata-service.md), no redirect (an identity header
must not travel on), TLS verified against the system's CAs or pinned to one certificate (Service
Fabric). Errors say whether a connection was never made (nothing is there: do not retry) or broke
on the way (worth a retry); their text never holds headers or bodies.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
import ssl
from typing import Any, Callable, Mapping, Optional, Tuple
from urllib.parse import urlencode, urlsplit

from ansible_collections.managed_identity.azure.plugins.module_utils._retry import RetryPolicy, parse_retry_after


class TransportError(Exception):
    """No usable HTTP answer; ``reason`` is short ('Connection refused', 'timed out', ...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unreachable(TransportError):
    """The connection could not be opened: refused, no route, unknown host, connect timeout."""


class Interrupted(TransportError):
    """The connection opened but broke before a whole answer arrived (reset, closed early)."""


class TimedOut(Interrupted):
    """The connection opened but the answer did not come within the read timeout."""


class TLSFailure(TransportError):
    """The TLS handshake failed: the certificate is not trusted or TLS itself broke."""


class PinMismatch(TLSFailure):
    """The server's certificate is not the pinned one; nothing was sent."""


class Response:
    def __init__(self, status_code: int, headers: http.client.HTTPMessage, content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers  # case-insensitive .get(), like requests'
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        """The parsed body; ``ValueError`` when it is not JSON."""
        return json.loads(self.content)


def request(
    method: str,
    url: str,
    *,
    params: Optional[Mapping[str, str]] = None,
    headers: Optional[Mapping[str, str]] = None,
    data: Optional[Mapping[str, str]] = None,
    timeout: Tuple[float, float] = (5.0, 10.0),
    pin_sha1: Optional[str] = None,
    ca_path: Optional[str] = None,
) -> Response:
    """Send one request and read the whole answer, whatever its status; redirects are returned, not followed.

    ``params`` extend the URL's query, ``data`` is sent as a form, ``timeout`` is (connect, read) in
    seconds. ``pin_sha1`` (40 lower-case hex digits) trusts exactly the certificate with that SHA-1
    fingerprint instead of the CAs; ``ca_path`` (a PEM file) trusts one more CA besides the system's.
    Raises ``ValueError`` for a URL or header that cannot be sent, otherwise ``TransportError`` subclasses.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the URL must be http:// or https:// with a host name")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    query = "&".join(q for q in (parts.query, urlencode(params or {})) if q)
    target = (parts.path or "/") + ("?" + query if query else "")
    send_headers = {"Host": parts.netloc.rpartition("@")[2]}
    send_headers.update(headers or {})
    for name, value in send_headers.items():
        if "\r" in value or "\n" in value:
            raise ValueError("the value of the %s header contains a line break" % name)
    body = None
    if data is not None:
        body = urlencode(data).encode("ascii")
        send_headers["Content-Type"] = "application/x-www-form-urlencoded"

    connect_timeout, read_timeout = timeout
    try:
        sock = socket.create_connection((host, port), connect_timeout)
    except OSError as exc:
        raise Unreachable(_reason(exc)) from None
    if parts.scheme == "https":
        sock = _tls(sock, host, pin_sha1, ca_path)
    sock.settimeout(read_timeout)
    # The connection is ours (no proxy, TLS done above); http.client only writes and parses.
    connection = http.client.HTTPConnection(host, port, timeout=read_timeout)
    connection.sock = sock
    try:
        connection.request(method, target, body=body, headers=send_headers)
        answer = connection.getresponse()
        content = answer.read()
    except socket.timeout as exc:
        raise TimedOut(_reason(exc)) from None
    except (OSError, http.client.HTTPException) as exc:
        raise Interrupted(_reason(exc)) from None
    finally:
        connection.close()
    return Response(answer.status, answer.msg, content)


def send(
    method: str,
    url: str,
    policy: RetryPolicy,
    *,
    final: Callable[[Response], bool] = lambda response: False,
    **kwargs: Any,
) -> Response:
    """``request``, retried as ``policy`` says: a connection that broke or timed out, and the statuses the policy
    retries (waiting what ``Retry-After`` asks), unless ``final`` says that answer stands. What is left is returned,
    or raised as the ``TransportError`` of the last attempt; a connection never made is not retried."""
    while True:
        try:
            response = request(method, url, **kwargs)
        except Interrupted:
            if policy.wait_before_retry(None):
                continue
            raise
        if final(response) or not policy.wait_before_retry(response.status_code, parse_retry_after(response.headers)):
            return response


def _tls(sock: socket.socket, host: str, pin_sha1: Optional[str], ca_path: Optional[str] = None) -> ssl.SSLSocket:
    if pin_sha1:
        # The pin replaces CA and host name checks, as in the Azure SDKs for Service Fabric: its
        # cluster-generated certificate has no CA, and IDENTITY_SERVER_THUMBPRINT names it.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context = ssl.create_default_context()
        if ca_path:
            try:
                context.load_verify_locations(cafile=ca_path)
            except (OSError, ssl.SSLError) as exc:
                sock.close()
                raise ValueError("ca_path=%r cannot be used as a CA bundle (%s)" % (ca_path, _reason(exc))) from None
    try:
        tls = context.wrap_socket(sock, server_hostname=host)
    except ssl.SSLError as exc:
        sock.close()
        raise TLSFailure(str(exc)) from None
    except OSError as exc:
        sock.close()
        raise Interrupted(_reason(exc)) from None
    if pin_sha1:
        # SHA-1 because that is the fingerprint the platform publishes; it names a certificate, it signs nothing.
        presented = hashlib.sha1(tls.getpeercert(binary_form=True) or b"").hexdigest()  # noqa: S324
        if presented != pin_sha1:
            tls.close()
            raise PinMismatch("the server presented the certificate %s" % presented)
    return tls


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
