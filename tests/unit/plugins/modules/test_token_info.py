# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""token_info and instance_info run as modules against a local fake IMDS (the emulator is for integration tests)."""

from __future__ import annotations

import base64
import http.server
import json
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.managed_identity.azure.plugins.modules import instance_info, token_info

OID = "2b8e0c0d-6f0a-4a57-9c8a-2d5f0f3e1c11"
CLIENT = "6b4a0c83-2a54-4d05-9a1c-9d1f4a2f2a07"


def jwt(claims):
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return "%s.%s.c2ln" % (part({"alg": "RS256"}), part(claims))


TOKEN = jwt({"oid": OID, "aud": "https://management.azure.com/", "exp": 1900000000})


@pytest.fixture
def imds():
    """A fake IMDS: answers are queued per path; requests are recorded."""
    state = {"answers": [], "requests": []}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            parts = urlsplit(self.path)
            state["requests"].append(
                {"path": parts.path, "query": parse_qs(parts.query), "headers": dict(self.headers)}
            )
            status, body = state["answers"].pop(0)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    state["url"] = "http://127.0.0.1:%d" % httpd.server_address[1]
    yield state
    httpd.shutdown()
    httpd.server_close()


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


def test_instance_info(imds, capsys):
    compute = {
        "subscriptionId": "8d10da13-8125-4ba9-a717-bf7490507b3d",
        "resourceGroupName": "rg",
        "name": "vm1",
        "vmId": "02aab8a4-74ef-476e-8182-f6d2ba4166a6",
        "location": "westus",
        "azEnvironment": "AzurePublicCloud",
        "osType": "Linux",
        "resourceId": "/subscriptions/8d10da13-8125-4ba9-a717-bf7490507b3d/resourceGroups/rg/"
        "providers/Microsoft.Compute/virtualMachines/vm1",
        "vmSize": "Standard_B2s",
        "tagsList": [],
    }
    imds["answers"] += [(410, {}), (200, {"compute": compute, "network": {}})]
    result = run(instance_info, {"endpoint": imds["url"], "max_wait": 5}, capsys)
    assert result["subscription_id"] == compute["subscriptionId"]
    assert result["resource_group"] == "rg" and result["name"] == "vm1" and result["vm_id"] == compute["vmId"]
    assert result["resource_id"] == compute["resourceId"]
    assert result["az_environment"] == "AzurePublicCloud" and result["os_type"] == "Linux"
    assert len(imds["requests"]) == 2  # the 410 was retried
    assert imds["requests"][1]["query"]["api-version"] == ["2021-02-01"]


def test_instance_info_error_names_the_action(imds, capsys):
    imds["answers"].append((400, {"error": "Bad request. Required metadata header not specified"}))
    result = run(instance_info, {"endpoint": imds["url"]}, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith("Failed to read the instance metadata (HTTP 400")
