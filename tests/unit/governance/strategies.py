"""Hypothesis strategies for the governed view: people whose every value is a unique, recognisable
token, so that a test can search an answer for a value the role may not read and find it only if
it leaked (never by coincidence), and role grants of every shape."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from core.governance.explain import Explanation, Link, explain
from core.governance.history import HistoryEvent, HistoryPage, event_id_for
from core.governance.policy import COMPUTED_FIELDS, RoleGrant
from core.governance.reading import PersonPage, ReadRecord
from core.merge import build_profile
from core.schema import ConsentState, DroppedValue, Identifier, Order, OrderSummary, SourceRecord

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TRAIT_NAMES = (
    "first_name",
    "last_name",
    "city",
    "country",
    "complaint_last",
    "product_sku",
    "preference_x",
    "shoe_size",
)
CHANNELS = ("email", "sms", "push")
SOURCES = ("hubspot", "shopify", "mailchimp")
DROPPED_FIELDS = (
    "email",
    "phone",
    "traits",
    "traits.first_name",
    "traits.shoe_size",
    "consent",
    "consent.email",
    "orders",
    "orders[0]",
    "unheard_of",
)
HEX = "0123456789abcdef"


@dataclass
class Generated:
    """One person and everything the API could show of them, and the secret tokens by kind."""

    customer_id: str
    records: list[SourceRecord]
    page: PersonPage
    history: HistoryPage
    explanation: Explanation
    reads: list[ReadRecord]
    emails: list[str]
    phones: list[str]


@st.composite
def people(draw: st.DrawFn) -> Generated:
    counter = itertools.count(1)

    def token(kind: str) -> str:
        return f"{kind}{next(counter):04d}x{draw(st.text(HEX, min_size=2, max_size=5))}"

    emails = [f"{token('em')}@{token('dm')}.example.com" for _ in range(draw(st.integers(0, 3)))]
    phones = [
        "+447" + f"{next(counter):03d}" + draw(st.text("0123456789", min_size=6, max_size=6))
        for _ in range(draw(st.integers(0, 2)))
    ]
    records: list[SourceRecord] = []
    for n in range(draw(st.integers(1, 4))):
        source = draw(st.sampled_from(SOURCES))
        source_id = token("sid")
        own_emails = draw(st.lists(st.sampled_from(emails), unique=True, max_size=2)) if emails else []
        own_phones = draw(st.lists(st.sampled_from(phones), unique=True, max_size=2)) if phones else []
        # After the first, a record may be a child object (an order) that joins the first by its id.
        owner = records[0].key if records and draw(st.booleans()) else None
        object_type = "order" if owner else "contact"
        idents = [Identifier(kind="source", value=f"{source}:{object_type}:{source_id}")]
        idents += [Identifier(kind="email", value=e) for e in own_emails]
        idents += [Identifier(kind="phone", value=p) for p in own_phones]
        names = draw(st.lists(st.sampled_from(TRAIT_NAMES), unique=True, max_size=5))
        channels = draw(st.lists(st.sampled_from(CHANNELS), unique=True, max_size=3))
        at = T0 + timedelta(days=n, seconds=draw(st.integers(0, 86_000)))
        orders = tuple(
            Order(
                id=token("ord"),
                total=Decimal(draw(st.integers(0, 100_000))) / 100,
                currency=draw(st.sampled_from(["GBP", "EUR"])),
                created_at=at - timedelta(days=draw(st.integers(0, 300))),
                status=draw(st.sampled_from(["paid", "refunded"])),
            )
            for _ in range(draw(st.integers(0, 2)))
        )
        dropped = []
        for field_name in draw(st.lists(st.sampled_from(DROPPED_FIELDS), unique=True, max_size=3)):
            value = token("dv")
            # A reason may quote the value, as the normalisers' reasons sometimes do.
            dropped.append(DroppedValue(field=field_name, value=value, reason=f"not usable: '{value}'"))
        if owner is not None:
            idents.append(Identifier(kind="source", value=owner))
        summary = None
        if draw(st.booleans()):
            summary = OrderSummary(
                orders=draw(st.integers(1, 500)),
                paid={"GBP": draw(st.integers(1, 400))},
                totals={"GBP": Decimal(draw(st.integers(1, 10**7))) / 100},
                first_paid_at=at - timedelta(days=900),
                last_paid_at=at - timedelta(days=400),
            )
        records.append(
            SourceRecord(
                source=source,
                object_type=object_type,
                source_id=source_id,
                updated_at=at,
                identifiers=tuple(sorted(idents, key=lambda i: (i.kind, i.value))),
                traits={name: token("tv") for name in names},
                consent={c: ConsentState(granted=draw(st.booleans()), changed_at=at) for c in channels},
                orders=orders,
                dropped=tuple(dropped),
                level="child" if owner else "person",
                owner=owner,
                order_summary=summary,
            )
        )
    cid = "cus_" + token("c")
    profile = build_profile(cid, records, version=draw(st.integers(1, 9)))
    keys = sorted(r.key for r in records)
    page = PersonPage(cid, profile, None, tuple(sorted(records, key=lambda r: r.key)), None)
    events = []
    for n in range(draw(st.integers(0, 3))):
        at = T0 + timedelta(hours=n)
        kind = draw(st.sampled_from(["merge", "source_arrived", "split", "review"]))
        events.append(
            HistoryEvent(
                customer_id=cid,
                event_id=event_id_for(cid, kind, at, str(n)),
                at=at,
                kind=kind,
                actor=f"run:hubspot:{token('act')}",
                reason=f"because {token('rs')}",
                source_keys=tuple(draw(st.lists(st.sampled_from(keys), unique=True, max_size=2))),
                identifiers=tuple(
                    f"{'email' if '@' in v else 'phone'}#{v}"
                    for v in draw(st.lists(st.sampled_from(emails + phones), unique=True, max_size=2))
                )
                if emails + phones
                else (),
                customers=(f"cus_{token('c')}",),
            )
        )
    links = []
    if len(keys) >= 2 and draw(st.booleans()):
        links.append(Link(keys[0], keys[1], "fuzzy", "names agree", score=0.93))
    reads = [
        ReadRecord(
            cid,
            T0,
            token("rq"),
            f"arn:aws:sts::1:assumed-role/{token('pr')}/s",
            "support",
            "profile",
            "email",
            ("traits.first_name",),
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    return Generated(
        cid,
        records,
        page,
        HistoryPage(tuple(events), None),
        explain(cid, records, links=links),
        reads,
        emails,
        phones,
    )


ACCESS = st.sampled_from(["read", "mask", "none"])


@st.composite
def grants(draw: st.DrawFn) -> RoleGrant:
    patterns = st.sampled_from([*TRAIT_NAMES, "*", "compl*", "pref*", "nothing_matches"])
    identifiers: dict[str, Any] = {}
    for kind in ("email", "phone", "source"):
        access = draw(ACCESS)
        if access != "none" or draw(st.booleans()):
            identifiers[kind] = access
    return RoleGrant(
        traits=tuple(draw(st.lists(patterns, max_size=3))),
        masked_traits=tuple(draw(st.lists(patterns, max_size=3))),
        identifiers=identifiers,
        computed=tuple(draw(st.lists(st.sampled_from([*COMPUTED_FIELDS, "*"]), unique=True, max_size=3))),
        consent=tuple(draw(st.lists(st.sampled_from([*CHANNELS, "*", "e*"]), unique=True, max_size=2))),
        orders=draw(st.booleans()),
        sources=draw(st.booleans()),
        history=draw(st.booleans()),
        explain=draw(st.booleans()),
        reads=draw(st.booleans()),
    )
