"""A version a cursor pulls on its watermark second is dated after every version it delivered there.

Tools stamp whole seconds. A record delivered on the cursor's watermark second ``w`` and changed
again within it carries ``w`` again; the cursor, which keeps the versions it delivered on ``w``
(``connectors.cursor_tags.version_tag``), pulls it. But ingest orders two versions of one time by
their content hash (a rule that does not depend on the order they arrive in), so half such changes
would be stale. What the cursor knows orders them: another version, on ``w``, of a record the cursor
delivered on ``w`` was made after the version delivered (that one was current when it was read), and
after every other version delivered there; the cursor has delivered ``seen`` versions on ``w``.
Dated ``w`` plus ``seen + 1`` microseconds, the new version is later than any of them: the versions
a walk from an earlier watermark delivered on ``w`` are dated ``w``, and each later walk's ``seen``
counts every version delivered before it. A record new on ``w`` is left as the vendor dates it: no
version of it was delivered there, and a full pull dates it the same. The time stays within its
second: the change was made in it.

The pull marks such a record (``mark``: a key the vendor never sends); its ``to_records`` moves the
draft's time (``dated``). The cursor's own watermark reads the vendor's time, never the mark.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from core.schema import RecordDraft

#: The key a pull adds to a record it marks: microseconds past the vendor's time that date its
#: version. Not a vendor field; only ``to_records`` reads it (Stripe's events use it too).
AFTER: Final = "profilesync_after_us"
#: The last microsecond of a second, kept for a deletion (dated after every update of its second).
END_OF_SECOND: Final = 999_999


def mark(record: Mapping[str, Any], seen: int) -> dict[str, Any]:
    """``record`` (a copy) marked as made after the ``seen`` versions delivered on its second."""
    return {**record, AFTER: min(seen + 1, END_OF_SECOND - 1)}


def after(record: Any) -> int:
    """The microseconds ``record``'s mark adds (0 without one)."""
    found = record.get(AFTER) if isinstance(record, Mapping) else None
    return found if isinstance(found, int) and not isinstance(found, bool) and found > 0 else 0


def dated(drafts: Sequence[RecordDraft], records: Sequence[Any]) -> list[RecordDraft]:
    """The drafts mapped from ``records`` (in order), each marked one dated its mark later; a draft
    whose time cannot be read is left as it is (normalisation says why)."""
    out = list(drafts)
    for index, (draft, record) in enumerate(zip(drafts, records, strict=True)):
        extra = after(record)
        if extra and not draft.problem and not draft.deleted:
            moment = _moment(draft.updated_at)
            if moment is not None:
                out[index] = _moved(draft, moment + timedelta(microseconds=extra))
    return out


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
    # The SDK's reading of a time (ISO 8601 text, or an aware datetime): one rule for every connector.
    from connectors.sdk._cursor import parse_point

    if isinstance(value, datetime):
        return value if value.tzinfo is not None else None
    return parse_point(value)


__all__ = ["AFTER", "END_OF_SECOND", "after", "dated", "mark"]
