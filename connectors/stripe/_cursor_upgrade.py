"""A Stripe cursor of a version that read the charge events as three streams, one a type
(``charge_updates``: ``charge.refunded``, ``charge_captures``, ``charge_expiries``), read as one
of ``charge_changes``, the one stream of the three types that orders a second's events by one count.

Each old stream had read its type up to the pull that last walked it, and its watermark is the
second of the newest event of its type it read: the streams walked one after the other, so an event
of one type made while a later stream was walked can be after the earlier stream's end and before
the later one's watermark. The one stream starts at the oldest of the three watermarks, the ids seen
on that second by the streams that stood there counted as seen: nothing of any type is lost, and
the events of the other types after it are read again, repeats (the newest event of a charge in one
pull wins; it carries the charge as it is stored, or newer). A cursor in which one of them has no
watermark (a version with ``charge_updates`` alone, or a stream that never found an event) starts the
one stream without one: it reads every charge event Stripe holds (30 days) as a change, as such a
stream did. A walk in progress on one of them goes on with ``charge_changes`` from its start.
"""

from __future__ import annotations

from connectors.sdk import SEEN_LIMIT, PullCursor, StreamState

from ._declaration import DECLARATION, FORMER_CHARGE_STREAMS

#: The stream that reads the charge events now.
CHARGE_STREAM = "charge_changes"


def upgraded(cursor: str, tag_key: bytes) -> str:
    """``cursor`` with the three charge event streams' states folded into ``charge_changes``
    (the module docstring says how); a cursor without them as it is."""
    state = PullCursor.decode(cursor, DECLARATION.name, tag_key)
    if not any(name in state.streams for name in FORMER_CHARGE_STREAMS):
        return cursor
    streams = {k: v for k, v in state.streams.items() if k not in FORMER_CHARGE_STREAMS}
    former = [state.state(name) for name in FORMER_CHARGE_STREAMS]
    marks = [s.since for s in former if s.since is not None]
    if CHARGE_STREAM not in streams and len(marks) == len(former):
        low = min(marks)
        seen = dict.fromkeys(tag for s in former if s.since == low for tag in s.skip)
        streams[CHARGE_STREAM] = StreamState(low, tuple(seen)[-SEEN_LIMIT:])
    active = CHARGE_STREAM if state.active in FORMER_CHARGE_STREAMS else state.active
    return PullCursor(streams, active).encode()


__all__ = ["CHARGE_STREAM", "upgraded"]
