"""The Stripe sandbox's events list, ``GET /v1/events``, as Stripe's API reference describes it.

From https://docs.stripe.com/api/events/list and the published spec (``specs/stripe-api.json.gz``):

* "List events, going back up to 30 days": an account with ``event_retention`` set (30 days, or a
  shorter span in tests) lists only the events created within it by the sandbox's clock; older
  events are gone. Off by default (``None``): the sandbox's clock is real time, and tests date their
  changes on fixed days.
* ``type``: one event name, or a group with ``*`` as a wildcard (``customer.*``).
* ``types``: "an array of up to 20 strings containing specific event names ... You may pass either
  ``type`` or ``types``, but not both." Sent as ``types[]=a&types[]=b`` or, as Stripe's SDKs do,
  ``types[0]=a&types[1]=b``; ``route`` turns the first form into the second.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final

#: How long Stripe keeps events (the events list goes "back up to 30 days").
RETENTION: Final = timedelta(days=30)
MAX_TYPES: Final = 20
_TYPES_KEY: Final = re.compile(r"types\[(\d+)\]")


def indexed(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``types[]=a&types[]=b`` as ``{"types[0]": "a", "types[1]": "b"}`` (a dict keeps one value a key)."""
    listed = [v for k, v in items if k == "types[]"]
    return {f"types[{i}]": v for i, v in enumerate(listed)}


def requested(params: Mapping[str, str]) -> list[str] | None:
    """The ``types`` array of a request, in index order (None when it has none)."""
    found = sorted((int(m.group(1)), v) for k, v in params.items() if (m := _TYPES_KEY.fullmatch(k)))
    return [v for _, v in found] or None


def problem(params: Mapping[str, str]) -> tuple[str, str] | None:
    """Why Stripe would refuse this events list's filters, and the parameter (None: it takes them)."""
    types = requested(params)
    if types is None:
        return None
    if params.get("type") is not None:
        return "You may pass either `type` or `types`, but not both.", "types"
    if len(types) > MAX_TYPES:
        return f"You may pass at most {MAX_TYPES} values in `types`.", "types"
    return None


def select(
    events: Iterable[dict[str, Any]],
    params: Mapping[str, str],
    now: datetime,
    retention: timedelta | None,
) -> list[dict[str, Any]]:
    """The events a list request may return, before its ordering and paging: the ones still held
    (``retention``), of the asked ``type`` (wildcards allowed) or ``types``."""
    chosen = list(events)
    if retention is not None:
        oldest = int((now - retention).timestamp())
        chosen = [e for e in chosen if e["created"] >= oldest]
    one = params.get("type")
    if one is not None:
        chosen = [e for e in chosen if fnmatch.fnmatchcase(e["type"], one)]
    types = requested(params)
    if types is not None:
        wanted = set(types)
        chosen = [e for e in chosen if e["type"] in wanted]
    return chosen


__all__ = ["MAX_TYPES", "RETENTION", "indexed", "problem", "requested", "select"]
