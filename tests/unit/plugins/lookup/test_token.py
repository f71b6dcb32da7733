# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The token lookup: loaded by Ansible's plugin loader, same options and code path as token_info."""

from __future__ import annotations

import http.server
import json
import os
import pathlib
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader

NAME = "managed_identity.azure.token"
CLIENT = "6b4a0c83-2a54-4d05-9a1c-9d1f4a2f2a07"


@pytest.fixture
def imds():
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            query = parse_qs(urlsplit(self.path).query)
            seen.append(query)
            resource = query["resource"][0]
            if resource == "https://unknown.example":
                status, body = 400, {"error": "invalid_resource",
                                     "error_description": "AADSTS500011: The resource principal named %s was not "
                                                          "found in the tenant" % resource}
            else:
                status, body = 200, {"access_token": "token-for-" + resource, "expires_on": "1900000000",
                                     "resource": resource, "token_type": "Bearer"}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d" % httpd.server_address[1], seen
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def lookup(collection_loader):
    plugin = lookup_loader.get(NAME)
    assert plugin is not None
    return plugin


def test_one_token_for_the_default_resource(lookup, imds):
    url, seen = imds
    assert lookup.run([], {}, endpoint=url, client_id=CLIENT) == ["token-for-https://management.azure.com/"]
    assert seen[0]["client_id"] == [CLIENT]


def test_one_token_per_term(lookup, imds):
    url = imds[0]
    assert lookup.run(["https://vault.azure.net", "https://storage.azure.com/"], {}, endpoint=url) == [
        "token-for-https://vault.azure.net",
        "token-for-https://storage.azure.com/",
    ]


def test_errors_are_lookup_errors_with_the_fix(lookup, imds):
    url = imds[0]
    with pytest.raises(AnsibleLookupError, match="does not know the resource 'https://unknown.example'"):
        lookup.run(["https://unknown.example"], {}, endpoint=url)


def test_the_lookup_enforces_the_options_the_module_enforces(lookup):
    with pytest.raises(AnsibleLookupError, match="mutually exclusive"):
        lookup.run([], {}, client_id=CLIENT, object_id=CLIENT)
    with pytest.raises(AnsibleLookupError, match="timeout"):
        lookup.run([], {}, timeout=0)


def test_tokens_come_from_the_controllers_cache_until_turned_off(lookup, imds, monkeypatch):
    url, seen = imds
    for _host in range(3):  # a lookup templated once per host
        assert lookup.run([], {}, endpoint=url, client_id=CLIENT) == ["token-for-https://management.azure.com/"]
    lookup.run([], {}, endpoint=url)  # another identity (the system-assigned one) is another entry
    assert len(seen) == 2
    cache = pathlib.Path(os.environ["HOME"], ".ansible", "managed_identity_azure", "token_cache")
    assert len([p for p in cache.glob("*.json") if CLIENT in p.read_text()]) == 1

    monkeypatch.setenv("ANSIBLE_AZURE_TOKEN_CACHE", "false")
    lookup.run([], {}, endpoint=url, client_id=CLIENT)
    lookup.run([], {}, endpoint=url, client_id=CLIENT, token_cache=False)
    assert len(seen) == 4


def test_a_widened_cache_directory_is_a_lookup_error(lookup, imds, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o755)
    cache.chmod(0o755)
    with pytest.raises(AnsibleLookupError, match="refusing to use the token cache: directory .* has mode 0755"):
        lookup.run([], {}, endpoint=imds[0], token_cache_dir=str(cache))
    assert imds[1] == []
