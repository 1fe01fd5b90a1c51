"""Push modes and consent: who a push may reach (``core.push_policy``) and how ``push_profiles`` counts
it. The per-connector proof (nobody created in update mode or without consent) is in the contract
suite; here are the rules themselves, with hypothesis-made profiles."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.connector import ConnectorSpec, Payload, PushOutcome, PushRules
from core.errors import ConnectorConfigError
from core.ports import PushedState
from core.push_policy import consent_allows, decide, holds, push_mode_of
from core.schema import ConsentValue, Identifier, Profile, SourceRef
from core.storage.memory import InMemorySyncStateStore
from core.sync import push_profiles

T = datetime(2026, 3, 1, tzinfo=UTC)
RULES = PushRules(mode="update", channel="email", holder_types=frozenset({"customer"}))


def _profile(
    customer_id: str = "cus_1",
    sources: Sequence[tuple[str, str]] = (),
    consent: bool | None = None,
    email: str = "ann@example.com",
) -> Profile:
    return Profile(
        customer_id=customer_id,
        identifiers=(Identifier(kind="email", value=email),),
        sources=tuple(SourceRef(source=s, object_type=t, id=f"{s}-{t}", updated_at=T) for s, t in sources),
        consent={} if consent is None else {"email": ConsentValue(granted=consent, changed_at=T, source="x")},
    )


def _spec(rules: PushRules = RULES) -> ConnectorSpec:
    return ConnectorSpec(
        name="shop", kind="ecommerce", description="t", default_base_url="https://x", push_rules=rules
    )


@pytest.mark.parametrize(
    ("sources", "pushed", "mode", "consent", "expected"),
    [
        ((("shop", "customer"),), False, "update", None, "update"),  # held: updated whatever the consent
        ((("shop", "customer"),), False, "upsert", False, "update"),
        ((), True, "update", None, "update"),  # pushed there before: held
        ((("shop", "order"),), False, "update", True, "skipped_by_mode"),  # an order is not a customer
        ((("crm", "customer"),), False, "update", True, "skipped_by_mode"),  # another tool's customer
        ((), False, "upsert", True, "create"),
        ((), False, "upsert", False, "skipped_by_consent"),
        ((), False, "upsert", None, "skipped_by_consent"),  # no decision is not consent
    ],
)
def test_decisions(
    sources: tuple[tuple[str, str], ...], pushed: bool, mode: str, consent: bool | None, expected: str
) -> None:
    state = PushedState("cus_1", "shop", "h", "r1") if pushed else None
    assert decide(_profile(sources=sources, consent=consent), "shop", RULES, mode, state) == expected  # type: ignore[arg-type]


def test_a_tool_that_serves_no_channel_asks_no_consent_and_empty_holder_types_mean_any_record() -> None:
    crm = PushRules(mode="upsert", channel=None)
    assert consent_allows(_profile(consent=False), None)
    assert decide(_profile(consent=False), "crm", crm, "upsert", None) == "create"
    assert holds(_profile(sources=[("crm", "anything")]), "crm", crm, None)


@settings(max_examples=200, deadline=None)
@given(
    sources=st.lists(
        st.tuples(st.sampled_from(["shop", "crm"]), st.sampled_from(["customer", "order"])), max_size=3
    ),
    pushed=st.booleans(),
    mode=st.sampled_from(["update", "upsert"]),
    consent=st.sampled_from([True, False, None]),
    channel=st.sampled_from(["email", None]),
)
def test_nobody_is_created_in_update_mode_or_without_the_channels_consent(
    sources: list[tuple[str, str]], pushed: bool, mode: str, consent: bool | None, channel: str | None
) -> None:
    rules = PushRules(channel=channel, holder_types=frozenset({"customer"}))
    profile = _profile(sources=sources, consent=consent)
    state = PushedState("cus_1", "shop", "h") if pushed else None
    decision = decide(profile, "shop", rules, mode, state)  # type: ignore[arg-type]
    held = pushed or ("shop", "customer") in sources
    assert (decision == "update") == held
    if decision == "create":
        assert mode == "upsert"
        assert channel is None or consent is True


def test_the_mode_of_an_instance_is_checked() -> None:
    assert push_mode_of(_spec(), None) == "update"
    assert push_mode_of(_spec(), "upsert") == "upsert"
    with pytest.raises(ConnectorConfigError, match="not one of update, upsert"):
        push_mode_of(_spec(), "create")
    only_update = _spec(PushRules(mode="update", modes=frozenset({"update"})))
    with pytest.raises(ConnectorConfigError, match="cannot push in upsert mode"):
        push_mode_of(only_update, "upsert")


class _Tool:
    """A destination fake at the port: one payload per profile, every push accepted."""

    def __init__(self, rules: PushRules = RULES) -> None:
        self.spec = _spec(rules)
        self.sent: list[Payload] = []

    def from_profile(self, profile: Profile) -> Payload | None:
        if profile.customer_id == "cus_nothing":
            return None
        return Payload(profile.customer_id, profile.identifiers[0].value, {"v": 1})

    def push(self, payloads: Sequence[Payload]) -> list[PushOutcome]:
        self.sent.extend(payloads)
        return [
            PushOutcome(p.customer_id, ok=True, remote_id=p.remote_id or f"new-{p.customer_id}")
            for p in payloads
        ]


def test_push_profiles_counts_every_profile_once_and_passes_remote_ids() -> None:
    # GIVEN a held customer, one pushed there before, a consenting and a silent stranger, one without payload
    profiles = [
        _profile("cus_held", sources=[("shop", "customer")]),
        _profile("cus_pushed"),
        _profile("cus_yes", consent=True, email="yes@example.com"),
        _profile("cus_silent", email="silent@example.com"),
        _profile("cus_nothing"),
    ]
    state = InMemorySyncStateStore()
    state.put_pushed([PushedState("cus_pushed", "shop", "old hash", "remote-7")])
    tool = _Tool()
    # WHEN pushed in the default (update) mode, then in upsert mode
    update = push_profiles(tool, profiles, state)
    upsert = push_profiles(tool, profiles, state, mode="upsert")
    # THEN update mode updates the two held and skips both strangers; upsert creates the consenting one
    assert (update.mode, update.updated, update.created, update.skipped_by_mode) == ("update", 2, 0, 2)
    assert (upsert.mode, upsert.created, upsert.skipped_by_consent, upsert.skipped_unchanged) == (
        "upsert",
        1,
        1,
        2,
    )
    for report in (update, upsert):
        assert report.considered == (
            report.no_payload
            + report.skipped_by_mode
            + report.skipped_by_consent
            + report.skipped_unchanged
            + report.sent
        )
        assert report.pushed == report.created + report.updated
    # AND the tool got the remote id of the earlier push, and nobody it was not allowed to create
    assert {p.customer_id: p.remote_id for p in tool.sent} == {
        "cus_held": None,
        "cus_pushed": "remote-7",
        "cus_yes": None,
    }
