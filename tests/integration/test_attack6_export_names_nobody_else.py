"""attack6: a privacy export's link graph names nobody but the person, also in a refusal's reason.

Hana Sato and Hana Sato, her namesake at her address with another birth date, are two people; a
shop record "H. Sato" at that address, without a birth date, links fuzzily to either of them
equally well. The graph gives it to one and refuses the other link, whose reason says which two
records the link "would join". Each woman's export (``export_person`` with the probabilistic
settings ingest uses, on the in-memory, SQLite and DynamoDB stores) explains her customer's
links: a record that is not hers may be there only as "another customer's record", and a pair
reaching one keeps its outcome and score, not what the matcher compared (docs/privacy.md,
"export"). Before attack6 the refusal's reason quoted the other woman's record key
(``... but it would join crm:contact:1 and mail:contact:3: different dates of birth``) and a pair in
review listed how the stranger's first name and birth date compare with the person's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from core.export_identity import OTHER_RECORD, for_the_subject
from core.privacy_export import export_person
from core.schema import Identifier
from tests.integration.identity_attack_records import HANA, flat, groups, ingest_settings, resolve_lines
from tests.integration.test_erasure_attacks import STORES, Stores

HOME = {**HANA, "city": "Manchester"}
HER = flat("crm", "1", **HOME, email="hana.sato@corp.jp")
VAGUE = flat("shop", "2", **{**HOME, "first_name": "H", "date_of_birth": None}, email="hs@shop.example")
NAMESAKE = flat("mail", "3", **{**HOME, "date_of_birth": "1990-02-14"}, email="hana.s@example.com")
KEYS = {"crm:contact:1", "shop:contact:2", "mail:contact:3"}


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _crossing(value: Any, own: set[str]) -> list[dict[str, Any]]:
    """Every dict of the export that is about a pair reaching another customer's record."""
    if isinstance(value, list):
        return [d for v in value for d in _crossing(v, own)]
    if not isinstance(value, dict):
        return []
    found = [d for v in value.values() for d in _crossing(v, own)]
    if OTHER_RECORD in (value.get("records") or ()):
        found.append(value)
    return found


@pytest.mark.parametrize("stores_of", [STORES[name] for name in sorted(STORES)], ids=sorted(STORES))
def test_each_womans_export_names_no_record_of_the_other_and_compares_none_of_her_values(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    with stores_of() as stores:
        resolve_lines([HER, VAGUE, NAMESAKE], stores.profiles, settings=ingest_settings())
        customers = groups(stores.profiles)
        assert len(customers) == 2
        assert {"crm:1", "mail:3"} not in [set(c) for c in customers]
        # the vague record joined one of the two; the other link was refused as a conflict
        for email in ("hana.sato@corp.jp", "hana.s@example.com"):
            export = export_person(
                stores.profiles,
                Identifier.assemble(kind="email", value=email),
                erasure=stores.erasure,
                identity=ingest_settings(),
            )
            assert export is not None
            assert export.identity is not None
            own = {s.key for s in export.sources}
            identity = json.loads(json.dumps(export.identity))
            assert any(r["kind"] == "conflict" for r in identity["refused"]), identity["refused"]
            others = KEYS - own
            named = [s for s in _strings(identity) for key in others if key in s]
            assert named == [], (email, named)
            crossing = _crossing(identity, own)
            assert crossing, identity  # the pairs with the other woman's record are there, masked
            for pair in crossing:
                assert not {"fields", "review_fields", "conflicts"} & set(pair), (email, pair)
                assert "different" not in pair.get("reason", ""), (email, pair)


def test_a_reason_naming_another_record_is_masked_wherever_it_stands() -> None:
    """The masking reads every string, not only lists of record keys: a reason of a pair between two
    of her own records that names a third record (the cap's, a conflict's "would join") names it
    only as another customer's record; her own keys, values and reviewers' times stay as written."""
    own = {"crm:contact:1", "shop:contact:2"}
    explanation = {
        "refused": [
            {
                "records": ["crm:contact:1", "shop:contact:2"],
                "kind": "conflict",
                "reason": "score 1.0000, but it would join crm:contact:1 and mail:contact:3: different dates "
                "of birth",
            },
            {
                "records": ["crm:contact:1", "shop:contact:9"],
                "kind": "cap",
                "reason": "shop:contact:9 has more than 10 fuzzy links: it joined 10 groups of records "
                "already",
            },
            {
                "records": ["crm:contact:1", "shop:contact:2"],
                "kind": "rejected",
                "reason": "rejected by ana at 2026-01-01T00:00:00+00:00",
            },
        ]
    }
    masked = for_the_subject(explanation, own)
    text = json.dumps(masked)
    assert "mail:contact:3" not in text
    assert "shop:contact:9" not in text
    assert masked["refused"][1]["reason"].startswith(OTHER_RECORD)
    assert masked["refused"][2]["reason"] == "rejected by ana at 2026-01-01T00:00:00+00:00"
    assert masked["refused"][0]["records"] == ["crm:contact:1", "shop:contact:2"]
