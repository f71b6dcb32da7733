# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small HTTP/1.1 client on the standard library, for every HTTP exchange of the collection.

Importing ``requests`` (with urllib3 and its CA bundle) costs a module run more than the rest of
its work, and a fleet run starts a module process per VM and step: the collection needs nothing
but Python. Two ways in:

- ``request`` / ``send``: one request per connection, never through a proxy, no redirect, TLS
  verified against the system's CAs or pinned to one certificate. For the host-local identity
  endpoints (IMDS is "not supported behind a proxy", instance-metadata-service.md; an identity
  header must not travel on; Service Fabric pins its certificate).
- ``Session``: ARM and Entra ID from the controller. Keeps one connection per origin alive for the
  run, goes through the proxy that ``HTTPS_PROXY`` / ``ALL_PROXY`` name unless ``NO_PROXY`` exempts
  the host (as requests and curl do), verifies TLS with the ``ssl.SSLContext`` it is given.

Errors say whether a connection was never made (nothing reached the server) or broke on the way
(the server may have acted); their text never holds headers, bodies or proxy credentials.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import select
import socket
import ssl
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Union
from urllib.parse import unquote, urlencode, urlsplit

from ansible_collections.managed_identity.azure.plugins.module_utils import _tls_trust
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import ConfigurationError
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


class Proxy:
    """An HTTP proxy that tunnels TLS with CONNECT; ``authorization`` is the Proxy-Authorization value, if any."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url if "://" in url else "http://" + url)
        if parts.scheme != "http" or not parts.hostname:
            # The proxy's address is shown, never its credentials.
            raise ValueError(
                "the proxy %s://%s is not an http:// proxy URL (http://[user:password@]host:port)"
                % (parts.scheme, parts.hostname or "")
            )
        self.host = parts.hostname
        self.port = parts.port or 8080
        self.authorization: Optional[str] = None
        if parts.username is not None:
            pair = "%s:%s" % (unquote(parts.username), unquote(parts.password or ""))
            self.authorization = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")

    def __str__(self) -> str:
        return "proxy %s:%s" % (self.host, self.port)


PROXY_VARIABLES = ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


def environment_proxy(environ: Mapping[str, str]) -> Optional[Tuple[str, Proxy]]:
    """(variable, proxy) for the first of HTTPS_PROXY / ALL_PROXY (either case) that is set; ValueError, naming the
    variable, when its value is not an http:// proxy URL."""
    name = next((n for n in PROXY_VARIABLES if environ.get(n)), None)
    if name is None:
        return None
    try:
        return name, Proxy(environ[name])
    except ValueError as exc:
        raise ValueError("%s: %s" % (name, exc)) from None


def proxy_for(url: str, environ: Mapping[str, str]) -> Optional[Proxy]:
    """The proxy the environment names for an https URL (HTTPS_PROXY, else ALL_PROXY, either case), unless NO_PROXY
    names the host (a comma-separated list of host names, domain suffixes with or without a leading dot, or *)."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        return None
    configured = environment_proxy(environ)
    if not configured:
        return None
    host = (parts.hostname or "").lower()
    exempt = environ.get("no_proxy") or environ.get("NO_PROXY") or ""
    for entry in (e.strip().lower() for e in exempt.split(",")):
        entry = entry.split(":")[0] if entry.count(":") == 1 else entry
        if entry == "*" or (entry and (host == entry.lstrip(".") or host.endswith("." + entry.lstrip(".")))):
            return None
    return configured[1]


class _Connection(http.client.HTTPConnection):
    """A keep-alive connection whose every (re)connect goes through ``Session``'s proxy and TLS."""

    def __init__(
        self,
        scheme: str,
        host: str,
        port: int,
        context: Optional[ssl.SSLContext],
        proxy: Optional[Proxy],
        timeout: Tuple[float, float],
    ) -> None:
        super().__init__(host, port, timeout=timeout[1])
        self.scheme = scheme
        self.tls_context = context
        self.proxy = proxy
        self.timeouts = timeout

    def connect(self) -> None:
        connect_timeout, read_timeout = self.timeouts
        address = (self.proxy.host, self.proxy.port) if self.proxy else (self.host, self.port)
        try:
            sock = socket.create_connection(address, connect_timeout)
        except OSError as exc:
            raise Unreachable("%s%s" % (_reason(exc), " (%s)" % self.proxy if self.proxy else "")) from None
        if self.proxy:
            _tunnel(sock, self.host, self.port, self.proxy, connect_timeout)
        if self.scheme == "https":
            try:
                sock = (self.tls_context or _tls_trust.context()).wrap_socket(sock, server_hostname=self.host)
            except ssl.SSLError as exc:
                sock.close()
                raise TLSFailure(str(exc)) from None
            except OSError as exc:
                sock.close()
                raise Unreachable(_reason(exc)) from None
        sock.settimeout(read_timeout)
        self.sock = sock


def _tunnel(sock: socket.socket, host: str, port: int, proxy: Proxy, timeout: float) -> None:
    """CONNECT host:port through the proxy on ``sock``; Unreachable unless the proxy answers 2xx."""
    lines = ["CONNECT %s:%d HTTP/1.1" % (host, port), "Host: %s:%d" % (host, port)]
    if proxy.authorization:
        lines.append("Proxy-Authorization: " + proxy.authorization)
    try:
        sock.settimeout(timeout)
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
        answer = http.client.HTTPResponse(sock, method="CONNECT")
        answer.begin()
    except (OSError, http.client.HTTPException) as exc:
        sock.close()
        raise Unreachable("%s (%s)" % (_reason(exc), proxy)) from None
    if not 200 <= answer.status < 300:
        sock.close()
        raise Unreachable("the %s answered CONNECT with HTTP %s %s" % (proxy, answer.status, answer.reason))


class Session:
    """Connections for one run: kept alive per origin, through the environment's proxy, TLS verified by ``context``
    (``None``: ``_tls_trust``'s store without ca_path). Not thread-safe; one per module run or plugin."""

    def __init__(self, context: Optional[ssl.SSLContext] = None, environ: Optional[Mapping[str, str]] = None) -> None:
        self.context = context
        self._environ: Mapping[str, str] = environ if environ is not None else {}
        self._connections: Dict[Tuple[str, str, int], _Connection] = {}

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Optional[Mapping[str, str]] = None,
        json_body: Any = None,
        data: Optional[Mapping[str, str]] = None,
        timeout: Union[float, Tuple[float, float]] = (10.0, 30.0),
    ) -> Response:
        """Send one request and read the whole answer, whatever its status; redirects are returned, not followed.

        ``json_body`` is sent as JSON, ``data`` as a form. A kept-alive connection that the server has closed
        meanwhile is replaced before anything is sent on it. Raises ``ValueError`` for a URL or header that
        cannot be sent, otherwise ``TransportError`` subclasses."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the URL must be http:// or https:// with a host name")
        target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        send_headers = dict(headers or {})
        for name, value in send_headers.items():
            if "\r" in value or "\n" in value:
                raise ValueError("the value of the %s header contains a line break" % name)
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode("utf-8")
            send_headers.setdefault("Content-Type", "application/json")
        elif data is not None:
            body = urlencode(data).encode("ascii")
            send_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        timeouts = timeout if isinstance(timeout, tuple) else (float(timeout), float(timeout))
        key = (parts.scheme, parts.hostname.lower(), parts.port or (443 if parts.scheme == "https" else 80))
        connection = self._connections.get(key)
        if connection is not None and connection.sock is not None and _closed_by_peer(connection.sock):
            connection.close()
        if connection is None:
            proxy = proxy_for(url, self._environ)
            connection = _Connection(key[0], key[1], key[2], self.context, proxy, timeouts)
            self._connections[key] = connection
        connection.timeouts = timeouts
        connection.timeout = timeouts[1]
        try:
            connection.request(method, target, body=body, headers=send_headers)
            answer = connection.getresponse()
            content = answer.read()
        except TransportError:
            connection.close()
            raise
        except socket.timeout as exc:
            connection.close()
            raise TimedOut(_reason(exc)) from None
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise Interrupted(_reason(exc)) from None
        if answer.will_close:
            connection.close()
        return Response(answer.status, answer.msg, content)

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()


def _closed_by_peer(sock: socket.socket) -> bool:
    """Whether the server closed an idle kept-alive connection: an idle connection has nothing to read unless the
    server closed it (or sent what no request asked for); either way it is not used again."""
    try:
        readable = select.select([sock], [], [], 0)[0]
    except (OSError, ValueError):
        return True
    return bool(readable)


def _tls(sock: socket.socket, host: str, pin_sha1: Optional[str], ca_path: Optional[str] = None) -> ssl.SSLSocket:
    if pin_sha1:
        # The pin replaces CA and host name checks, as in the Azure SDKs for Service Fabric: its
        # cluster-generated certificate has no CA, and IDENTITY_SERVER_THUMBPRINT names it.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        try:
            context = _tls_trust.context(ca_path)
        except ConfigurationError as exc:
            sock.close()
            raise ValueError(str(exc)) from None
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
