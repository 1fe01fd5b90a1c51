"""The microseconds that order a Stripe event's version within its second (events carry ``created``
in whole seconds): the ``StripeConnector``'s pull puts them in ``AFTER``, its mapping reads them."""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.cursor_seconds import AFTER, END_OF_SECOND
from connectors.sdk import SEEN_LIMIT, parse_point
from core.connector import RawPage

#: ``AFTER``: the key ``pull`` adds to an event it keeps: microseconds past ``created`` that date its
#: version (``sub_second``), the key every cursor marks with (connectors.cursor_seconds). A deletion
#: is dated at the end of its second (``END_OF_SECOND``): after every update of that second.


def stamp(event: dict[str, Any]) -> datetime | None:
    """When an event's version of its object was made: ``created`` (whole seconds) and the
    microseconds ``pull`` put in ``AFTER`` (see ``sub_second``); None without a readable time."""
    happened = event.get("created")
    if not isinstance(happened, int) or isinstance(happened, bool):
        return None
    after = event.get(AFTER)
    after = after if isinstance(after, int) and not isinstance(after, bool) else 0
    try:
        return datetime.fromtimestamp(happened, UTC) + timedelta(microseconds=after)
    except (OverflowError, OSError, ValueError):  # a year beyond datetime's: normalise says so
        return None


def sub_second(
    event: dict[str, Any], since: datetime | None, seen: int, deletion: bool, older: int = 0
) -> dict[str, Any]:
    """The event with the microseconds that order its version after the versions of its second
    read before (``AFTER``).

    Stripe stamps events by its clock, one object's changes one after another, and lists them newest
    first: the events of a stream on its watermark second (``since``) that the cursor has not seen
    (``seen`` of them on it) were made after every one it has seen, so ``seen + 1`` microseconds
    order them after every version a pull read on that second before (at most ``seen``), and after
    the object's creation (a list version dated ``created``). On another second no version of the
    object was read yet: one microsecond, after its creation. ``older``: the events of the stream
    on its second after it in its walk (made before it, read by this pull, across pages:
    ``counted_across_pages``): each adds one, so the version goes no earlier than a full pull
    dates it by its previous event on that second (``_full_dates``: a version of the same content
    dated later is a touch, a write), and no later than the count of events made before it, which
    a later pull's ``seen`` holds once it read them (up to ``SEEN_LIMIT``). A deletion goes at the
    end of its second."""
    created = parse_point(event.get("created"), "epoch")
    if created is None:
        return event
    if deletion:
        return {**event, AFTER: END_OF_SECOND}
    before = (seen if since is not None and created == since else 0) + older
    return {**event, AFTER: 1 + min(before, SEEN_LIMIT)}


def counted_across_pages(
    pages: Iterable[RawPage], streams: Container[str]
) -> Iterator[tuple[RawPage, list[int]]]:
    """Each page, and for each of its records ``older_on_second`` across the pages of its stream's
    walk: a page of one of ``streams`` whose last event's second the next page of its stream goes on
    with is held until the walk leaves that second, so the events of one second on the next pages
    are counted (101 renames on one second: the newest follows 100, not the 99 of its page). At most
    ``SEEN_LIMIT`` events and a page are held: past that the count, which ``sub_second`` caps at
    ``SEEN_LIMIT``, leaves the rest out. A pull stopped after a held page has read one page more."""
    held: list[RawPage] = []
    for page in pages:
        if held and not (
            page.object_type == held[-1].object_type
            and _second(held[-1].records, -1) is not None
            and _second(held[-1].records, -1) == _second(page.records, 0)
            and sum(len(p.records) for p in held) <= SEEN_LIMIT
        ):
            yield from _counted(held)
            held = []
        if page.object_type in streams:
            held.append(page)
        else:
            yield page, older_on_second(page.records)
    yield from _counted(held)


def _counted(pages: list[RawPage]) -> Iterator[tuple[RawPage, list[int]]]:
    older = older_on_second([r for page in pages for r in page.records])
    start = 0
    for page in pages:
        yield page, older[start : start + len(page.records)]
        start += len(page.records)


def _second(events: Sequence[Any], index: int) -> int | None:
    """The ``created`` of the first (0) or last (-1) event of a page that has one."""
    ordered = events if index == 0 else reversed(events)
    for event in ordered:
        created = event.get("created") if isinstance(event, dict) else None
        if isinstance(created, int) and not isinstance(created, bool):
            return created
    return None


def older_on_second(events: list[Any]) -> list[int]:
    """For each of a page's events (newest first), how many after it in the page are on its second."""
    out = [0] * len(events)
    count: dict[Any, int] = {}
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        created = event.get("created") if isinstance(event, dict) else None
        if isinstance(created, int) and not isinstance(created, bool):
            out[index] = count.get(created, 0)
            count[created] = out[index] + 1
    return out


__all__ = ["AFTER", "counted_across_pages", "older_on_second", "stamp", "sub_second"]
