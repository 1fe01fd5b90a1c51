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

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from core.schema import RecordDraft

if TYPE_CHECKING:
    from core.connector import Connector, RawPage

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
    out = list(drafts)
    for index, (draft, record) in enumerate(zip(drafts, records, strict=True)):
        extra = after(record)
        if extra and not draft.problem and not draft.deleted and not draft._dated:
            moment = _moment(draft.updated_at)
            if moment is not None:
                out[index] = settled(_moved(draft, moment + timedelta(microseconds=extra)))
    return out


def settled(draft: RecordDraft) -> RecordDraft:
    """``draft`` noted as dated: ``dated`` leaves it as it is (a connector that dates its marked
    records its own way returns its drafts through this)."""
    if not draft._dated:
        draft = draft.model_copy()
        draft._dated = True
    return draft


def drafts_of(connector: Connector, page: RawPage) -> list[RecordDraft]:
    """``connector.to_records(page)``, each marked draft it left undated dated by its mark, the draft
    at a record's place in the page. Left as it is: a page whose mapping does not give one draft a
    record (which connectors must), and one where the mapping dated a draft (it dates its own: a
    draft it left undated could not be, and a mapping that orders its drafts its own way is not
    dated by place)."""
    drafts = connector.to_records(page)
    if len(drafts) != len(page.records) or any(d._dated for d in drafts):
        return drafts
    return dated(drafts, page.records)


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


__all__ = ["AFTER", "END_OF_SECOND", "after", "dated", "drafts_of", "settled"]
