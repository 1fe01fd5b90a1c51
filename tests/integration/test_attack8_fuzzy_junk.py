"""attack8: junk against the fingerprints of an erased person (core.suppression_fuzzy).

After Hana's erasure with probabilistic identity, merge weighs every person record sharing a
look-up key with her fingerprints. Hypothesis draws records near hers and far from her: her names
in other cases, accents and scripts, with spaces and control characters, birth dates as tools type
them (a day off, day and month swapped, digits slipped, impossible days, other formats, junk), her
house and street spelt otherwise or other ones, emails and phones or none. On the in-memory store
(the same code reads every store's entries), a batch of them, merged after her erasure:

* raises nothing, and loses nothing: every line is stored, quarantined or counted suppressed;
* drops only a record the model links to her own (``fingerprint_matcher`` agrees with a store
  holding her record: the record joins her customer there), and the same batch merged in any
  order drops the same records.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.identity import IdentityPolicy
from core.pipeline import IngestSettings
from core.schema import Identifier
from core.suppression import SuppressionCheck
from tests.integration.identity_attack_records import HANA, Flat, flat, groups, ingest_settings, resolve_lines
from tests.integration.test_erasure_attacks import SALT, STORES, Stores

CRM = flat("crm", "1", **HANA, city="Manchester", email="hana.sato@corp.jp")
HER = Identifier.assemble(kind="email", value="hana.sato@corp.jp")

FIRST = st.just("Hana") | st.sampled_from(
    ["Hana", "HANA", "hana", " Hana ", "Hána", "Hanna", "Hana-Mai", "ハナ", "H", "Yuki", ""]
)
LAST = st.just("Sato") | st.sampled_from(
    ["Sato", "SATO", "Satō", "Sato\t", "Satoh", "Sato-Smith", "佐藤", "S", "Tanaka", ""]
)
BIRTH = st.one_of(
    st.just("1992-11-30"),
    st.sampled_from(
        [
            "1992-11-30",
            "1992-11-29",
            "1992-12-01",
            "1992-30-11",
            "1992-11-03",
            "1929-11-30",
            "1992-11-31",
            "1992-02-30",
            "30/11/1992",
            "11/30/1992",
            "19921130",
            "1992",
            "0000-00-00",
            "9999-99-99",
            "",
        ]
    ),
    st.text(max_size=12),
)
ADDRESS = st.one_of(
    st.just("8 Mill Lane"),
    st.sampled_from(
        [
            "8 Mill Lane",
            "8 Mill Ln",
            "8 MILL LANE",
            "8  Mill   Lane",
            "Mill Lane",
            "9 Mill Lane",
            "8 Mil Lane",
        ]
    ),
    st.sampled_from(["Flat 2, 8 Mill Lane", "8a Mill Lane", "12 Oak Road", "", "8"]),
    st.text(max_size=20),
)
POSTCODE = st.sampled_from(["M4 5JD", "m45jd", "M4 5JE", "E1 6AN", "", "?"])
CONTACT = st.sampled_from([{}, {"email": "other@example.com"}, {"phone": "+447946000111"}, {"email": "junk"}])


@st.composite
def lines(draw: st.DrawFn) -> list[Flat]:
    out = []
    for i in range(draw(st.integers(1, 6))):
        fields = {
            "first_name": draw(FIRST),
            "last_name": draw(LAST),
            "date_of_birth": draw(BIRTH),
            "address": draw(ADDRESS),
            "postcode": draw(POSTCODE),
            **draw(CONTACT),
        }
        out.append(flat("shop", f"j{i}", **{k: v for k, v in fields.items() if v != ""}))
    return out


def _settings(stores: Stores) -> IngestSettings:
    return replace(ingest_settings(), suppression=SuppressionCheck(stores.suppression, SALT))


def _after_her_erasure(batch: list[Flat], batch_size: int) -> tuple[set[str], int]:
    """The records stored from ``batch`` merged after Hana's erasure, and how many were suppressed."""
    with STORES["memory"]() as stores:
        resolve_lines([CRM], stores.profiles, settings=_settings(stores))
        assert stores.erase(HER, "req-hana", IdentityPolicy(), _settings(stores)).outcome == "erased"
        report, quarantined = resolve_lines(
            batch, stores.profiles, settings=_settings(stores), batch_size=batch_size
        )
        stored = {key for group in groups(stores.profiles) for key in group}
        ingest = report.ingest
        # nothing lost: every line stored, quarantined or suppressed
        assert report.read == len(batch) == report.normalised + report.quarantined + report.erased_quarantined
        assert len(quarantined) == report.quarantined + report.erased_quarantined
        assert ingest.received == report.normalised
        assert len(stored) + ingest.suppressed == ingest.received - ingest.stale - ingest.unchanged
        return stored, ingest.suppressed


def _hers(batch: list[Flat]) -> set[str]:
    """The records of ``batch`` the model joins to her CRM record, each alone with it."""
    joined = set()
    for line in batch:
        with STORES["memory"]() as stores:
            resolve_lines([CRM, line], stores.profiles, settings=_settings(stores))
            key = f"shop:{line['id']}"
            if any(key in group and "crm:1" in group for group in groups(stores.profiles)):
                joined.add(key)
    return joined


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=lines(), batch_size=st.sampled_from([1, 100]), reverse=st.booleans())
def test_junk_after_her_erasure_drops_only_what_the_model_joins_to_her(
    batch: list[Flat], batch_size: int, reverse: bool
) -> None:
    stored, suppressed = _after_her_erasure(batch, batch_size)
    dropped = {f"shop:{line['id']}" for line in batch} - stored
    # Only a record the model joins to her record alone is dropped (quarantined ones aside).
    assert dropped - _hers(batch) <= {f"shop:{line['id']}" for line in batch if _quarantined(line)}
    # The same batch in the other order drops the same records.
    again, _ = _after_her_erasure(batch[::-1] if reverse else batch, 1 if batch_size == 100 else 100)
    assert again == stored
    assert suppressed <= len(batch)


def _quarantined(line: Flat) -> bool:
    from connectors.jsonl import draft_from_flat
    from core.normalise import normalise_record
    from core.schema import Quarantined

    return isinstance(normalise_record(draft_from_flat(dict(line))), Quarantined)
