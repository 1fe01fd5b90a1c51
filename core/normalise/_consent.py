"""A record's consent decisions: channel -> ``ConsentState``, each bad channel or decision dropped with
its reason, a decision dated too far ahead read as the record's own time (``_options``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from core.errors import NormalisationError
from core.schema import ConsentState

from ._limits import MAX_CHANNEL_CHARS, MAX_CONSENT_CHANNELS
from ._options import _future_reason
from ._time import normalise_timestamp
from ._values import _Collector, _is_blank, _reason, _short, _surrogate


def _consent(
    consent: object, updated_at: datetime, latest: datetime, skew: timedelta, collector: _Collector
) -> dict[str, ConsentState]:
    result: dict[str, ConsentState] = {}
    if type(consent) is not dict and not isinstance(consent, Mapping):  # the ABC's check: 0.4 us
        if not _is_blank(consent):
            collector.drop("consent", consent, "consent must be a mapping of channel to decision")
        return result
    for raw_channel, value in consent.items():
        channel = (raw_channel if isinstance(raw_channel, str) else _short(raw_channel)).strip().lower()
        field = f"consent.{_short(channel, 40)}"
        if not channel:
            collector.drop("consent", value, "empty channel name")
            continue
        if len(channel) > MAX_CHANNEL_CHARS or _surrogate(channel) is not None:
            collector.drop(
                "consent", channel, f"a channel name is text of at most {MAX_CHANNEL_CHARS} characters"
            )
            continue
        if len(result) >= MAX_CONSENT_CHANNELS:
            collector.drop(field, value, f"more than {MAX_CONSENT_CHANNELS} consent channels in one record")
            continue
        try:
            if isinstance(value, bool):
                state = ConsentState.assemble(
                    granted=value, changed_at=updated_at, dated_by_record=False, contrary_at=None, run_at=()
                )
            elif isinstance(value, Mapping):
                granted = value.get("granted")
                if not isinstance(granted, bool):
                    raise NormalisationError(field, "granted must be true or false")
                changed: Any = value.get("changed_at")
                # the connector says it dated the decision by its record (core.consent_carry)
                by_record = value.get("dated_by_record") is True
                changed_at = updated_at if _is_blank(changed) else normalise_timestamp(changed)
                if changed_at > latest:
                    # Read as the record's own time: the decision was made no later than the record,
                    # and a time that moves with the clock would make the record look changed.
                    collector.drop(
                        f"{field}.changed_at", changed, _future_reason(skew, "the record's updated_at")
                    )
                    changed_at = updated_at
                state = ConsentState.assemble(
                    granted=granted,
                    changed_at=changed_at,
                    dated_by_record=by_record,
                    contrary_at=None,
                    run_at=(),
                )
            else:
                raise NormalisationError(field, "must be true/false or {granted, changed_at}")
        except Exception as exc:
            collector.drop(field, value, _reason(exc))
            continue
        result[channel] = state
    return result
