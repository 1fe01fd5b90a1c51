"""The role policy: the sample's roles follow the practice the issue sets, callers map to roles by ARN
or tag, an unlisted caller reads nothing, and a malformed document says what to fix."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from core.governance.errors import PolicyError
from core.governance.policy import COMPUTED_FIELDS, Principal, RoleGrant, load_policy, sample_policy

SAMPLE = sample_policy()


def test_the_sample_policy_follows_customer_data_practice() -> None:
    # GIVEN the shipped policy
    support, marketing, analyst, admin = (
        SAMPLE.roles[n] for n in ("support", "marketing", "analyst", "admin")
    )
    # THEN support reads contact details, products and complaints, but no marketing data
    assert {support.identifier_access(k) for k in ("email", "phone")} == {"read"}
    assert all(support.trait_access(t) == "read" for t in ("first_name", "last_name", "city", "complaint_x"))
    assert support.trait_access("product_sku") == "read"
    assert support.orders
    assert not support.consent
    assert not support.computed_allowed("lifetime_value")
    # AND marketing reads transactions and preferences, and may only know contact details exist
    assert marketing.orders
    assert all(marketing.computed_allowed(c) for c in COMPUTED_FIELDS)
    assert marketing.consent_allowed("email")
    assert marketing.trait_access("preference_channel") == "read"
    assert {marketing.identifier_access(k) for k in ("email", "phone")} == {"mask"}
    assert marketing.identifier_access("source") == "none"
    assert not marketing.sources
    # AND analysts cannot tell who the person is
    assert all(analyst.identifier_access(k) == "none" for k in ("email", "phone", "source"))
    assert analyst.trait_access("first_name") == analyst.trait_access("last_name") == "none"
    # AND only admin reads the identity graph and the read audit
    assert [n for n, g in SAMPLE.roles.items() if g.explain or g.reads] == ["admin"]
    assert admin.trait_access("anything_at_all") == "read"


@pytest.mark.parametrize(
    ("arn", "role"),
    [
        ("arn:aws:sts::123456789012:assumed-role/profilesync-support/ann", "support"),
        ("arn:aws:sts::123456789012:assumed-role/profilesync-support-emea/bo", "support"),
        ("arn:aws:sts::123456789012:assumed-role/profilesync-marketing/cy", "marketing"),
        ("arn:aws:iam::123456789012:role/profilesync-analyst", "analyst"),
        ("arn:aws:sts::999999999999:assumed-role/profilesync-admin/root-ish", "admin"),
        ("arn:aws-cn:sts::123456789012:assumed-role/profilesync-admin/x", None),  # another partition
        ("arn:aws:sts::123456789012:assumed-role/profilesync-administrator/x", None),
        ("arn:aws:iam::123456789012:user/Admin", None),
        (
            "arn:aws:sts::123456789012:assumed-role/support/profilesync-support",
            None,
        ),  # the session is not the role
    ],
)
def test_callers_map_to_roles_by_the_arn_of_their_role(arn: str, role: str | None) -> None:
    found = SAMPLE.role_for(Principal.from_arn(arn))
    assert (found[0] if found else None) == role


def test_a_session_arn_gives_the_role_it_assumed() -> None:
    principal = Principal.from_arn("arn:aws:sts::123456789012:assumed-role/profilesync-support/ann@corp")
    assert principal.role_arn == "arn:aws:iam::123456789012:role/profilesync-support"
    assert principal.session == "ann@corp"
    assert principal.iam_entity == ("role", "profilesync-support")
    assert Principal.from_arn("arn:aws:iam::1:user/ops/jo").iam_entity == ("user", "jo")
    assert Principal.from_arn("arn:aws:iam::1:root").iam_entity is None


class Tags:
    def __init__(self, tags: Mapping[str, str]) -> None:
        self.tags = tags
        self.calls = 0

    def __call__(self, principal: Principal) -> Mapping[str, str]:
        self.calls += 1
        return self.tags


def test_tags_decide_only_when_no_arn_pattern_matches_and_are_read_once() -> None:
    # GIVEN a caller whose role name matches no pattern but carries the marketing tag
    tags = Tags({"team": "growth", "profilesync-role": "marketing"})
    found = SAMPLE.role_for(Principal.from_arn("arn:aws:sts::1:assumed-role/growth-team/x"), tags)
    # THEN it is marketing, and IAM was asked once
    assert found is not None
    assert found[0] == "marketing"
    assert tags.calls == 1
    # AND a caller matched by its ARN costs no call to IAM, whatever its tags say
    tags = Tags({"profilesync-role": "admin"})
    found = SAMPLE.role_for(Principal.from_arn("arn:aws:sts::1:assumed-role/profilesync-analyst/x"), tags)
    assert found is not None
    assert found[0] == "analyst"
    assert tags.calls == 0
    # AND a tag value that differs matches nothing
    assert (
        SAMPLE.role_for(Principal.from_arn("arn:aws:iam::1:user/x"), Tags({"profilesync-role": "Admin"}))
        is None
    )


def test_a_role_that_is_not_listed_reads_nothing() -> None:
    assert SAMPLE.role("auditor") is None
    assert (
        load_policy("roles: {}").role_for(Principal.from_arn("arn:aws:iam::1:role/profilesync-admin")) is None
    )


def test_the_same_policy_loads_from_json_and_yaml() -> None:
    document = {
        "version": 1,
        "roles": {
            "ops": {
                "principals": ["arn:aws:iam::*:role/ops"],
                "traits": ["*"],
                "identifiers": {"email": "mask"},
            }
        },
    }
    from_json = load_policy(json.dumps(document))
    from_yaml = load_policy(
        "version: 1\nroles:\n  ops:\n    principals: ['arn:aws:iam::*:role/ops']\n"
        "    traits: ['*']\n    identifiers: {email: mask}\n"
    )
    assert from_json == from_yaml
    assert from_json.roles["ops"] == RoleGrant(
        principals=("arn:aws:iam::*:role/ops",), traits=("*",), identifiers={"email": "mask"}
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("roles: [", "neither JSON nor YAML"),
        ("- a list", "must be a mapping"),
        ("roles: {ops: {computed: [lifetime]}}", "roles.ops.computed: Value error, unknown computed value"),
        ("roles: {ops: {principals: [ops-role]}}", "is not an ARN pattern"),
        ("roles: {Ops: {}}", "roles.Ops.[key]: role names are lower-case"),
        ("roles: {ops: {identifiers: {email: peek}}}", "roles.ops.identifiers.email"),
        ("roles: {ops: {identifiers: {fax: read}}}", "roles.ops.identifiers.fax"),
        ("roles: {ops: {traits: [a], extra: 1}}", "roles.ops.extra"),
        ("version: 2\nroles: {}", "version"),
    ],
)
def test_a_malformed_policy_says_which_entry_is_wrong(text: str, expected: str) -> None:
    with pytest.raises(PolicyError, match="role policy") as raised:
        load_policy(text)
    assert expected in str(raised.value)
