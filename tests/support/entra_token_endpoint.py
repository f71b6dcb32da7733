# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A scripted Entra ID token endpoint for the unit tests of the auth sources: it stands in for the run's
requests.Session, answers in order and records every POST (URL and form)."""

from __future__ import annotations

import json
from pathlib import Path

import requests

FIXTURES = Path(__file__).resolve().parents[1] / "unit" / "fixtures" / "azure"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "6b4a0c83-2a54-4d05-9a1c-9d1f4a2f2a07"
SECRET = "s3cr3t-Value~with.chars"
# Shape of a real AADSTS7000215 answer (azure-reference section 5; status 401 per MSAL error handling).
BAD_SECRET = {
    "error": "invalid_client",
    "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request "
    "is the client secret value, not the client secret ID, for a secret added to app '%s'.\r\nTrace ID: "
    "11111111-1111-1111-1111-111111111111\r\nCorrelation ID: 22222222-2222-2222-2222-222222222222\r\n"
    "Timestamp: 2024-05-01 10:00:00Z" % CLIENT,
    "error_codes": [7000215],
    "trace_id": "11111111-1111-1111-1111-111111111111",
    "correlation_id": "22222222-2222-2222-2222-222222222222",
}


def fixture(name):
    return json.loads((FIXTURES / name).read_text())


def response(status, body):
    resp = requests.Response()
    resp.status_code = status
    resp._content = json.dumps(body).encode()
    resp.headers["Content-Type"] = "application/json"
    return resp


def ok():
    return response(200, fixture("entra-v2-token-client-credentials-200.docs.json"))


class TokenEndpoint:
    def __init__(self, *answers):
        self.answers = list(answers)
        self.posts = []

    def request(self, method, url, data=None, timeout=None, headers=None):
        self.posts.append({"url": url, "data": dict(data)})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer
