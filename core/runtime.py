"""Process settings for the entry points that run the core over many records.

The core keeps a large, growing heap of models alive while it works (the customers loaded for each
batch, the normalisers' caches, and with the in-memory store every profile), and CPython's cyclic
garbage collector walks all of it on each full pass: about a quarter of the core's time in the
throughput benchmark. Almost nothing the core allocates is cyclic garbage (models, tuples and dicts
are freed by reference counting as soon as they are dropped), so the collector can run much less
often without holding on to memory.

``bulk_gc`` is the context manager the entry points that ingest records in bulk put around that
work, after their imports and set-up: ``profilesync resolve`` (profilesync/resolve_cli.py, with
``RESOLVE_GC_THRESHOLDS``, and each batch ingested with the collector off: ``collected_after``) and
the core throughput benchmark (bench/core_throughput.py). A process that does nothing else (a Lambda
function) calls ``tune_gc_for_bulk_work`` once at module level, after its imports. Both change
process-wide state, so library code (``ingest``, ``normalise_record``) never calls them: the caller
that owns the process decides.

A cold start is the other case. Importing a handler builds a few hundred modules, classes and
pydantic schemas, and loading boto3 and a client's service model builds as many dicts again: all of
it lives as long as the process, none of it is garbage, yet the collector walks the growing heap
over and over while it is built (about a tenth of a cold start, bench/cold_start.py). So in Lambda
the ``functions`` package calls ``pause_gc`` as the first thing a handler import runs, and each
handler module calls ``resume_gc`` as its last statement; ``gc_paused`` does the same around the
first AWS client. Paused means rarely, not never (``COLD_START_GC_THRESHOLDS``), and each resume
freezes what was built, so no later pass walks it again.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final, ParamSpec, TypeVar

__all__ = [
    "BULK_GC_THRESHOLDS",
    "COLD_START_GC_THRESHOLDS",
    "RESOLVE_GC_THRESHOLDS",
    "bulk_gc",
    "collected_after",
    "gc_paused",
    "pause_gc",
    "resume_gc",
    "tune_gc_for_bulk_work",
]

_P = ParamSpec("_P")
_R = TypeVar("_R")

#: ``gc.set_threshold`` values for bulk work. CPython's defaults are (700, 10, 10): a young pass every
#: 700 net allocations, and a full pass once the long-lived heap has grown by a quarter. Larger
#: thresholds keep the same collector, just with far fewer passes over a heap that is nearly all
#: live; cyclic garbage (rare in the core) still gets collected, a little later.
BULK_GC_THRESHOLDS: Final = (10_000, 50, 100)

#: ``bulk_gc``'s thresholds for ``profilesync resolve``'s process, which holds one batch of records
#: at a time and ingests it with the collector off (``collected_after``): a middle pass only every
#: 1,000 young passes (10 million net allocations; CPython's 10 walked the batch's records again and
#: again, about 2 µs a record at 250,000 records). A full pass then comes at most every 100 of those.
RESOLVE_GC_THRESHOLDS: Final = (10_000, 1_000, 100)


def tune_gc_for_bulk_work(thresholds: tuple[int, int, int] = BULK_GC_THRESHOLDS) -> None:
    """Freeze what is alive now and raise the collector's thresholds, for the rest of the process.

    ``gc.freeze()`` moves every object tracked so far (modules, classes, pydantic schemas, whatever
    the entry point has set up) to the permanent generation, which no later pass walks again. Frozen
    objects are still freed by reference counting when they are dropped; only a reference cycle
    among them would be kept until ``gc.unfreeze()``. Calling this again freezes what is alive then.
    """
    gc.freeze()
    gc.set_threshold(*thresholds)


@contextmanager
def bulk_gc(thresholds: tuple[int, int, int] = BULK_GC_THRESHOLDS) -> Iterator[None]:
    """``tune_gc_for_bulk_work`` for the duration of a block, then the previous thresholds again.

    On exit the frozen objects are unfrozen (``gc.unfreeze()``, which also unfreezes anything frozen
    before), so that a caller running in a longer-lived process, such as a test calling the CLI's
    ``main``, gets its collector back as it was.
    """
    previous = gc.get_threshold()
    tune_gc_for_bulk_work(thresholds)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()


def collected_after(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """``function`` run with the collector off, and on again after it (if it was on before), even when
    it raises: for a call that allocates many containers which die within it (``profilesync
    resolve`` ingesting a batch: rows, changesets, groups), so that no young pass walks them while
    they live. What survives the call is walked once, by the first young pass after it; cyclic
    garbage made inside waits for that pass. A caller that owns the process wraps the function
    (profilesync/resolve_cli.py); library code never does."""

    @functools.wraps(function)
    def collected(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return collected


#: ``gc.set_threshold`` values while a cold start builds what lives as long as the process: a young
#: pass every 100,000 net allocations instead of 700, so a handler's imports see a handful of passes
#: instead of a few hundred, and no full pass. Not off: a handler module that never resumed would
#: still collect its cyclic garbage, only later.
COLD_START_GC_THRESHOLDS: Final = (100_000, 10, 10)

#: The thresholds ``pause_gc`` replaced, which ``resume_gc`` puts back (None: not paused).
_before_pause: tuple[int, int, int] | None = None


def pause_gc() -> None:
    """Collect rarely until ``resume_gc`` (a cold start's imports; see the module docstring)."""
    global _before_pause
    if _before_pause is None:
        _before_pause = gc.get_threshold()
    gc.set_threshold(*COLD_START_GC_THRESHOLDS)


def resume_gc(*, bulk: bool = False) -> None:
    """Freeze what is alive now (see ``tune_gc_for_bulk_work``) and collect as before ``pause_gc``;
    ``bulk`` raises the thresholds instead, for a process that goes on to ingest in bulk."""
    global _before_pause
    before, _before_pause = _before_pause or gc.get_threshold(), None
    gc.freeze()
    gc.set_threshold(*(BULK_GC_THRESHOLDS if bulk else before))


@contextmanager
def gc_paused() -> Iterator[None]:
    """``pause_gc`` for the block (a burst of long-lived allocations); on exit what it built is frozen
    and the thresholds are back as they were."""
    before = gc.get_threshold()
    gc.set_threshold(*COLD_START_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.freeze()
        gc.set_threshold(*before)
