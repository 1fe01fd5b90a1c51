"""fix21m: the ``vip`` thresholds per currency come from the configuration document's ``segments``
section, over the defaults, and every ingest (``IngestSettings``) builds profiles under them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from core.config import parse_config
from core.errors import ConfigurationError
from core.grow_mark import rules_fingerprint
from core.ingest_settings import IngestSettings
from core.merge import DEFAULT_RULES, VIP_LIFETIME_VALUE
from core.pipeline import ingest
from core.schema import Identifier, Order, SourceRecord
from core.segment_rules import configured_rules
from core.storage.memory import InMemoryProfileStore

DOCUMENT = """\
version: 1
segments:
  vip_lifetime_value:
    JPY: 1000
    KWD: 300.5
    "*": 5000
"""


def test_the_section_sets_thresholds_over_the_defaults() -> None:
    rules = parse_config(DOCUMENT, "profilesync.yaml").segments.rules()
    assert rules.vip_threshold("JPY") == Decimal("1000")
    assert str(rules.vip_threshold("KWD")) == "300.5"  # as written, not a float's digits
    assert rules.vip_threshold("USD") == VIP_LIFETIME_VALUE["USD"]  # a default it does not name
    assert rules.vip_threshold("XOF") == Decimal("5000")  # "*": every currency without its own
    assert rules_fingerprint(rules) != rules_fingerprint(DEFAULT_RULES)
    # no section: the default rules themselves
    assert parse_config("version: 1\n", "profilesync.yaml").segments.rules() is DEFAULT_RULES


@pytest.mark.parametrize(
    ("thresholds", "problem"),
    [("{jpy: 1000}", "vip_lifetime_value"), ("{JPY: -1}", "greater than 0"), ("{JPY: .nan}", "vip")],
)
def test_a_bad_threshold_is_a_clear_error(thresholds: str, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        parse_config(f"segments:\n  vip_lifetime_value: {thresholds}\n", "profilesync.yaml")


def _yen_buyer() -> SourceRecord:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    return SourceRecord(
        source="shop",
        object_type="customer",
        source_id="c1",
        updated_at=at,
        identifiers=(Identifier(kind="email", value="aiko@example.jp"),),
        orders=(Order(id="o1", total=Decimal("1200"), currency="JPY", created_at=at),),
    )


def test_every_ingest_builds_profiles_under_the_documents_thresholds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a shop in yen that calls a 1,000 JPY buyer vip in its document
    document = tmp_path / "profilesync.yaml"
    document.write_text(DOCUMENT, encoding="utf-8")
    monkeypatch.setenv("PROFILESYNC_CONFIG", str(document))
    assert configured_rules().vip_threshold("JPY") == Decimal("1000")
    # WHEN a 1,200 JPY buyer is ingested with the settings every path makes
    store = InMemoryProfileStore()
    ingest([_yen_buyer()], store, IngestSettings())
    # THEN she is vip, as the document says
    (profile,) = store.iter_profiles()
    assert profile.computed.segment == "vip"
    # AND without the section the default (150,000 JPY) holds: a customer
    document.write_text("version: 1\n", encoding="utf-8")
    assert configured_rules() is DEFAULT_RULES
    other = InMemoryProfileStore()
    ingest([_yen_buyer()], other, IngestSettings())
    assert next(iter(other.iter_profiles())).computed.segment == "customer"


def test_a_malformed_document_is_an_error_not_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = tmp_path / "profilesync.yaml"
    document.write_text("segments:\n  vip_lifetime_value: {JPY: lots}\n", encoding="utf-8")
    monkeypatch.setenv("PROFILESYNC_CONFIG", str(document))
    with pytest.raises(ConfigurationError, match="JPY"):
        configured_rules()
