# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An in-memory ARM for module unit tests: a ``requests``-like session that answers from a dict of resources.

A test states the world (resources, lists, per-route answers), runs the module with a real ``ArmClient`` on this
session (``tests/unit/plugins/modules/conftest.py``: ``run_arm_module``), and reads back the requests it sent.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

import requests

ARM = "https://arm.example.test"

Answer = Tuple[int, Any, Dict[str, str]]


def answer(status: int, body: Any = None, headers: Optional[Dict[str, str]] = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = b"" if body is None else json.dumps(body).encode()
    response.headers.update({"x-ms-request-id": "req-%d" % status, **(headers or {})})
    return response


def arm_error(status: int, code: str, message: str) -> Answer:
    return status, {"error": {"code": code, "message": message}}, {}


class FakeArm:
    """Resources by lower-cased path; GET/PUT/PATCH/DELETE on them, lists by prefix, and per-route overrides.

    ``routes[(METHOD, path)]`` (path lower-cased) answers before the resources do: an ``Answer`` or a callable
    taking (query, body) and returning one. ``sent`` records (method, path, query, body, headers)."""

    def __init__(self) -> None:
        self.resources: Dict[str, Any] = {}
        self.lists: Dict[str, List[Any]] = {}
        self.routes: Dict[Tuple[str, str], Any] = {}
        self.sent: List[Tuple[str, str, Dict[str, List[str]], Any, Dict[str, str]]] = []

    def writes(self) -> List[Tuple[str, str]]:
        return [(m, p) for m, p, _q, _b, _h in self.sent if m in ("PUT", "PATCH", "DELETE", "POST")]

    def request(self, method, url, json_body=None, headers=None, timeout=None):
        parts = urlsplit(url)
        path, query = parts.path, parse_qs(parts.query)
        self.sent.append((method, path, query, json_body, dict(headers or {})))
        key = path.lower()
        route = self.routes.get((method, key))
        if route is not None:
            status, body, extra = route(query, json_body) if callable(route) else route
            return answer(status, body, extra)
        if method == "GET" and key in self.lists:
            return answer(200, {"value": self.lists[key]})
        if method == "GET":
            if key in self.resources:
                return answer(200, self.resources[key], {"ETag": '"%s"' % len(self.sent)})
            return answer(*arm_error(404, "ResourceNotFound", "The Resource '%s' was not found." % path))
        if method in ("PUT", "PATCH"):
            created = key not in self.resources
            self.resources[key] = _merge(self.resources.get(key), json_body) if method == "PATCH" else json_body
            return answer(201 if created else 200, self.resources[key])
        if method == "DELETE":
            return answer(200 if self.resources.pop(key, None) is not None else 204)
        return answer(*arm_error(405, "MethodNotAllowed", method))


def _merge(current: Any, patch: Any) -> Any:
    if not isinstance(current, dict) or not isinstance(patch, dict):
        return patch
    merged = dict(current)
    for name, value in patch.items():
        merged[name] = _merge(current.get(name), value)
    return merged
