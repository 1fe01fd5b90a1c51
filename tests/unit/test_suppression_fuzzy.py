"""core.suppression_fuzzy: an erased person's fingerprint drops exactly the records the model would
have linked to her record, judged from keyed hashes.

Both directions, on hypothesis-made pairs of records drawn from small pools of one family's names,
birth dates and addresses (so that most pairs share a look-up key and differ in a field or two):

* no stranger lost: a record the check drops is one the model links to the erased record
  (``core.linkage.decide``), never one it reviews (a namesake with another birth date) or refuses;
* her record comes back never when it holds her compared fields as she did (another tool: another
  email and record id), and the model links the two.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from core.config import IdentitySection
from core.identity import IdentityPolicy
from core.link_nodes import graph_node
from core.link_settings import linkage_settings
from core.linkage import decide
from core.schema import SourceRecord
from core.storage.memory_privacy import InMemorySuppressionStore
from core.suppression import SuppressionCheck
from core.suppression_fuzzy import fingerprint_entries, lookup_keys
from core.testing.records import make_record

SALT = "fuzzy-salt"
POLICY = IdentityPolicy()
_shipped = linkage_settings(IdentitySection(mode="probabilistic"))
assert _shipped is not None
assert _shipped.model is not None
MODEL = _shipped.model
AT = datetime(2026, 3, 1, tzinfo=UTC)

FIELDS: dict[str, list[str | None]] = {
    "first_name": ["Hana", "HANA", "Hanna", "Yuki", "H", None],
    "last_name": ["Sato", "Satō", "Satoh", "Lee", None],
    "date_of_birth": ["1992-11-30", "1992-30-11", "1992-11-29", "1992-11-03", "1990-02-14", None],
    "address": ["8 Mill Lane", "8 Mill Ln", "9 Mill Lane", "Mill Lane", "8 Quay Street", None],
    "postcode": ["M4 5JD", "M4 5JE", "BS1 1AA", None],
    "city": ["Manchester", "Leeds", None],
}


@st.composite
def people(draw: st.DrawFn) -> dict[str, str]:
    return {k: v for k, pool in FIELDS.items() if (v := draw(st.sampled_from(pool))) is not None}


def _record(tool: str, traits: dict[str, Any], email: str | None) -> SourceRecord:
    return make_record(tool, "1", email=email, traits=traits)


def _dropped(erased: SourceRecord, incoming: SourceRecord) -> bool:
    store = InMemorySuppressionStore()
    store.suppress(fingerprint_entries([erased], POLICY, SALT, "req", AT))
    kept, dropped = SuppressionCheck(store, SALT).split([incoming], MODEL, POLICY)
    assert len(kept) + len(dropped) == 1
    return bool(dropped)


def _outcome(a: SourceRecord, b: SourceRecord) -> str:
    return decide(graph_node(a, POLICY).record, graph_node(b, POLICY).record, MODEL).outcome


@settings(max_examples=400, deadline=None)
@given(
    hers=people(),
    theirs=people(),
    emails=st.sampled_from(
        [
            (None, None),
            ("hana@corp.jp", None),
            ("hana@corp.jp", "hanasato@icloud.com"),
            ("hana@corp.jp", "hana@corp.jq"),
        ]
    ),
)
def test_a_record_the_fingerprint_drops_is_one_the_model_links_to_her_record(
    hers: dict[str, str], theirs: dict[str, str], emails: tuple[str | None, str | None]
) -> None:
    erased = _record("crm", hers, emails[0])
    incoming = _record("shop", theirs, emails[1])
    if _dropped(erased, incoming):
        assert _outcome(erased, incoming) == "link"


@settings(max_examples=200, deadline=None)
@given(hers=people(), email=st.sampled_from([None, "h.s.1992@icloud.com"]))
def test_her_record_in_another_tool_is_dropped_when_the_model_links_it(
    hers: dict[str, str], email: str | None
) -> None:
    erased = _record("crm", hers, "hana.sato@corp.jp")
    incoming = _record("shop", hers, email)
    linked = _outcome(erased, incoming) == "link"
    if linked and lookup_keys(graph_node(erased, POLICY).record):
        assert _dropped(erased, incoming)
    if not linked:
        assert not _dropped(erased, incoming)


def test_the_fingerprint_holds_no_value_and_each_entry_hashes_a_field_its_own_way() -> None:
    """Two records of one birth date (and name): the birth date's hash differs between the entries,
    and no entry holds a name, a date, a street or a postcode."""
    hana = {
        "first_name": "Hana",
        "last_name": "Sato",
        "date_of_birth": "1992-11-30",
        "address": "8 Mill Lane",
    }
    entries = fingerprint_entries([_record("crm", hana, "hana@corp.jp")], POLICY, SALT, "req", AT)
    assert [e.kind for e in entries] == ["fuzzy", "fuzzy"]
    text = repr(entries).lower()
    assert not [v for v in ("hana", "sato", "1992", "19921130", "mill", "corp") if v in text]
    births = {json.loads(e.fingerprint)[0]["date_of_birth"] for e in entries}
    assert len(births) == 2
