#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test stand-in for ansible.windows.win_uri (see ../../README.md), written on urllib.

Modelled on the real module's documentation and win_uri.ps1 (ansible.windows 3.3.0):
- an HTTP error status is a response, not an exception: the result carries it (status_code, headers, content, json)
  and only then fails when the status is not in ``status_code``, with the real module's message;
- response headers become snake_case keys without dashes (Content-Type -> content_type, x-ms-request-id ->
  xmsrequestid), as Convert-StringToSnakeCase does;
- ``json`` only with ``return_content`` and a content type matching text, json or javascript;
- a connection failure fails with "Unhandled exception occurred when sending web request. Exception: ...";
- the Windows certificate store is played by Python's default trust (SSL_CERT_FILE in the tests).
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: win_uri
short_description: Test stand-in for ansible.windows.win_uri (a subset of its options)
description:
  - Sends one HTTP request like ansible.windows.win_uri, for tests that cannot run PowerShell.
options:
  url:
    description: The URL.
    type: str
    required: true
  url_method:
    description: The HTTP method, one upper-case word.
    type: str
    default: GET
    aliases: [method]
  headers:
    description: Extra request headers.
    type: dict
  body:
    description: The request body.
    type: raw
  content_type:
    description: The Content-Type header.
    type: str
  return_content:
    description: Return the body as C(content), and parsed as C(json) when the content type is JSON.
    type: bool
    default: false
  status_code:
    description: The statuses that are a success.
    type: list
    elements: int
    default: [200]
  url_timeout:
    description: Seconds to wait for the response.
    type: int
    default: 30
    aliases: [timeout]
  validate_certs:
    description: Verify the server's TLS certificate.
    type: bool
    default: true
  use_proxy:
    description: Use the system's proxy settings.
    type: bool
    default: true
author:
  - managed_identity.azure contributors (@managed-identity)
"""

RETURN = r"""
elapsed:
  description: Seconds the request took.
  returned: always
  type: float
url:
  description: The target URL.
  returned: always
  type: str
status_code:
  description: The HTTP status code of the response.
  returned: success
  type: int
status_description:
  description: A summary of the status.
  returned: success
  type: str
content:
  description: The raw content of the response.
  returned: success and return_content is True
  type: str
content_length:
  description: The byte size of the response.
  returned: success
  type: int
json:
  description: The content parsed as JSON.
  returned: success and Content-Type is JSON and return_content is True
  type: dict
"""

import json
import re
import ssl
import time
import urllib.error
import urllib.request

from ansible.module_utils.basic import AnsibleModule

_JSON_CANDIDATES = re.compile("text|json|javascript")


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name.replace("-", "")).lower()


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            url_method=dict(type="str", default="GET", aliases=["method"]),
            headers=dict(type="dict"),
            body=dict(type="raw"),
            content_type=dict(type="str"),
            return_content=dict(type="bool", default=False),
            status_code=dict(type="list", elements="int", default=[200]),
            url_timeout=dict(type="int", default=30, aliases=["timeout"]),
            validate_certs=dict(type="bool", default=True),
            use_proxy=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    result = {"changed": False, "elapsed": 0, "url": params["url"]}
    method = params["url_method"].upper()
    if not re.match("^[A-Z]+$", method):
        module.fail_json(msg="Parameter 'method' needs to be a single word in uppercase, like GET or POST.", **result)

    body = params["body"]
    if isinstance(body, (dict, list)):
        body = json.dumps(body, separators=(",", ":"))
    data = None if body is None else str(body).encode("utf-8")
    request = urllib.request.Request(params["url"], data=data, method=method)
    for name, value in (params["headers"] or {}).items():
        request.add_header(name, str(value))
    if params["content_type"] is not None:
        request.add_header("Content-Type", params["content_type"])

    context = ssl.create_default_context()
    if not params["validate_certs"]:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    handlers = [urllib.request.HTTPSHandler(context=context)]
    if not params["use_proxy"]:
        handlers.append(urllib.request.ProxyHandler({}))
    opener = urllib.request.build_opener(*handlers)

    started = time.monotonic()
    try:
        try:
            response = opener.open(request, timeout=params["url_timeout"])
        except urllib.error.HTTPError as error:
            response = error  # win_uri sends with -IgnoreBadResponse: the status is checked below
        raw = response.read()
    except (urllib.error.URLError, OSError) as exc:
        result["elapsed"] = time.monotonic() - started
        module.fail_json(
            msg="Unhandled exception occurred when sending web request. Exception: %s" % getattr(exc, "reason", exc),
            **result,
        )
    result["elapsed"] = time.monotonic() - started

    status = response.status
    result.update(
        status_code=status,
        status_description=response.reason,
        content_length=len(raw),
        response_uri=response.geturl(),
        method=method,
    )
    for name, value in response.headers.items():
        result[_snake(name)] = value
    if params["return_content"]:
        result["content"] = raw.decode("utf-8", errors="replace")
        if _JSON_CANDIDATES.search(result.get("content_type") or ""):
            try:
                parsed = json.loads(result["content"])
            except ValueError:
                parsed = None
            if parsed:
                result["json"] = parsed
    if status not in params["status_code"]:
        module.fail_json(
            msg="Status code of request '%d' is not in list of valid status codes %s : %s'."
            % (status, " ".join(str(code) for code in params["status_code"]), response.reason),
            **result,
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
