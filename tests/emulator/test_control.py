"""The control endpoint: knobs, faults, counters, reset, principals; and ARM throttling (token buckets)."""

from __future__ import annotations

import jwt
import pytest
import requests
from support.emulator import EmulatorError, RunningEmulator

SUB = "98f51385-2edc-4b79-bed9-7718de4cb861"
RG_LIST = f"subscriptions/{SUB}/resourcegroups?api-version=2021-04-01"


def arm(emu: RunningEmulator, method: str, path: str, token: str, **kwargs) -> requests.Response:
    return requests.request(method, emu.arm_endpoint + path, headers={"Authorization": f"Bearer {token}"},
                            verify=emu.ca_bundle, timeout=10, **kwargs)


def imds_token(emu: RunningEmulator) -> requests.Response:
    return requests.get(emu.vm("myVM")["imds_endpoint"] + "/metadata/identity/oauth2/token",
                        params={"api-version": "2018-02-01", "resource": "https://management.azure.com/"},
                        headers={"Metadata": "true"}, timeout=10)


def test_healthz_and_knobs_roundtrip(emulator: RunningEmulator) -> None:
    assert emulator.control("GET", "/healthz") == {"status": "ok"}
    knobs = emulator.control("GET", "/knobs")
    assert knobs["page_size"] == 100 and knobs["throttling"] is True and knobs["token_lifetime"] is None
    changed = emulator.set_knobs(propagation_delay=3, page_size=2, throttling=False)
    assert (changed["propagation_delay"], changed["page_size"], changed["throttling"]) == (3.0, 2, False)
    assert emulator.control("GET", "/knobs") == changed


@pytest.mark.parametrize(("knobs", "message"), [
    ({"page_size": 5, "no_such_knob": 1}, "unknown knob 'no_such_knob'"),
    ({"page_size": "ten"}, "knob 'page_size' needs a number"),
    ({"page_size": 5, "propagation_delay": -1}, "cannot be negative"),
    ({"page_size": 5, "throttling": 1}, "needs true or false"),
])
def test_bad_knobs_are_refused_and_nothing_changes(emulator: RunningEmulator, knobs: dict, message: str) -> None:
    before = emulator.control("GET", "/knobs")
    with pytest.raises(EmulatorError, match=message):
        emulator.set_knobs(**knobs)
    assert emulator.control("GET", "/knobs") == before


def test_arm_status_fault_uses_arm_error_body_for_count_requests(emulator: RunningEmulator) -> None:
    token = emulator.arm_token()
    fault = emulator.add_fault(service="arm", method="GET", path="/resourcegroups", status=503, count=2,
                               retry_after=7)
    assert emulator.control("GET", "/faults")[0]["id"] == fault["id"]
    for _ in range(2):
        response = arm(emulator, "GET", RG_LIST, token)
        assert response.status_code == 503
        assert response.json() == {"error": {"code": "ServiceUnavailable", "message": response.json()["error"]
                                             ["message"]}}
        assert response.headers["Retry-After"] == "7"
        # ARM's front door stamps its IDs on every answer, injected failures included: support asks for them.
        assert response.headers["x-ms-request-id"] and response.headers["x-ms-correlation-request-id"]
    assert arm(emulator, "GET", RG_LIST, token).status_code == 200
    assert emulator.control("GET", "/faults") == []


def test_entra_and_imds_faults_use_their_own_body_shapes(emulator: RunningEmulator) -> None:
    emulator.add_fault(service="entra", status=500, count=1)
    response = requests.post(f"{emulator.authority_host}{emulator.tenant_id}/oauth2/v2.0/token", data={},
                             verify=emulator.ca_bundle, timeout=10)
    body = response.json()
    assert response.status_code == 500
    assert body["error"] == "server_error" and body["error_codes"] == [50000]
    assert body["error_description"].startswith("AADSTS50000: ")
    emulator.add_fault(service="imds", status=429, count=1, code="too_many_requests", message="slow down")
    response = imds_token(emulator)
    assert response.status_code == 429
    assert response.json() == {"error": "too_many_requests", "error_description": "slow down"}


def test_graph_faults_use_graphs_error_body(emulator: RunningEmulator) -> None:
    emulator.add_fault(service="graph", status=503, count=1)
    response = requests.get(emulator.info["graph_endpoint"].rstrip("/") + "/v1.0/servicePrincipals",
                            headers={"Authorization": "Bearer x", "client-request-id": "c-1"},
                            verify=emulator.ca_bundle, timeout=10)
    error = response.json()["error"]
    assert response.status_code == 503
    assert error["code"] == "ServiceNotAvailable" and error["innerError"]["client-request-id"] == "c-1"
    assert emulator.counters("graph")["by_status"] == {"503": 1}


def test_drop_fault_closes_the_connection(emulator: RunningEmulator) -> None:
    emulator.add_fault(service="arm", kind="drop", count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        arm(emulator, "GET", RG_LIST, "x")
    assert emulator.counters("arm")["by_status"] == {"dropped": 1}
    assert arm(emulator, "GET", RG_LIST, emulator.arm_token()).status_code == 200


def test_reply_lost_fault_applies_the_write_then_drops_the_connection(emulator: RunningEmulator) -> None:
    token = emulator.arm_token()
    group = f"subscriptions/{SUB}/resourcegroups/rg-lost?api-version=2021-04-01"
    emulator.add_fault(service="arm", kind="reply_lost", method="PUT", path="/resourcegroups/rg-lost", count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        arm(emulator, "PUT", group, token, json={"location": "westus"})
    # The client heard nothing, but ARM made the group: a retry finds it (200, not 201).
    assert emulator.counters("arm")["by_status"] == {"reply_lost:201": 1}
    assert arm(emulator, "GET", group, token).json()["name"] == "rg-lost"
    assert arm(emulator, "PUT", group, token, json={"location": "westus"}).status_code == 200
    assert emulator.control("GET", "/faults") == []


def test_outcome_fault_probabilities_are_shares_of_one_draw(emulator: RunningEmulator) -> None:
    token = emulator.arm_token()
    # Two faults of 0.5 cover every request between them: never a 200. With the old first-that-fires rule the
    # second would fire on only a quarter of the requests, and a quarter would pass.
    emulator.add_fault(service="arm", status=502, probability=0.5)
    emulator.add_fault(service="arm", status=503, probability=0.5)
    statuses = [arm(emulator, "GET", RG_LIST, token).status_code for _ in range(40)]
    assert set(statuses) == {502, 503}
    assert [f["hits"] for f in emulator.control("GET", "/faults")] == [statuses.count(502), statuses.count(503)]


def test_latency_fault_still_answers(emulator: RunningEmulator) -> None:
    emulator.add_fault(service="arm", kind="latency", latency=0.05, count=1)
    assert arm(emulator, "GET", RG_LIST, emulator.arm_token()).status_code == 200
    assert emulator.control("GET", "/faults") == []


def test_probability_zero_never_fires_and_one_always_does(emulator: RunningEmulator) -> None:
    token = emulator.arm_token()
    emulator.add_fault(service="arm", status=500, probability=0)
    assert all(arm(emulator, "GET", RG_LIST, token).status_code == 200 for _ in range(5))
    emulator.clear_faults()
    emulator.add_fault(service="arm", status=502, probability=1)
    assert all(arm(emulator, "GET", RG_LIST, token).status_code == 502 for _ in range(3))
    assert emulator.control("GET", "/faults")[0]["hits"] == 3
    emulator.clear_faults()
    assert emulator.control("GET", "/faults") == []


@pytest.mark.parametrize(("spec", "message"), [
    ({"service": "nope"}, "fault service 'nope'"),
    ({"kind": "explode"}, "fault kind 'explode'"),
    ({"status": 200}, "from 400 to 599"),
    ({"kind": "latency"}, "needs 'latency'"),
    ({"path": "("}, "not a valid regular expression"),
    ({"count": 0}, "count 0"),
    ({"probability": 2}, "probability 2"),
    ({"colour": "red"}, "unknown fault field"),
])
def test_bad_fault_specs_are_refused(emulator: RunningEmulator, spec: dict, message: str) -> None:
    with pytest.raises(EmulatorError, match=message):
        emulator.add_fault(**spec)
    assert emulator.control("GET", "/faults") == []


def test_counters_group_by_service_method_route_status_and_writes(emulator: RunningEmulator) -> None:
    token = emulator.arm_token()
    emulator.reset_counters()
    arm(emulator, "GET", RG_LIST, token)
    arm(emulator, "PUT", f"subscriptions/{SUB}/resourcegroups/counted?api-version=2021-04-01", token,
        json={"location": "westus"})
    arm(emulator, "DELETE", f"subscriptions/{SUB}/resourcegroups/counted?api-version=2021-04-01", token)
    counters = emulator.counters("arm")
    assert counters["requests"] == 3 and counters["writes"] == 2
    assert counters["by_method"] == {"GET": 1, "PUT": 1, "DELETE": 1}
    everything = emulator.counters()
    assert everything["by_service"]["arm"] == 3
    emulator.reset_counters()
    assert emulator.counters()["requests"] == 0


def test_reset_restores_the_seed_and_zeroes_counters(emulator: RunningEmulator) -> None:
    token = emulator.arm_token()
    created = arm(emulator, "PUT", f"subscriptions/{SUB}/resourcegroups/temp?api-version=2021-04-01", token,
                  json={"location": "westus"})
    assert created.status_code in (200, 201)
    assert f"/subscriptions/{SUB}/resourcegroups/temp" in emulator.state()["resources"]
    emulator.set_knobs(page_size=1)
    emulator.reset()
    state = emulator.state()
    assert f"/subscriptions/{SUB}/resourcegroups/temp" not in state["resources"]
    assert f"/subscriptions/{SUB}/resourcegroups/devtest" in state["resources"]
    assert emulator.counters()["requests"] == 0
    assert emulator.control("GET", "/knobs")["page_size"] == 100
    assert arm(emulator, "GET", RG_LIST, emulator.arm_token()).status_code == 200


def test_state_dump_has_no_key_material(emulator: RunningEmulator) -> None:
    state = emulator.state()
    assert "keys" not in state
    assert "PRIVATE KEY" not in str(state)
    assert {"tenant_id", "subscriptions", "resources", "principals", "role_definitions",
            "role_assignments"} <= set(state)


def test_created_principal_can_authenticate(emulator: RunningEmulator) -> None:
    created = emulator.create_principal(display_name="late-app")
    assert created["name"] == "late-app"
    token = emulator.arm_token(created)
    assert jwt.decode(token, options={"verify_signature": False})["oid"] == created["object_id"]
    assert any(p["object_id"] == created["object_id"] for p in emulator.state()["principals"])
    with pytest.raises(EmulatorError, match="unknown field"):
        emulator.create_principal(colour="red")


def test_arm_answers_carry_ratelimit_headers(emulator: RunningEmulator) -> None:
    # Default sizes, but refill so slow that no token comes back between two requests.
    emulator.set_knobs(read_refill=0.001, write_refill=0.001, delete_refill=0.001)
    token = emulator.arm_token()
    first = arm(emulator, "GET", RG_LIST, token)
    second = arm(emulator, "GET", RG_LIST, token)
    assert int(first.headers["x-ms-ratelimit-remaining-subscription-reads"]) == 249
    assert int(second.headers["x-ms-ratelimit-remaining-subscription-reads"]) == 248
    assert "x-ms-ratelimit-remaining-subscription-global-reads" in first.headers
    write = arm(emulator, "PUT", f"subscriptions/{SUB}/resourcegroups/rl?api-version=2021-04-01", token,
                json={"location": "westus"})
    assert int(write.headers["x-ms-ratelimit-remaining-subscription-writes"]) == 199
    delete = arm(emulator, "DELETE", f"subscriptions/{SUB}/resourcegroups/rl?api-version=2021-04-01", token)
    assert int(delete.headers["x-ms-ratelimit-remaining-subscription-deletes"]) == 199
    tenant = arm(emulator, "GET", "subscriptions?api-version=2022-12-01", token)
    assert "x-ms-ratelimit-remaining-tenant-reads" in tenant.headers


def test_throttling_answers_429_when_the_bucket_is_empty(emulator: RunningEmulator) -> None:
    emulator.set_knobs(read_bucket=3, read_refill=0.01)
    token = emulator.arm_token()
    statuses = [arm(emulator, "GET", RG_LIST, token).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    throttled = arm(emulator, "GET", RG_LIST, token)
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) >= 1
    error = throttled.json()["error"]
    assert error["code"] == "SubscriptionRequestsThrottled"
    assert f"subscription '{SUB}'" in error["message"] and emulator.operator["object_id"] in error["message"]
    assert throttled.headers["x-ms-ratelimit-remaining-subscription-reads"] == "0"
    assert throttled.headers["x-ms-request-id"] and throttled.headers["x-ms-correlation-request-id"]
    # Buckets are per principal: another principal still has tokens.
    other = emulator.create_principal(display_name="other")
    assert arm(emulator, "GET", RG_LIST, emulator.arm_token(other)).status_code != 429
    # Writes have their own bucket.
    put = arm(emulator, "PUT", f"subscriptions/{SUB}/resourcegroups/w?api-version=2021-04-01", token,
              json={"location": "westus"})
    assert put.status_code in (200, 201)
    emulator.set_knobs(throttling=False)
    assert arm(emulator, "GET", RG_LIST, token).status_code == 200
