"""The batches' plan of ``profilesync.parallel_normalise`` read in two halves at once.

Reading a file in batches that keep each person's lines together (connectors.jsonl.batched) starts
with a pass over the whole file, in the worker, before it sends a record: the one time the caller
has nothing to do but wait. So the caller's thread reads the linking values of the second half
(``link_part``, from ``half_way``) while the worker reads the first, and sends them through a pipe;
the worker links them after its own, in file order, as one pass would: the same plan
(tests/unit/test_jsonl_batched_split.py). If the caller cannot read them it says so and the worker
reads them itself; a caller killed meanwhile ends the worker, as a full queue does.
"""

from __future__ import annotations

import multiprocessing
import pickle
from pathlib import Path
from typing import Any, Final

__all__ = ["POLL_SECONDS", "READ_IT", "CallerGoneError", "received_part", "second_half", "send_part"]

#: How often a process waiting for the other (the caller for a chunk, the worker for the caller's
#: half or for room in the queue) checks that it is still alive.
POLL_SECONDS: Final = 0.5
#: Sent instead of the second half when the caller could not read it.
READ_IT: Final = "read it"


class CallerGoneError(Exception):
    """The process the worker normalises for has ended (killed, or it left without stopping it)."""


def second_half(path: Path) -> int | None:
    """Where the second half of ``path``'s first pass starts (``half_way``); None: no second half."""
    from connectors.jsonl.batched import half_way

    try:
        half = half_way(path)
    except OSError:
        return None  # the worker says why it cannot read the file
    return half if half > 0 else None


def send_part(sending: Any, path: Path, half: int) -> None:
    """The caller's thread: the linking values of ``path`` from ``half`` on (``link_part``), sent to
    the worker once it asks (the pipe holds a few KB): the part, or ``READ_IT`` when they could not
    be read here (the worker reads them itself). A worker gone meanwhile is no error here."""
    from connectors.jsonl.batched import link_part

    try:
        try:
            payload = pickle.dumps(link_part(path, half), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # the worker meets it again and sends it, or reads on
            payload = pickle.dumps(READ_IT)
        sending.send_bytes(payload)
    except OSError:  # the worker ended (an error it sent, or it was stopped)
        pass
    finally:
        sending.close()


def received_part(receiving: Any, path: str, half: int) -> Any:
    """The worker: the caller's ``link_part`` of ``path`` from ``half``, waited for as long as the
    caller is there (a caller killed meanwhile ends the worker), or read here if the caller could
    not."""
    from connectors.jsonl.batched import link_part

    caller = multiprocessing.parent_process()
    while not receiving.poll(POLL_SECONDS):
        if caller is not None and not caller.is_alive():
            raise CallerGoneError
    part = pickle.loads(receiving.recv_bytes())
    receiving.close()
    return link_part(path, half) if part == READ_IT else part
