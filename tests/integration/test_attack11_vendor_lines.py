"""attack11: the vendors' own objects as lines of ``profilesync resolve``.

Every built-in connector's sandbox objects (shaped after the vendor's published examples; the
sandboxes share their generated people, so one person is in several tools) and, for HubSpot, Klaviyo,
Mailchimp and Stripe, the objects their published specs document (``/work/shared/specs/``, through
``profilesync.testing.spec_objects``) are mapped by the connector (``to_records``) and written as the
flat lines the JSON-lines source reads. Then:

* each line reads back as the connector's own draft: normalised, the same record or the same
  quarantine reason (what a vendor field turns into survives the flat format);
* resolved at two batch sizes, every line is in exactly one output profile or in the quarantine
  file, ``records read = normalised + quarantined`` holds, and the people are the same.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.jsonl import draft_from_flat
from core.connector import RawPage
from core.normalise import NormaliseOptions, normalise_record
from core.schema import Quarantined, RecordDraft
from profilesync.cli import main
from profilesync.registry import get
from profilesync.testing.fuzz import vendor_objects
from profilesync.testing.spec_objects import spec_objects
from tests.integration.test_attack3_resolve_counts import _summary

pytestmark = pytest.mark.slow

CONNECTORS = ("hubspot", "mailchimp", "shopify", "klaviyo", "stripe", "salesforce", "woocommerce")
SPEC_VENDORS = ("hubspot", "klaviyo", "mailchimp", "stripe")


def _drafts(name: str) -> list[RecordDraft]:
    plugin = get(name)
    assert plugin.sandbox is not None
    objects = vendor_objects(plugin, people=20)
    if name in SPEC_VENDORS:
        objects = objects + spec_objects(name, objects)
    connector = plugin.build(plugin.sandbox(people=0).settings())
    try:
        return [d for kind, raw in objects for d in connector.to_records(RawPage([raw], None, kind))]
    finally:
        connector.close()


def _flat(draft: RecordDraft) -> dict[str, Any]:
    """The draft as one line of the JSON-lines source (its traits beside the reserved fields)."""
    line: dict[str, Any] = dict(draft.traits)
    line.update(
        {
            "source": draft.source,
            "object_type": draft.object_type,
            "id": draft.source_id,
            "updated_at": draft.updated_at,
            "email": draft.emails,
            "phone": draft.phones,
            "consent": draft.consent,
            "orders": draft.orders,
        }
    )
    if draft.owner_id is not None:
        line["owner_id"] = draft.owner_id
    if draft.owner_type is not None:
        line["owner_type"] = draft.owner_type
    return line


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value))


def _outcome(draft: RecordDraft) -> Any:
    outcome = normalise_record(draft, NormaliseOptions())
    if isinstance(outcome, Quarantined):
        return ("quarantined", outcome.reason)
    # Left out: what the flat format cannot say (Stripe's "undated": a time that only bounds the last
    # change), and the raw object the connector keeps beside the record
    return outcome.model_dump(mode="json", exclude={"dropped", "undated", "raw"})


@pytest.fixture(scope="module")
def drafts() -> list[RecordDraft]:
    return [d for name in CONNECTORS for d in _drafts(name) if not d.deleted]


def test_each_vendor_object_reads_back_from_its_flat_line_as_the_connector_mapped_it(
    drafts: list[RecordDraft],
) -> None:
    # GIVEN every vendor object, mapped by its connector, and written as a flat line
    differ = []
    for draft in drafts:
        line = json.loads(json.dumps(_flat(draft), default=_json))
        # THEN the line, read by the JSON-lines source, normalises as the connector's draft does
        if _outcome(draft_from_flat(line)) != _outcome(draft):
            differ.append(f"{draft.source}:{draft.object_type}:{draft.source_id}")
    assert differ == []


@pytest.mark.parametrize("batch_size", [20_000, 7])
def test_vendor_lines_through_resolve_lose_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], drafts: list[RecordDraft], batch_size: int
) -> None:
    # GIVEN the lines of every tool in one file
    source = tmp_path / "vendors.jsonl"
    source.write_text("".join(json.dumps(_flat(d), default=_json) + "\n" for d in drafts), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    # WHEN resolved
    argv = ["resolve", str(source), "--out", str(out), "--quiet", "--batch-size", str(batch_size)]
    assert main(argv) == 0
    counts = _summary(capsys.readouterr().out)
    # THEN every line is in exactly one profile or quarantined, and the summary adds up
    profiles = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    stored = [f"{s['source']}:{s['object_type']}:{s['id']}" for p in profiles for s in p["sources"]]
    quarantine = tmp_path / "out.quarantine.jsonl"
    quarantined = quarantine.read_text(encoding="utf-8").splitlines() if quarantine.exists() else []
    keys = {f"{d.source}:{d.object_type}:{d.source_id}" for d in drafts}
    assert len(stored) == len(set(stored))
    assert counts["records read"] == len(drafts)
    assert counts["records read"] == counts["normalised"] + counts["quarantined"]
    assert counts["quarantined"] == len(quarantined)
    assert len(set(stored)) + len({json.loads(q)["source_id"] for q in quarantined}) >= len(keys)
    assert set(stored) <= keys
