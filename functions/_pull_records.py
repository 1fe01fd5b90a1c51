"""The pull function's per-page record steps (functions.pull): normalising a page's drafts,
splitting tombstones from them, and a quarantine entry of a raw value."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.normalise import NormaliseOptions, normalise_record
from core.ports import QuarantineEntry
from core.raw_json import raw_json
from core.schema import Quarantined, RecordDraft, SourceRecord

if TYPE_CHECKING:
    from core.schema import SourceDeletion

__all__ = ["entry", "normalised", "split_tombstones"]


def normalised(
    drafts: Sequence[RecordDraft], options: NormaliseOptions
) -> tuple[list[SourceRecord], list[tuple[Quarantined, RecordDraft]]]:
    """The page's records normalised with the instance's ``options`` (its phone region), and the
    malformed ones each with its draft."""
    records: list[SourceRecord] = []
    bad: list[tuple[Quarantined, RecordDraft]] = []
    for draft in drafts:
        outcome = normalise_record(draft, options)
        if isinstance(outcome, Quarantined):
            bad.append((outcome, draft))
        else:
            records.append(outcome)
    return records, bad


def split_tombstones(
    drafts: list[RecordDraft],
) -> tuple[list[RecordDraft], list[SourceDeletion], list[tuple[Quarantined, RecordDraft]]]:
    if not any(d.deleted for d in drafts):
        return drafts, [], []
    from core.retirement import split_tombstones as split

    return split(drafts)


def entry(
    connector: str, key: str, reason: str, raw: Any, at: datetime, subjects: tuple[str, ...] = ()
) -> QuarantineEntry:
    text = raw if isinstance(raw, str) else raw_json(raw, sort_keys=True)
    return QuarantineEntry(connector=connector, key=key, reason=reason, raw=text, at=at, subjects=subjects)
