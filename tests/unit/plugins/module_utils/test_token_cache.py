# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller-side token cache: reuse until close to expiry, a refused token fetched again once, one fetch for
many processes on a cold cache, no corruption under concurrent writers, refusal of widened permissions, and no
secret on disk."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import time

import pytest
import requests

from ansible_collections.managed_identity.azure.plugins.module_utils import (
    _arm,
    _authenticator,
    _entra_client_credential,
    _token_cache,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    AuthenticationError,
    ConfigurationError,
)

KEY = _token_cache.CacheKey("https://login.microsoftonline.com", "tenant-1", "client-1", "https://x/.default")
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "6b4a0c83-2a54-4d05-9a1c-9d1f4a2f2a07"
SECRET = "s3cr3t-Value~with.chars"
CLOUD = resolve_cloud(None, "https://arm.example", "https://login.example", None)
RG = "/subscriptions/s/resourceGroups/rg1"


class Fetcher:
    def __init__(self, lifetime=3599, clock=time.time):
        self.count = 0
        self.lifetime = lifetime
        self.clock = clock

    def __call__(self):
        self.count += 1
        return "token-%d" % self.count, int(self.clock()) + self.lifetime


def response(status, body, headers=None):
    resp = requests.Response()
    resp.status_code = status
    resp._content = json.dumps(body).encode()
    resp.headers["Content-Type"] = "application/json"
    resp.headers.update(headers or {})
    return resp


class Entra:
    """Entra ID's token endpoint: a new token per request."""

    def __init__(self):
        self.posts = []

    def request(self, method, url, data=None, timeout=None, headers=None):
        self.posts.append(dict(data))
        return response(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": "t%d" % len(self.posts)})


def test_a_token_is_shared_across_instances_until_close_to_expiry(tmp_path):
    now = [1000.0]
    fetch = Fetcher(clock=lambda: now[0])
    path = str(tmp_path / "cache")

    first = _token_cache.TokenCache(path, clock=lambda: now[0]).get(KEY, fetch)
    now[0] += 3000  # 599 s left: another process (a new instance) reuses it
    assert _token_cache.TokenCache(path, clock=lambda: now[0]).get(KEY, fetch).token == first.token == "token-1"
    now[0] += 400  # 199 s left, inside the 5-minute margin
    assert _token_cache.TokenCache(path, clock=lambda: now[0]).get(KEY, fetch).token == "token-2"
    assert fetch.count == 2
    other = _token_cache.CacheKey(KEY.authority, KEY.tenant, KEY.client, "https://vault.azure.net/.default")
    assert _token_cache.TokenCache(path, clock=lambda: now[0]).get(other, fetch).token == "token-3"


def test_a_refused_token_is_dropped_once_and_a_replacement_is_used(tmp_path):
    fetch = Fetcher()
    cache = _token_cache.TokenCache(str(tmp_path))
    stale = cache.get(KEY, fetch).token

    renewed = cache.get(KEY, fetch, rejected=stale)
    assert (renewed.token, fetch.count) == ("token-2", 2)
    # A second process that also saw token-1 refused finds token-2 already there and does not fetch again.
    assert _token_cache.TokenCache(str(tmp_path)).get(KEY, fetch, rejected=stale).token == "token-2"
    assert fetch.count == 2


def test_files_are_private_and_hold_no_secret(tmp_path):
    path = tmp_path / "home" / ".ansible" / "cache"
    cache = _token_cache.TokenCache(str(path))
    entra = Entra()
    credential = _entra_client_credential.EntraClientCredential(
        CLOUD, TENANT, CLIENT, client_secret=SECRET, session=entra, cache=cache
    )

    assert credential.get_token().token == "t1"

    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    files = sorted(p.name for p in path.iterdir())
    assert len(files) == 2 and files[0].endswith(".json") and files[1].endswith(".lock")
    for name in files:
        assert stat.S_IMODE((path / name).stat().st_mode) == 0o600
    text = (path / files[0]).read_text()
    assert SECRET not in text
    assert json.loads(text)["key"] == {
        "authority": "https://login.example",
        "tenant": TENANT,
        "client": CLIENT,
        "scope": CLOUD.arm_audience + "/.default",
    }
    assert "t1" not in repr(credential.get_token()) and "t1" not in repr(cache.get(credential.cache_key(), None))


@pytest.mark.parametrize("target", ["directory", "file"])
def test_widened_permissions_are_refused_with_the_fix(tmp_path, target):
    path = tmp_path / "cache"
    _token_cache.TokenCache(str(path)).get(KEY, Fetcher())
    widened = path if target == "directory" else next(path.glob("*.json"))
    widened.chmod(0o755 if target == "directory" else 0o644)
    fetch = Fetcher()

    with pytest.raises(ConfigurationError) as caught:
        _token_cache.TokenCache(str(path)).get(KEY, fetch)

    message = str(caught.value)
    assert (
        "refusing to use the token cache: %s %s has mode %s"
        % (
            target,
            widened,
            "0755" if target == "directory" else "0644",
        )
        in message
    )
    assert "chmod %s %s" % ("700" if target == "directory" else "600", widened) in message
    assert "token_cache=false" in message and "token-" not in message
    assert fetch.count == 0


def test_a_symlinked_directory_is_refused(tmp_path):
    (tmp_path / "real").mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(ConfigurationError, match="is not a directory"):
        _token_cache.TokenCache(str(tmp_path / "link")).get(KEY, Fetcher())


def test_an_unreadable_entry_is_fetched_again_and_replaced(tmp_path):
    cache = _token_cache.TokenCache(str(tmp_path))
    cache.get(KEY, Fetcher())
    entry = next(tmp_path.glob("*.json"))
    entry.write_text("{not json")
    assert cache.get(KEY, Fetcher()).token == "token-1"
    assert json.loads(entry.read_text())["access_token"] == "token-1"


def test_options_and_environment():
    assert _token_cache.enabled(None, {}) is True
    assert _token_cache.enabled(None, {"ANSIBLE_AZURE_TOKEN_CACHE": "false"}) is False
    assert _token_cache.enabled(True, {"ANSIBLE_AZURE_TOKEN_CACHE": "0"}) is True
    with pytest.raises(ConfigurationError, match="ANSIBLE_AZURE_TOKEN_CACHE='maybe' is not a boolean"):
        _token_cache.enabled(None, {"ANSIBLE_AZURE_TOKEN_CACHE": "maybe"})
    assert _token_cache.directory(None, {}) == os.path.expanduser("~/.ansible/managed_identity_azure/token_cache")
    assert _token_cache.directory(None, {"ANSIBLE_AZURE_TOKEN_CACHE_DIR": "/a/b"}) == "/a/b"
    assert _token_cache.directory("/c", {"ANSIBLE_AZURE_TOKEN_CACHE_DIR": "/a/b"}) == "/c"


def test_build_credential_uses_the_cache_unless_turned_off(tmp_path):
    params = {"auth_source": "service_principal", "tenant_id": TENANT, "client_id": CLIENT, "client_secret": SECRET}
    env = {"ANSIBLE_AZURE_TOKEN_CACHE_DIR": str(tmp_path)}
    entra = Entra()
    for _run in range(3):  # three module runs
        _authenticator.build_credential(params, CLOUD, environ=env, session=entra).get_token()
    assert len(entra.posts) == 1
    for _run in range(2):
        _authenticator.build_credential({**params, "token_cache": False}, CLOUD, environ=env, session=entra).get_token()
    assert len(entra.posts) == 3


def test_loop_detection_is_not_retried_and_points_at_the_cache():
    class Looping:
        posts = 0

        def request(self, method, url, data=None, timeout=None, headers=None):
            self.posts += 1
            body = {
                "error": "invalid_grant",
                "error_description": "AADSTS50196: The server terminated an operation because it encountered a "
                "client request loop. Please contact your app vendor.\r\nTrace ID: t",
                "error_codes": [50196],
            }
            return response(429, body, {"Retry-After": "1"})

    session = Looping()
    credential = _entra_client_credential.EntraClientCredential(
        CLOUD, TENANT, CLIENT, client_secret=SECRET, session=session
    )
    with pytest.raises(AuthenticationError) as caught:
        credential.get_token()
    assert session.posts == 1
    assert "AADSTS50196" in str(caught.value) and "keep the token cache on" in str(caught.value)


def test_arm_refusing_a_cached_token_as_invalid_renews_it_for_every_process(tmp_path):
    body = {"error": {"code": "InvalidAuthenticationToken", "message": "The access token is invalid."}}
    entra = Entra()

    def credential():
        return _entra_client_credential.EntraClientCredential(
            CLOUD, TENANT, CLIENT, client_secret=SECRET, session=entra, cache=_token_cache.TokenCache(str(tmp_path))
        )

    class Arm:
        def __init__(self):
            self.sent = []

        def request(self, method, url, json_body=None, headers=None, timeout=None):
            self.sent.append(headers["Authorization"])
            return response(401, body) if headers["Authorization"] == "Bearer t1" else response(200, {"name": "rg1"})

    first = Arm()
    assert _arm.ArmClient(CLOUD, credential(), session=first).get(RG, "2021-04-01") == {"name": "rg1"}
    assert first.sent == ["Bearer t1", "Bearer t2"]
    # The next module run reads t2 from the cache: no token request, no 401.
    second = Arm()
    assert _arm.ArmClient(CLOUD, credential(), session=second).get(RG, "2021-04-01") == {"name": "rg1"}
    assert second.sent == ["Bearer t2"]
    assert len(entra.posts) == 2


# Concurrency: real processes, as Ansible forks them. -------------------------------------------------------
def _cold_reader(path, counter, start, results):
    def fetch():
        with open(counter, "a") as handle:  # one line per token request
            handle.write("x\n")
        time.sleep(0.3)  # a slow token endpoint: the others must wait, not fetch too
        return "shared-token", int(time.time()) + 3599

    start.wait()
    results.put(_token_cache.TokenCache(path).get(KEY, fetch).token)


def _writer(path, rounds, worker, results):
    cache = _token_cache.TokenCache(path)
    seen = None
    for n in range(rounds):
        # Always refuse what is there: every call replaces the entry, all processes at once.
        seen = cache.get(KEY, lambda n=n: ("w%d-%d" % (worker, n), int(time.time()) + 3599), rejected=seen).token
    results.put(seen)


def test_cold_cache_many_processes_one_token_request(tmp_path):
    ctx = multiprocessing.get_context("fork")
    counter, start, results = tmp_path / "requests", ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=_cold_reader, args=(str(tmp_path / "cache"), str(counter), start, results))
        for _worker in range(12)
    ]
    for proc in procs:
        proc.start()
    start.set()
    tokens = [results.get(timeout=60) for _proc in procs]
    for proc in procs:
        proc.join(timeout=60)

    assert tokens == ["shared-token"] * 12
    assert counter.read_text().count("x") == 1


def test_concurrent_writers_never_corrupt_an_entry(tmp_path):
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    path = tmp_path / "cache"
    procs = [ctx.Process(target=_writer, args=(str(path), 25, worker, results)) for worker in range(8)]
    for proc in procs:
        proc.start()
    finals = [results.get(timeout=60) for _proc in procs]
    for proc in procs:
        proc.join(timeout=60)

    assert all(proc.exitcode == 0 for proc in procs)
    [entry] = list(path.glob("*.json"))
    stored = json.loads(entry.read_text())
    assert stored["access_token"] in set(finals) and stored["key"] == KEY.as_dict()
    assert not list(path.glob(".tmp-*"))  # no temporary file left behind


def test_a_file_system_error_is_a_clear_configuration_error(tmp_path):
    cache = _token_cache.TokenCache(str(tmp_path))
    (tmp_path / (KEY.file_stem() + ".json")).mkdir(mode=0o700)  # something that is not a token file
    with pytest.raises(ConfigurationError) as caught:
        cache.get(KEY, Fetcher())
    assert str(caught.value).startswith("the token cache %s cannot be used (%s" % (tmp_path, tmp_path))
    assert "token_cache=false" in str(caught.value)
