#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: arm_request
short_description: Call any Azure Resource Manager API
version_added: 0.1.0
author:
  - managed_identity.azure contributors (@managed-identity)
description:
  - Sends one request to Azure Resource Manager with the shared authentication, and returns the status, the parsed
    response and the non-secret response headers.
  - Throttling (429 with C(Retry-After)), 5xx answers and dropped connections are retried within O(max_wait);
    long-running operations are followed to the end with O(wait); list results can be followed across pages with
    O(paginate).
  - With O(idempotent), a V(PUT), V(PATCH) or V(DELETE) first reads the resource and changes nothing when it
    already matches (or, for V(DELETE), is already gone); check mode and diff are then meaningful.
extends_documentation_fragment:
  - managed_identity.azure.auth
  - managed_identity.azure.attributes.check_mode_full
  - managed_identity.azure.attributes.diff_mode_full
  - managed_identity.azure.attributes.action_group
attributes:
  check_mode:
    details:
      - V(GET) and V(HEAD) run in check mode. Other methods are not sent; with O(idempotent) the module still
        reports whether they would change anything, otherwise it reports a change.
  diff_mode:
    details: With O(idempotent), the resource before and (predicted, in check mode) after.
options:
  method:
    description:
      - HTTP method.
    type: str
    default: GET
    choices: [GET, HEAD, PUT, PATCH, POST, DELETE]
  path:
    description:
      - Path on the ARM endpoint, for example C(/subscriptions/<id>/resourcegroups/rg-demo).
      - Exactly one of O(path) and O(url) is required.
    type: str
  url:
    description:
      - A full URL on the ARM endpoint (for example a C(nextLink) or an operation URL). URLs on any other host are
        refused so that the access token cannot leak.
    type: str
  api_version:
    description:
      - The C(api-version) query parameter. Required by ARM unless O(url) already carries it.
    type: str
  body:
    description:
      - The request body, sent as JSON.
      - With O(idempotent), the desired state. Every key given must equal the current resource's value
        (ARM IDs and locations compare case-insensitively; C(null) means absent); keys not given are ignored.
    type: raw
  query:
    description:
      - More query parameters, for example C($filter).
    type: dict
  expected_status:
    description:
      - HTTP statuses that count as success. By default any status below 400 does.
    type: list
    elements: int
  wait:
    description:
      - Follow a long-running operation (C(Azure-AsyncOperation), C(Location), or a non-terminal
        C(provisioningState)) until it ends; RV(response) is then the final resource. A failed operation fails the
        task with the operation's own error.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for a long-running operation with O(wait).
    type: int
    default: 1800
  paginate:
    description:
      - For a V(GET) of a list, follow C(nextLink) and return every item in the C(value) list of RV(response).
    type: bool
    default: false
  idempotent:
    description:
      - For V(PUT), V(PATCH) and V(DELETE), GET the resource first and send the request only when it would change
        something. Needs a GET on the same O(path) to return the resource.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Enable the system-assigned identity of a VM and wait for the update
  managed_identity.azure.arm_request:
    method: PATCH
    path: /subscriptions/{{ sub }}/resourceGroups/rg-demo/providers/Microsoft.Compute/virtualMachines/vm1
    api_version: "2024-11-01"
    body:
      identity:
        type: SystemAssigned
    idempotent: true

- name: List every role assignment in a resource group
  managed_identity.azure.arm_request:
    path: /subscriptions/{{ sub }}/resourceGroups/rg-demo/providers/Microsoft.Authorization/roleAssignments
    api_version: "2022-04-01"
    paginate: true
  register: assignments
"""

RETURN = r"""
status_code:
  description: HTTP status of the last answer (the final GET after a waited operation).
  returned: when a request was sent
  type: int
  sample: 200
response:
  description: The parsed JSON body (null when there was none). With O(paginate), C(value) holds every page's items.
  returned: when a request was sent
  type: raw
headers:
  description:
    - Non-secret response headers, lower-case names - C(x-ms-request-id), C(x-ms-correlation-request-id),
      C(x-ms-ratelimit-remaining-*), C(etag), C(location), C(azure-asyncoperation), C(retry-after).
  returned: when a request was sent
  type: dict
  sample: {"x-ms-request-id": "8a4b8c2e-0000-0000-0000-000000000000"}
diff:
  description: The resource before and after, with O(idempotent).
  returned: with O(idempotent)
  type: dict
"""

import copy
from typing import Any, Optional

from ansible_collections.managed_identity.azure.plugins.module_utils._errors import AzureError, ConfigurationError
from ansible_collections.managed_identity.azure.plugins.module_utils._module import AzureModule
from ansible_collections.managed_identity.azure.plugins.module_utils._resource_ids import location_key

READ_METHODS = ("GET", "HEAD")
IDEMPOTENT_METHODS = ("PUT", "PATCH", "DELETE")


def _is_arm_id(value: str) -> bool:
    return value.lower().startswith(("/subscriptions/", "/providers/"))


def _same_text(key: Optional[str], desired: str, current: str) -> bool:
    if _is_arm_id(desired) and _is_arm_id(current):
        return desired.lower() == current.lower()  # ARM IDs are case-insensitive (casing varies by service)
    if key == "location":
        return location_key(desired) == location_key(current)  # "East US" == "eastus"
    return desired == current


def matches(desired: Any, current: Any, key: Optional[str] = None) -> bool:
    """Whether ``current`` already has everything ``desired`` asks for (a subset comparison)."""
    if isinstance(desired, dict):
        if not isinstance(current, dict):
            return False
        lowered = {str(k).lower(): v for k, v in current.items()}
        for name, value in desired.items():
            have = current[name] if name in current else lowered.get(str(name).lower())
            if value is None:
                if have is not None:
                    return False
            elif not matches(value, have, name):
                return False
        return True
    if isinstance(desired, list):
        return (
            isinstance(current, list)
            and len(desired) == len(current)
            and all(matches(d, c, key) for d, c in zip(desired, current))
        )
    if isinstance(desired, str) and isinstance(current, str):
        return _same_text(key, desired, current)
    return desired == current


def merged(current: Any, desired: Any) -> Any:
    """The predicted resource after a PUT/PATCH of ``desired`` (for the diff in check mode)."""
    if not isinstance(current, dict) or not isinstance(desired, dict):
        return copy.deepcopy(desired)
    result = copy.deepcopy(current)
    for name, value in desired.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merged(result.get(name), value)
    return result


def run(azure: AzureModule) -> dict:
    params = azure.params
    method = params["method"]
    target = params["path"] or params["url"]
    if params["idempotent"] and method not in IDEMPOTENT_METHODS:
        raise ConfigurationError("idempotent=true works with PUT, PATCH and DELETE, not method=%s" % method)
    if params["paginate"] and method != "GET":
        raise ConfigurationError("paginate=true works with method=GET, not method=%s" % method)
    client = azure.client
    request = {"api_version": params["api_version"], "query": params["query"]}
    result: dict = {"changed": method not in READ_METHODS}

    if params["idempotent"]:
        before = client.get_or_none(target, **request)
        if method == "DELETE":
            result["changed"] = before is not None
            after = None
        else:
            result["changed"] = before is None or not matches(params["body"], before)
            after = merged(before, params["body"]) if method == "PATCH" or before is not None else params["body"]
        result["diff"] = {"before": before or {}, "after": after or {}}
        if not result["changed"]:
            result.update(status_code=200, response=before, headers={})
            return result
    if azure.check_mode and method not in READ_METHODS:
        return result

    if params["paginate"]:
        items, last = client.list_pages(client.url(target, **request), "GET %s" % target)
        response_body = dict(last.body or {}, value=items)
        response_body.pop("nextLink", None)
        result.update(status_code=last.status_code, response=response_body, headers=last.headers)
        return result
    response = client.request(
        method,
        target,
        body=params["body"],
        expected_status=params["expected_status"],
        wait=params["wait"],
        wait_timeout=params["wait_timeout"],
        **request,
    )
    result.update(status_code=response.status_code, response=response.body, headers=response.headers)
    if params["idempotent"] and method != "DELETE":
        result["diff"]["after"] = response.body or {}
    return result


def main() -> None:
    azure = AzureModule(
        {
            "method": {"type": "str", "default": "GET", "choices": ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"]},
            "path": {"type": "str"},
            "url": {"type": "str"},
            "api_version": {"type": "str"},
            "body": {"type": "raw"},
            "query": {"type": "dict"},
            "expected_status": {"type": "list", "elements": "int"},
            "wait": {"type": "bool", "default": True},
            "wait_timeout": {"type": "int", "default": 1800},
            "paginate": {"type": "bool", "default": False},
            "idempotent": {"type": "bool", "default": False},
        },
        mutually_exclusive=[["path", "url"]],
        required_one_of=[["path", "url"]],
        supports_check_mode=True,
    )
    target = azure.params["path"] or azure.params["url"]
    try:
        result = run(azure)
    except AzureError as err:
        # The task is the call itself: name it once, at the front (the ARM client names a failed request as its step).
        azure.fail(err, None if err.step else "%s %s" % (azure.params["method"], target.split("?")[0]))
    azure.exit(**result)


if __name__ == "__main__":
    main()
