# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""token_info runs as a module against a local fake IMDS (``imds`` in conftest.py; the emulator is for integration
tests)."""

from __future__ import annotations

import base64
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.managed_identity.azure.plugins.modules import token_info

OID = "2b8e0c0d-6f0a-4a57-9c8a-2d5f0f3e1c11"
CLIENT = "6b4a0c83-2a54-4d05-9a1c-9d1f4a2f2a07"


def jwt(claims):
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return "%s.%s.c2ln" % (part({"alg": "RS256"}), part(claims))


TOKEN = jwt({"oid": OID, "aud": "https://management.azure.com/", "exp": 1900000000})


def run(module, args, capsys):
    with patch_module_args(args), pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


def test_token_info_returns_the_token_and_its_facts(imds, capsys):
    imds["answers"].append(
        (
            200,
            {
                "access_token": TOKEN,
                "expires_on": "1900000000",
                "expires_in": "86399",
                "resource": "https://management.azure.com/",
                "token_type": "Bearer",
                "client_id": CLIENT,
            },
        )
    )
    result = run(token_info, {"endpoint": imds["url"], "_ansible_check_mode": True, "return_token": True}, capsys)
    assert result["changed"] is False
    assert result["access_token"] == TOKEN
    assert result["claims"]["oid"] == OID
    assert result["expires_on"] == 1900000000
    assert result["expires_on_iso"] == "2030-03-17T17:46:40Z"
    assert result["source"] == "imds" and result["client_id"] == CLIENT
    assert 0 < result["expires_in"] <= 1900000000
    assert imds["requests"][0]["query"]["resource"] == ["https://management.azure.com/"]
    assert imds["requests"][0]["headers"]["Metadata"] == "true"


def test_token_info_returns_no_token_unless_asked(imds, capsys):
    imds["answers"].append(
        (
            200,
            {
                "access_token": TOKEN,
                "expires_on": "1900000000",
                "resource": "https://management.azure.com/",
                "token_type": "Bearer",
            },
        )
    )
    result = run(token_info, {"endpoint": imds["url"]}, capsys)
    assert result["claims"]["oid"] == OID and result["expires_on"] == 1900000000
    assert "access_token" not in result
    assert TOKEN not in json.dumps(result)


def test_token_info_failure_names_the_fix_and_no_token(imds, capsys):
    imds["answers"].append((400, {"error": "invalid_request", "error_description": "Identity not found"}))
    result = run(token_info, {"endpoint": imds["url"], "client_id": CLIENT}, capsys)
    assert result["failed"] is True
    assert "client_id=%s is not attached" % CLIENT in result["msg"]
    assert result["status_code"] == 400


def test_token_info_selectors_are_mutually_exclusive(capsys):
    result = run(token_info, {"client_id": CLIENT, "object_id": OID}, capsys)
    assert result["failed"] is True
    assert "mutually exclusive" in result["msg"]
