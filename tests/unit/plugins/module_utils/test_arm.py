# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ArmClient decisions: retries, token renewal, long-running operations, paging, the token's host, errors.

HTTP is a scripted fake session answering with real ``requests.Response`` objects and Azure's
recorded bodies (tests/unit/fixtures/azure/, copied from the azure-reference examples).
"""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import pytest
import requests

from ansible_collections.managed_identity.azure.plugins.module_utils import _arm, _http
from ansible_collections.managed_identity.azure.plugins.module_utils._auth_source_base import AccessToken
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    ArmError,
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PermissionDenied,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "azure"
ARM = "https://arm.example.test:8443"
RG = "/subscriptions/sub1/resourcegroups/rg1"
TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.secret-token-body.sig"


def fixture(name):
    return json.loads((FIXTURES / name).read_text())


def response(status, body=None, headers=None, raw=None):
    resp = requests.Response()
    resp.status_code = status
    resp.headers.update(headers or {})
    if raw is not None:
        resp._content = raw.encode()
    else:
        resp._content = b"" if body is None else json.dumps(body).encode()
    if body is not None:
        resp.headers.setdefault("Content-Type", "application/json; charset=utf-8")
    return resp


class FakeSession:
    """Answers from a script of responses (or exceptions); records what was sent."""

    def __init__(self, *script):
        self.script = list(script)
        self.sent = []

    def request(self, method, url, json_body=None, headers=None, timeout=None):
        self.sent.append({"method": method, "url": url, "json": json_body, "headers": dict(headers or {})})
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


class FakeCredential:
    def __init__(self):
        self.calls = []
        self.serial = 0

    def get_token(self, force_refresh=False):
        self.calls.append(force_refresh)
        if force_refresh or not self.serial:
            self.serial += 1
        return AccessToken("%s-%d" % (TOKEN, self.serial), 0)


class Clock:
    def __init__(self):
        self.now = 1000.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock():
    return Clock()


def client(session, clock, **kwargs):
    cloud = resolve_cloud("AzureCloud", ARM, "https://login.example.test", None)
    kwargs.setdefault("max_wait", 60)
    return _arm.ArmClient(
        cloud, FakeCredential(), session=session, sleep=clock.sleep, clock=clock, poll_interval=2, **kwargs
    )


def test_get_sends_bearer_user_agent_and_api_version(clock):
    session = FakeSession(response(200, fixture("arm-resourcegroup-get-200.spec-2021-04-01.json")))
    body = client(session, clock).get(RG, "2021-04-01")
    assert body["properties"]["provisioningState"] == "Succeeded"
    sent = session.sent[0]
    assert sent["url"] == ARM + RG + "?api-version=2021-04-01"
    assert sent["headers"]["Authorization"] == "Bearer %s-1" % TOKEN
    assert sent["headers"]["User-Agent"].startswith("managed_identity.azure/0.1.0 ansible-core/")


def test_query_is_encoded_and_api_version_replaced(clock):
    session = FakeSession(response(200, {"value": []}))
    arm = client(session, clock)
    arm.request(
        "GET", ARM + RG + "?api-version=old", api_version="2022-04-01", query={"$filter": "principalId eq 'abc'"}
    )
    url, query = session.sent[0]["url"].split("?", 1)
    assert url == ARM + RG
    assert sorted(query.split("&")) == ["%24filter=principalId%20eq%20%27abc%27", "api-version=2022-04-01"]


def test_token_is_reused_across_requests(clock):
    session = FakeSession(response(200, {}), response(200, {}), response(200, {}))
    arm = client(session, clock)
    for _attempt in range(3):
        arm.get(RG, "2021-04-01")
    assert arm.credential.calls == [False, False, False]
    assert {s["headers"]["Authorization"] for s in session.sent} == {"Bearer %s-1" % TOKEN}


def test_expired_token_401_renews_once_and_succeeds(clock):
    expired = fixture("arm-error-ExpiredAuthenticationToken-401.observed.json")
    session = FakeSession(response(401, expired), response(200, {"name": "rg1"}))
    arm = client(session, clock)
    assert arm.get(RG, "2021-04-01") == {"name": "rg1"}
    assert arm.credential.calls == [False, True, False]
    assert session.sent[1]["headers"]["Authorization"] == "Bearer %s-2" % TOKEN


def test_expired_token_twice_is_an_error_not_a_loop(clock):
    expired = fixture("arm-error-ExpiredAuthenticationToken-401.observed.json")
    session = FakeSession(response(401, expired), response(401, expired))
    with pytest.raises(ArmError) as caught:
        client(session, clock).get(RG, "2021-04-01")
    assert caught.value.status == 401 and caught.value.code == "ExpiredAuthenticationToken"
    assert len(session.sent) == 2


def test_expired_given_token_shows_arms_message_without_a_second_try(clock):
    expired = fixture("arm-error-ExpiredAuthenticationToken-401.observed.json")
    session = FakeSession(response(401, expired))
    arm = client(session, clock)
    arm.credential.renewable = False
    with pytest.raises(ArmError, match="The access token expiry UTC time"):
        arm.get(RG, "2021-04-01")
    assert len(session.sent) == 1 and arm.credential.calls == [False]


def test_wrong_audience_401_is_not_retried_and_points_at_the_options(clock):
    body = fixture("arm-error-InvalidAuthenticationTokenAudience-401.observed.json")
    session = FakeSession(response(401, body, {"x-ms-request-id": "req-1"}))
    with pytest.raises(ArmError) as caught:
        client(session, clock).get(RG, "2021-04-01")
    assert len(session.sent) == 1
    assert "wrong audience" in str(caught.value)
    assert "audience options" in str(caught.value)
    assert "request id req-1" in str(caught.value)


def test_429_honours_retry_after_then_succeeds(clock):
    session = FakeSession(
        response(429, {"error": {"code": "TooManyRequests", "message": "slow down"}}, {"Retry-After": "7"}),
        response(200, {"name": "rg1"}),
    )
    assert client(session, clock).get(RG, "2021-04-01") == {"name": "rg1"}
    assert clock.slept == [7.0]


def test_5xx_and_reset_are_retried_with_backoff(clock):
    session = FakeSession(
        response(503, raw="<html>Service Unavailable</html>"),
        _http.Interrupted("Connection reset by peer"),
        response(200, {"name": "rg1"}),
    )
    assert client(session, clock).get(RG, "2021-04-01") == {"name": "rg1"}
    assert len(clock.slept) == 2 and all(s > 0 for s in clock.slept)


def test_retries_stop_at_the_budget_and_report_azure_error(clock):
    busy = response(429, {"error": {"code": "TooManyRequests", "message": "slow down"}}, {"Retry-After": "40"})
    session = FakeSession(busy, busy)
    with pytest.raises(ArmError) as caught:
        client(session, clock, max_wait=60).get(RG, "2021-04-01")
    assert caught.value.status == 429 and caught.value.code == "TooManyRequests"
    assert clock.slept == [40.0]


def test_post_is_not_resent_after_a_5xx_or_reset_but_is_after_429(clock):
    session = FakeSession(response(500, {"error": {"code": "InternalServerError", "message": "boom"}}))
    with pytest.raises(ArmError):
        client(session, clock).request("POST", RG + "/doit", api_version="1")
    assert len(session.sent) == 1
    session = FakeSession(_http.Interrupted("reset"))
    with pytest.raises(ArmError, match="no answer from https://arm.example.test:8443"):
        client(session, clock).request("POST", RG + "/doit", api_version="1")
    session = FakeSession(response(429, {}, {"Retry-After": "1"}), response(200, {"ok": True}))
    assert client(session, clock).request("POST", RG + "/doit", api_version="1").body == {"ok": True}


def test_404_and_403_map_to_their_errors_with_ids(clock):
    session = FakeSession(
        response(
            404,
            fixture("arm-error-ResourceGroupNotFound-404.observed.json"),
            {"x-ms-request-id": "r1", "x-ms-correlation-request-id": "c1"},
        ),
        response(403, fixture("arm-error-AuthorizationFailed-403.observed.json")),
    )
    arm = client(session, clock)
    with pytest.raises(NotFoundError) as missing:
        arm.get(RG, "2021-04-01")
    assert missing.value.code == "ResourceGroupNotFound"
    assert missing.value.fail_kwargs()["request_id"] == "r1"
    assert missing.value.fail_kwargs()["correlation_id"] == "c1"
    with pytest.raises(PermissionDenied) as denied:
        arm.get(RG, "2021-04-01", action="read resource group rg1")
    text = str(denied.value)
    assert text.startswith("Failed to read resource group rg1 (HTTP 403, AuthorizationFailed): The client ")
    assert TOKEN not in text


def test_get_or_none(clock):
    session = FakeSession(response(404, fixture("arm-error-ResourceGroupNotFound-404.observed.json")))
    assert client(session, clock).get_or_none(RG, "2021-04-01") is None


def test_expected_status_lets_a_404_through(clock):
    session = FakeSession(response(404, fixture("arm-error-ResourceGroupNotFound-404.observed.json")))
    result = client(session, clock).request("GET", RG, api_version="1", expected_status=[200, 404])
    assert result.status_code == 404


def test_paging_follows_next_link(clock):
    page1 = {"value": [{"n": 1}, {"n": 2}], "nextLink": ARM + RG + "/things?api-version=1&$skiptoken=a"}
    page2 = {"value": [{"n": 3}], "nextLink": ARM + RG + "/things?api-version=1&$skiptoken=b"}
    page3 = fixture("arm-roleassignment-list-200.docs-2022-04-01.json")
    session = FakeSession(response(200, page1), response(200, page2), response(200, page3))
    items = client(session, clock).list(RG + "/things", "1")
    assert [i.get("n") for i in items[:3]] == [1, 2, 3]
    assert items[3]["type"] == "Microsoft.Authorization/roleAssignments"
    assert session.sent[1]["url"] == page1["nextLink"]


@pytest.mark.parametrize(
    "foreign", ["https://evil.example/steal", "http://arm.example.test:8443/x", "https://arm.example.test:9443/x"]
)
def test_next_link_to_another_host_is_refused_and_no_token_sent(clock, foreign):
    session = FakeSession(response(200, {"value": [{"n": 1}], "nextLink": foreign}))
    with pytest.raises(ArmError) as caught:
        client(session, clock).list(RG + "/things", "1")
    assert len(session.sent) == 1
    assert "nextLink" in str(caught.value)
    assert _arm.origin_text(foreign) in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_user_given_url_on_another_host_is_a_configuration_error(clock):
    session = FakeSession()
    with pytest.raises(ConfigurationError, match="https://evil.example:443"):
        client(session, clock).request("GET", "https://evil.example/subscriptions")
    assert session.sent == []


def test_lro_azure_async_operation_then_final_get(clock):
    op_url = ARM + "/subscriptions/sub1/providers/Microsoft.Compute/locations/eastus/operations/op1?api-version=1"
    session = FakeSession(
        response(
            200,
            {"properties": {"provisioningState": "Updating"}},
            {"Azure-AsyncOperation": op_url, "Location": ARM + "/elsewhere", "Retry-After": "3"},
        ),
        response(200, fixture("arm-async-operation-status-inprogress.docs.json"), {"Retry-After": "1"}),
        response(200, {"status": "Succeeded", "name": "op1"}),
        response(200, {"properties": {"provisioningState": "Succeeded"}, "identity": {"type": "SystemAssigned"}}),
    )
    result = client(session, clock).request(
        "PATCH", RG + "/vm", api_version="1", body={"identity": {"type": "SystemAssigned"}}, wait=True
    )
    assert result.body["identity"]["type"] == "SystemAssigned"
    assert [s["method"] for s in session.sent] == ["PATCH", "GET", "GET", "GET"]
    assert session.sent[1]["url"] == op_url
    assert session.sent[3]["url"] == ARM + RG + "/vm?api-version=1"
    assert clock.slept == [3.0, 1.0]


def test_lro_failure_surfaces_the_operations_error(clock):
    op_url = ARM + "/operations/op1"
    session = FakeSession(
        response(202, None, {"Azure-AsyncOperation": op_url, "Retry-After": "0"}),
        response(
            200,
            {"status": "Failed", "error": {"code": "OSProvisioningTimedOut", "message": "VM timed out"}},
            {"x-ms-request-id": "r9"},
        ),
    )
    with pytest.raises(ArmError) as caught:
        client(session, clock).request("PUT", RG + "/vm", api_version="1", body={}, wait=True)
    assert caught.value.code == "OSProvisioningTimedOut"
    assert caught.value.message == "VM timed out"
    assert caught.value.request_id == "r9"


def test_lro_location_polls_until_not_202(clock):
    session = FakeSession(
        response(202, None, {"Location": ARM + "/operationresults/1", "Retry-After": "2"}),
        response(202, None, {"Retry-After": "2"}),
        response(204),
    )
    result = client(session, clock).request("DELETE", RG, api_version="1", wait=True)
    assert result.status_code == 204
    assert clock.slept == [2.0, 2.0]


def test_lro_provisioning_state_polls_the_resource(clock):
    session = FakeSession(
        response(201, {"properties": {"provisioningState": "Creating"}}),
        response(200, {"properties": {"provisioningState": "Creating"}}),
        response(200, {"properties": {"provisioningState": "Succeeded"}, "id": "x"}),
    )
    result = client(session, clock).request("PUT", RG + "/x", api_version="1", body={}, wait=True)
    assert result.body["id"] == "x"
    assert clock.slept == [2.0, 2.0]  # poll_interval without Retry-After


def test_lro_polling_url_on_another_host_is_refused(clock):
    session = FakeSession(response(202, None, {"Azure-AsyncOperation": "https://evil.example/op"}))
    with pytest.raises(ArmError, match="https://evil.example:443 .Azure-AsyncOperation polling URL"):
        client(session, clock).request("PUT", RG + "/vm", api_version="1", body={}, wait=True)
    assert len(session.sent) == 1


def test_lro_times_out_with_a_clear_error(clock):
    running = response(200, {"status": "InProgress"}, {"Retry-After": "10"})
    session = FakeSession(
        response(202, None, {"Azure-AsyncOperation": ARM + "/op", "Retry-After": "10"}), running, running
    )
    with pytest.raises(ArmError) as caught:
        client(session, clock).request("PUT", RG + "/vm", api_version="1", body={}, wait=True, wait_timeout=25)
    assert caught.value.code == "OperationTimeout"


def test_without_wait_the_first_answer_is_returned(clock):
    session = FakeSession(response(202, None, {"Azure-AsyncOperation": ARM + "/op", "Location": ARM + "/l"}))
    result = client(session, clock).request("PUT", RG + "/vm", api_version="1", body={})
    assert result.status_code == 202
    assert result.headers["azure-asyncoperation"] == ARM + "/op"


def test_only_safe_headers_are_returned():
    kept = _arm.safe_headers(
        {
            "x-ms-request-id": "r",
            "X-MS-Ratelimit-Remaining-Subscription-Reads": "249",
            "Set-Cookie": "secret",
            "WWW-Authenticate": "Bearer x",
        }
    )
    assert kept == {"x-ms-request-id": "r", "x-ms-ratelimit-remaining-subscription-reads": "249"}


def test_credential_errors_pass_through(clock):
    class Refusing:
        def get_token(self, force_refresh=False):
            raise AuthenticationError("AADSTS7000215: Invalid client secret provided.", code="invalid_client")

    cloud = resolve_cloud(None, ARM, "https://login.example.test", None)
    arm = _arm.ArmClient(cloud, Refusing(), session=FakeSession())
    with pytest.raises(AuthenticationError, match="AADSTS7000215"):
        arm.get(RG, "1")


def test_without_ca_path_verification_stays_on():
    context = _arm.build_session(None, environ={}).context
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_a_transport_failure_that_is_not_tls_is_retried_then_says_how_long_was_waited(clock):
    session = FakeSession(*[_http.Unreachable("Connection refused")] * 40)
    with pytest.raises(ArmError, match=r"^.*no answer from https://arm.example.test:8443 \(Connection refused\): "
                       r"\d+ attempts in \d+ s \(max_wait 60 s\)"):
        client(session, clock).get(RG, "2021-04-01")
    assert len(session.sent) > 3


def test_an_untrusted_certificate_is_not_retried_and_names_ca_path(clock):
    session = FakeSession(_http.TLSFailure("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"))
    with pytest.raises(ArmError, match=r"TLS with https://arm.example.test:8443 failed: .*give ca_path the CA"):
        client(session, clock).get(RG, "2021-04-01")
    assert len(session.sent) == 1


@pytest.mark.parametrize("content", [None, "not a certificate"])
def test_bad_ca_path_names_the_option(tmp_path, content):
    ca = tmp_path / "ca.pem"
    if content is not None:
        ca.write_text(content)
    with pytest.raises(ConfigurationError, match="ca_path="):
        _arm.build_session(str(ca), environ={})


def test_a_timeout_says_the_per_attempt_timeout_and_the_total(clock):
    session = FakeSession(_http.TimedOut("timed out"), _http.TimedOut("timed out"))
    # The back-off, then the next attempt's 7 s of waiting for an answer, pass on the clock.
    clock.sleep = lambda seconds: setattr(clock, "now", clock.now + seconds + 7)
    with pytest.raises(ArmError) as caught:
        client(session, clock, timeout=7, max_wait=4).get(RG, "2021-04-01")
    # One retry fits in max_wait 4 s (the first back-off is at most 1 s); after its 7 s a second does not.
    assert len(session.sent) == 2
    assert str(caught.value).startswith(
        "Failed to GET %s: https://arm.example.test:8443 did not answer within timeout 7 s per attempt (timed out): "
        "2 attempts in " % RG
    )
    assert str(caught.value).endswith(" s (max_wait 4 s)")


def test_throttling_past_max_wait_says_it_gave_up(clock):
    busy = response(429, {"error": {"code": "TooManyRequests", "message": "Slow down."}}, {"Retry-After": "90"})
    with pytest.raises(ArmError) as caught:
        client(FakeSession(busy), clock, max_wait=60).get(RG, "2021-04-01")
    assert caught.value.message == "Slow down. Gave up after 1 attempt in 0 s (max_wait 60 s)."
    # A POST's 5xx is never resent, so nothing was given up.
    failed = response(503, {"error": {"code": "ServiceUnavailable", "message": "Try later."}})
    with pytest.raises(ArmError) as caught:
        client(FakeSession(failed), clock).request("POST", RG + "/doit", api_version="1")
    assert caught.value.message == "Try later."


def test_a_proxy_variable_that_cannot_be_used_fails_before_any_request_naming_it_not_its_password():
    with pytest.raises(ConfigurationError) as caught:
        _arm.build_session(None, environ={"HTTPS_PROXY": "https://op:hunter2@proxy.corp:443"})
    assert str(caught.value).startswith(
        "HTTPS_PROXY: the proxy https://proxy.corp is not an http:// proxy URL"
    )
    assert "set it to http://[user:password@]host:port or unset it" in str(caught.value)
    assert "hunter2" not in str(caught.value)
