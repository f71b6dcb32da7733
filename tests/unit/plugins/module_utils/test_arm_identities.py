# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for identity planning: type strings, never dropping what was not asked, PATCH bodies, 412 retry."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.managed_identity.azure.plugins.module_utils import _arm_identities as ids
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import ArmError, ConfigurationError

SUB = "7d5c3b1e-35a4-4f0b-9a7e-2f4f2e6d1a10"
BASE = "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" % SUB
ID1, ID2, ID3 = BASE + "id1", BASE + "id2", BASE + "id3"
S = ids.IdentityState


@pytest.mark.parametrize(
    "system, user, expected",
    [
        (True, True, "SystemAssigned, UserAssigned"),
        (True, False, "SystemAssigned"),
        (False, True, "UserAssigned"),
        (False, False, "None"),
    ],
)
def test_identity_type(system, user, expected):
    assert ids.identity_type(system, user) == expected


@pytest.mark.parametrize(
    "block, expected",
    [
        (None, S(False, ())),
        ({"type": "None"}, S(False, ())),
        ({"type": "SystemAssigned", "principalId": "p"}, S(True, ())),
        ({"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {ID2: {}, ID1: {}}}, S(True, (ID1, ID2))),
        ({"type": "userassigned", "userAssignedIdentities": {ID1: {}}}, S(False, (ID1,))),
    ],
)
def test_parse_identity(block, expected):
    assert ids.parse_identity(block) == expected


def test_enabling_system_keeps_both_user_assigned():
    current = S(False, (ID1, ID2))
    desired = ids.plan_identity(current, True, None)
    assert desired == S(True, (ID1, ID2))
    assert ids.identity_patch(current, desired) == {
        "identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {ID1: {}, ID2: {}}}
    }


def test_remove_one_keeps_the_other_and_nulls_the_removed():
    current = S(True, (ID1, ID2))
    desired = ids.plan_identity(current, None, [ID1.upper()], "remove")
    assert desired == S(True, (ID2,))
    assert ids.identity_patch(current, desired) == {
        "identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {ID2: {}, ID1: None}}
    }


def test_exact_empty_and_system_false_is_none():
    current = S(True, (ID1, ID2))
    desired = ids.plan_identity(current, False, [], "exact")
    assert desired == S(False, ())
    assert ids.identity_patch(current, desired) == {"identity": {"type": "None"}}


def test_add_keeps_existing_and_is_case_insensitive():
    current = S(True, (ID1,))
    assert ids.plan_identity(current, None, [ID1.lower(), ID3], "add") == S(True, (ID1, ID3))
    assert ids.identity_patch(current, ids.plan_identity(current, None, [ID1.upper()], "add")) is None


def test_unset_options_change_nothing():
    current = S(True, (ID1,))
    for mode in ids.USER_ASSIGNED_MODES:
        assert ids.identity_patch(current, ids.plan_identity(current, None, None, mode)) is None


def test_exact_replaces_the_set_and_keeps_stored_casing():
    current = S(False, (ID1, ID2))
    desired = ids.plan_identity(current, None, [ID2.upper(), ID3], "exact")
    assert desired == S(False, (ID2, ID3))
    assert ids.identity_patch(current, desired)["identity"] == {
        "type": "UserAssigned",
        "userAssignedIdentities": {ID2: {}, ID3: {}, ID1: None},
    }


def test_disabling_system_keeps_user_assigned():
    current = S(True, (ID1,))
    desired = ids.plan_identity(current, False, None)
    assert ids.identity_patch(current, desired) == {
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {ID1: {}}}
    }


def test_dropping_all_user_assigned_keeps_system():
    current = S(True, (ID1,))
    desired = ids.plan_identity(current, None, [ID1], "remove")
    assert ids.identity_patch(current, desired) == {"identity": {"type": "SystemAssigned"}}


def test_identity_facts():
    facts = ids.identity_facts(
        {
            "type": "SystemAssigned, UserAssigned",
            "principalId": "p0",
            "tenantId": "t",
            "userAssignedIdentities": {ID1: {"principalId": "p1", "clientId": "c1"}},
        }
    )
    assert facts == {
        "type": "SystemAssigned, UserAssigned",
        "principal_id": "p0",
        "tenant_id": "t",
        "user_assigned": {ID1: {"principal_id": "p1", "client_id": "c1"}},
    }
    assert ids.identity_facts(None) == {"type": "None", "principal_id": None, "tenant_id": None, "user_assigned": {}}


def test_uami_id_from_name_or_id():
    assert ids.uami_id("id1", SUB, "rg") == ID1
    assert ids.uami_id(ID1 + "/", SUB, "other") == ID1
    lower = ID1.replace("resourceGroups", "resourcegroups")
    assert ids.uami_id(lower, SUB, "rg") == lower


@pytest.mark.parametrize(
    "value", ["", "a/b", "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/vms/x", BASE.rstrip("/")]
)
def test_uami_id_rejects_bad_values(value):
    with pytest.raises(ConfigurationError, match=r"^user_assigned: "):
        ids.uami_id(value, SUB, "rg")


class EtagClient:
    """GET answers from a list of resource versions; PATCH fails with 412 while the etag is stale."""

    def __init__(self, versions, stale_patches=0, etag_in="body"):
        self.versions = list(versions)
        self.stale = stale_patches
        self.etag_in = etag_in
        self.calls = []

    def request(
        self, method, path, *, api_version=None, body=None, query=None, headers=None, expected_status=None, wait=False
    ):
        self.calls.append((method, body, headers, wait))
        if method == "GET":
            resource = self.versions.pop(0) if len(self.versions) > 1 else self.versions[0]
            etag = resource.get("etag")
            if self.etag_in == "header":
                resource = {k: v for k, v in resource.items() if k != "etag"}
            return SimpleNamespace(status_code=200, body=resource, headers={"ETag": etag} if etag else {})
        if self.stale:
            self.stale -= 1
            raise ArmError("precondition", status=412, code="PreconditionFailed")
        return SimpleNamespace(status_code=200, body={"identity": body["identity"]}, headers={})


def test_update_retries_412_and_replans_from_the_new_state():
    first = {"etag": '"1"', "identity": {"type": "UserAssigned", "userAssignedIdentities": {ID1: {}}}}
    # Someone attached ID2 between our GET and PATCH: the retry must keep it.
    second = {"etag": '"2"', "identity": {"type": "UserAssigned", "userAssignedIdentities": {ID1: {}, ID2: {}}}}
    client = EtagClient([first, second], stale_patches=1)
    result = ids.update_identity(client, "/vm", lambda cur: ids.plan_identity(cur, True, None))
    assert result.changed
    methods = [(c[0], (c[2] or {}).get("If-Match")) for c in client.calls]
    assert methods == [("GET", None), ("PATCH", '"1"'), ("GET", None), ("PATCH", '"2"')]
    assert client.calls[-1][1]["identity"]["userAssignedIdentities"] == {ID1: {}, ID2: {}}
    assert client.calls[-1][3] is True
    assert result.after_state == S(True, (ID1, ID2))


def test_update_uses_the_etag_header_when_the_body_has_none():
    client = EtagClient([{"etag": 'W/"9"', "identity": None}], etag_in="header")
    ids.update_identity(client, "/vm", lambda cur: ids.plan_identity(cur, True, None))
    assert client.calls[1][2] == {"If-Match": 'W/"9"'}


def test_update_gives_up_after_bounded_attempts():
    client = EtagClient([{"etag": '"1"', "identity": None}], stale_patches=100)
    with pytest.raises(ArmError) as info:
        ids.update_identity(client, "/vm", lambda cur: ids.plan_identity(cur, True, None), attempts=3)
    assert info.value.status == 412
    assert [c[0] for c in client.calls].count("PATCH") == 3


def test_check_mode_and_no_change_make_no_patch():
    resource = {"etag": '"1"', "identity": {"type": "SystemAssigned"}}
    client = EtagClient([resource])
    unchanged = ids.update_identity(client, "/vm", lambda cur: ids.plan_identity(cur, True, None))
    assert not unchanged.changed
    predicted = ids.update_identity(client, "/vm", lambda cur: ids.plan_identity(cur, False, None), check_mode=True)
    assert predicted.changed and predicted.after_state == S(False, ())
    assert [c[0] for c in client.calls] == ["GET", "GET"]


def test_diff_view_is_sorted_and_typed():
    assert ids.diff_view(S(True, (ID2, ID1))) == {
        "type": "SystemAssigned, UserAssigned",
        "system_assigned": True,
        "user_assigned": [ID1, ID2],
    }


def test_predicted_facts_keep_known_ids_and_leave_new_system_principal_unknown():
    current = {"type": "UserAssigned", "userAssignedIdentities": {ID1: {"principalId": "p1", "clientId": "c1"}}}
    known = {ID2.lower(): {"properties": {"principalId": "p2", "clientId": "c2"}}}
    facts = ids.predicted_facts(current, S(True, (ID1, ID2)), known)
    assert facts == {
        "type": "SystemAssigned, UserAssigned",
        "principal_id": None,
        "tenant_id": None,
        "user_assigned": {
            ID1: {"principal_id": "p1", "client_id": "c1"},
            ID2: {"principal_id": "p2", "client_id": "c2"},
        },
    }
    kept = ids.predicted_facts({"type": "SystemAssigned", "principalId": "p0", "tenantId": "t"}, S(True, ()), {})
    assert (kept["principal_id"], kept["tenant_id"]) == ("p0", "t")


TAG = ("managed_identity.azure", "system-assigned-identity")


@pytest.mark.parametrize(
    "before, asked, tags, expected_system, expected_tags",
    [
        # Turning it on claims it: the tag joins the others.
        (S(False, ()), S(True, ()), {"env": "dev"}, True, {"env": "dev", TAG[0]: TAG[1]}),
        # On already (someone else's): not claimed, tags untouched.
        (S(True, ()), S(True, ()), {"env": "dev"}, True, None),
        # Turning off what we claimed (tag names ignore case): off, and the tag goes with it.
        (S(True, ()), S(False, ()), {"Managed_Identity.Azure": TAG[1], "env": "dev"}, False, {"env": "dev"}),
        # Turning off what is not ours (no tag, or another value): it stays on.
        (S(True, ()), S(False, ()), {"env": "dev"}, True, None),
        (S(True, ()), S(False, ()), {TAG[0]: "someone-else"}, True, None),
    ],
)
def test_claim_system_identity(before, asked, tags, expected_system, expected_tags):
    desired, new_tags = ids.claim_system_identity(before, asked, tags, TAG)
    assert (desired.system_assigned, new_tags) == (expected_system, expected_tags)


def test_the_record_goes_in_the_same_patch_as_the_identity():
    client = EtagClient([{"etag": '"1"', "tags": {"env": "dev"}, "identity": None}])
    result = ids.update_identity(client, "/vm", lambda cur: ids.plan_identity(cur, True, None), ownership_tag=TAG)
    assert result.changed
    [patch] = [c for c in client.calls if c[0] == "PATCH"]
    assert patch[1] == {"identity": {"type": "SystemAssigned"}, "tags": {"env": "dev", TAG[0]: TAG[1]}}


def test_a_patch_applied_whose_reply_was_lost_is_found_done_on_the_retry():
    """ARM applied the PATCH (identity and tag) but the reply was lost; the retried PATCH gets 412, the re-read finds
    both, and nothing more is sent."""
    before = {"etag": '"1"', "tags": {}, "identity": None}
    applied = {"etag": '"2"', "tags": {TAG[0]: TAG[1]}, "identity": {"type": "SystemAssigned", "principalId": "p"}}
    client = EtagClient([before, applied], stale_patches=1)
    result = ids.update_identity(client, "/vm", lambda cur: ids.plan_identity(cur, True, None), ownership_tag=TAG)
    assert [c[0] for c in client.calls] == ["GET", "PATCH", "GET"]
    assert not result.changed and result.after_state == S(True, ())


def test_turning_off_an_identity_that_is_not_ours_sends_nothing():
    resource = {"etag": '"1"', "tags": {"env": "dev"}, "identity": {"type": "SystemAssigned", "principalId": "p"}}
    client = EtagClient([resource])
    result = ids.update_identity(client, "/vm", lambda cur: ids.plan_identity(cur, False, None), ownership_tag=TAG)
    assert not result.changed
    assert [c[0] for c in client.calls] == ["GET"]


@pytest.mark.parametrize("tag", [{"a": "1", "b": "2"}, {"a": ""}, {" ": "x"}])
def test_an_ownership_tag_is_one_name_and_value(tag):
    with pytest.raises(ConfigurationError, match="ownership_tag"):
        ids.check_ownership_tag(tag)
