"""The mark a pull puts on a record to date its version, and the dating every pull applies to it.

Tools stamp whole seconds. A cursor that knows a record it pulls was changed after the versions it
delivered on that second (``connectors.cursor_seconds``, ``connectors.cursor_ahead``, Stripe's
events) adds ``AFTER`` to the record: the microseconds past the vendor's time that date the
version. The draft mapped from it must carry them, or ingest orders two versions of one time by
content hash and keeps the first change half the time.

``drafts_of`` is where every connector's pages are mapped (``core.sync.pull_into_store``, the pull
Lambda, the contract harness): it dates each marked draft ``to_records`` left undated, so a connector
author who writes their own mapping cannot lose the dating. A draft is dated once, whoever dates it
(``dated`` here, a ``to_records`` that calls it, a wrapper that copies the drafts): ``dated`` notes it
on the draft (``RecordDraft._dated``, which ``model_copy`` keeps), and a connector that dates its
records its own way (Stripe's events) notes it with ``settled``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from core.schema import RecordDraft

if TYPE_CHECKING:
    from core.connector import Connector, RawPage

logger = logging.getLogger("core.version_marks")

#: The key a pull adds to a record it marks: microseconds past the vendor's time that date its
#: version. Not a vendor field; only the mapping reads it.
AFTER: Final = "profilesync_after_us"
#: The last microsecond of a second, kept for a deletion (dated after every update of its second).
END_OF_SECOND: Final = 999_999


def after(record: Any) -> int:
    """The microseconds ``record``'s mark adds (0 without one)."""
    found = record.get(AFTER) if isinstance(record, Mapping) else None
    return found if isinstance(found, int) and not isinstance(found, bool) and found > 0 else 0


def dated(drafts: Sequence[RecordDraft], records: Sequence[Any]) -> list[RecordDraft]:
    """The drafts mapped from ``records`` (in order), each marked one dated its mark later (once: a
    draft dated before is left as it is); a draft whose time cannot be read is left as it is
    (normalisation says why)."""
    return [_dated(draft, record) for draft, record in zip(drafts, records, strict=True)]


def _dated(draft: RecordDraft, record: Any) -> RecordDraft:
    # ``draft``, mapped from ``record``, dated by its mark (see ``dated``)
    extra = after(record)
    if extra and not draft.problem and not draft.deleted and not draft._dated:
        moment = _moment(draft.updated_at)
        if moment is not None:
            return settled(_moved(draft, moment + timedelta(microseconds=extra)))
    return draft


def settled(draft: RecordDraft) -> RecordDraft:
    """``draft`` noted as dated: ``dated`` leaves it as it is (a connector that dates its marked
    records its own way returns its drafts through this)."""
    if not draft._dated:
        draft = draft.model_copy()
        draft._dated = True
    return draft


def drafts_of(connector: Connector, page: RawPage) -> list[RecordDraft]:
    """``connector.to_records(page)``, each marked draft it left undated dated by its mark.

    A marked record is paired with its draft by what it maps to (``source``, ``object_type`` and
    ``source_id`` of the record mapped alone), not by its place in the page: a mapping may reorder
    its drafts or leave out an element that is not a record. A marked record that cannot be paired
    (it maps alone to no draft or to several, or the page holds no draft or several of its key) is
    left undated, logged and counted (``unpaired``): ingest orders its version by content hash among
    those of its second. Left as it is: a page where the mapping dated a draft (it dates its own)."""
    return marked_drafts(connector, page)[0]


def marked_drafts(connector: Connector, page: RawPage) -> tuple[list[RecordDraft], int]:
    """``drafts_of``, and how many of the page's marked records it could not pair with a draft."""
    drafts = connector.to_records(page)
    marked = [record for record in page.records if after(record)]
    if not marked or any(d._dated for d in drafts):
        return drafts, 0
    if len(drafts) == len(page.records):
        places = [i for i, record in enumerate(page.records) if after(record)]
        if all((key := _key(drafts[i])) and key == _alone(connector, page, page.records[i]) for i in places):
            return dated(drafts, page.records), 0  # each at its record's place
    at: dict[tuple[str, str, str] | None, list[int]] = {}
    for index, draft in enumerate(drafts):
        at.setdefault(_key(draft), []).append(index)
    at.pop(None, None)
    out, unpaired = list(drafts), 0
    for record in marked:
        found = at.get(_alone(connector, page, record)) or []
        if len(found) == 1:
            out[found[0]] = _dated(drafts[found[0]], record)
        else:
            unpaired += 1
    if unpaired:
        logger.warning(
            "%d marked record(s) of a %s page could not be paired with a draft: left undated",
            unpaired,
            page.object_type,
            extra={"unpaired_marks": unpaired, "object_type": page.object_type},
        )
    return out, unpaired


def _key(draft: RecordDraft) -> tuple[str, str, str] | None:
    # The record a draft was mapped from; None without an id (junk: ``RecordDraft.not_an_object``).
    if draft.source_id in (None, ""):
        return None
    return (draft.source, draft.object_type, str(draft.source_id))


def _alone(connector: Connector, page: RawPage, record: Any) -> tuple[str, str, str] | None:
    # The key of the one draft ``record`` maps to on a page of its own; None if not one.
    drafts = connector.to_records(replace(page, records=[record]))
    return _key(drafts[0]) if len(drafts) == 1 else None


def _moved(draft: RecordDraft, moment: datetime) -> RecordDraft:
    # A consent decision the mapping dated by the record's own time moves with it: ingest hashes a
    # version without that time, and a consent time of its own would read as a change.
    consent = {
        channel: {**state, "changed_at": moment}
        if isinstance(state, Mapping) and state.get("changed_at") == draft.updated_at
        else state
        for channel, state in draft.consent.items()
    }
    return draft.model_copy(update={"updated_at": moment, "consent": consent})


def _moment(value: Any) -> datetime | None:
    # The time normalisation reads from the draft (ISO 8601, epoch seconds or milliseconds, an
    # aware or naive datetime), or None where it reads none.
    from core.errors import NormalisationError
    from core.normalise import normalise_timestamp

    if value is None or isinstance(value, bool):
        return None
    try:
        return normalise_timestamp(value)
    except (NormalisationError, TypeError):
        return None


__all__ = ["AFTER", "END_OF_SECOND", "after", "dated", "drafts_of", "marked_drafts", "settled"]
