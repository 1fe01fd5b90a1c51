"""One poison record never fails its batch: ingest, and on a data error find the record and set it aside.

Normalisation bounds every record (``core.normalise``), so a record the store refuses should not
exist; this is the net under that promise, for what no limit foresaw (a customer whose records
together outgrow one item, a bug a rare value triggers). ``ingest_isolating`` ingests a batch; if
the batch fails with a data error, it ingests each half again, down to the single records that
fail alone, which it returns as ``Quarantined`` with the error as the reason. Ingest is idempotent,
so the records of a half that was written before the failure are unchanged the second time; but
the failed attempt says what it stored (``core.ingest_settings.PartialIngest``, which ``ingest`` and
``core.batch_ingest.ingest_batch`` attach to the exception): those records are counted once, as
the attempt stored them, and only the others are ingested again. A run's counts add up
(``received = written + unchanged + stale + suppressed``, plus the quarantined records), and a
customer is counted new once.

What counts as a data error: the store refusing the data (``RecordRejectedError``) and the
``ValueError``/``TypeError``/``LookupError`` family a bad value raises. Anything else (throttling,
a lost race, a missing table, a network error) is the service's, and is raised for the caller to
retry. When every record of a batch fails alone, the cause is not in the records: the first error
is raised rather than quarantining a whole batch; unless the store refused them
(``RecordRejectedError``: each record would make its customer larger than one item holds, say),
which says the records are at fault: raising would stop a resolve run and hold a pull's cursor
before them for good.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from core.erasure_epoch import forget_if_erased
from core.errors import RecordRejectedError, RetryableError
from core.ingest_settings import partial_of
from core.pipeline import IngestResult, IngestSettings, ingest
from core.ports import ProfileStore
from core.schema import Quarantined, SourceRecord

#: ``core.pipeline.ingest``'s signature.
Ingest = Callable[[Sequence[SourceRecord], ProfileStore, IngestSettings | None], IngestResult]
#: The exceptions that say the data is at fault (RecordRejectedError is a ValueError).
DATA_ERRORS: tuple[type[Exception], ...] = (ValueError, TypeError, LookupError, AttributeError)


def ingest_isolating(
    records: Sequence[SourceRecord],
    store: ProfileStore,
    settings: IngestSettings | None = None,
    ingesting: Ingest = ingest,
) -> tuple[IngestResult, list[Quarantined]]:
    """``ingest(records)``; the records that alone make it fail with a data error are returned as
    quarantined (with the error as the reason), and every other record is ingested: the result's
    ``received`` and the quarantined add up to ``len(records)``. ``ingesting``: ``ingest`` or a
    function with its results (core.batch_ingest.ingest_batch). The erasure epoch is read once, here
    (core.erasure_epoch), not by each ingest of a half."""
    if settings is not None and settings.suppression is not None and not settings.epoch_checked:
        forget_if_erased(settings.suppression.store)
        settings = replace(settings, epoch_checked=True)
    try:
        return ingesting(records, store, settings), []
    except RetryableError:
        raise
    except DATA_ERRORS as error:
        # What the failed attempt stored is counted as it did (not again as unchanged), and only
        # the records it left are ingested again; an error that says nothing: all of them.
        partial = partial_of(error)
        total, rest = (partial.done, partial.rest) if partial is not None else (IngestResult(), records)
        if not rest:
            raise  # every record is stored or settled: the cause is not in them
        if len(rest) == 1:
            return total, [rejected(rest[0], error)]
        first_error = error
    quarantined: list[Quarantined] = []
    middle = len(rest) // 2
    for half in (rest[:middle], rest[middle:]):
        result, bad = ingest_isolating(half, store, settings, ingesting)
        total.add(result)
        quarantined.extend(bad)
    if len(quarantined) == len(rest) and not isinstance(first_error, RecordRejectedError):
        raise first_error  # every record fails alone, and the store did not say why: the cause is elsewhere
    return total, quarantined


def rejected(record: SourceRecord, error: BaseException) -> Quarantined:
    """The quarantine entry of a record the store could not take."""
    return Quarantined(
        source=record.source,
        source_id=record.source_id,
        reason=f"could not be stored: {type(error).__name__}: {str(error)[:300]}",
        raw=record.model_dump(mode="json"),
    )


__all__ = ["DATA_ERRORS", "ingest_isolating", "rejected"]
