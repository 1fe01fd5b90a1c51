"""A first pull of many records through one Bulk API 2.0 ``queryAll`` job: the job created and waited
for, its CSV result sets (``Sforce-Locator``) read as pages whose cursor names the job and the locator,
so a pull cut short resumes at the set it stopped at, and the rows read as the REST API's records.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from connectors._http import ConnectorRequestError, ConnectorUnavailableError
from connectors.sdk import RestContext, StreamState, accept, parse_point
from connectors.sdk._declaration import Stream
from connectors.tool_clock import answered_at, on_tool_clock
from core.time_bound import TimeBound

from ._declaration import DATA

if TYPE_CHECKING:
    from ._connector import SalesforceConnector

#: The connector's logger, as before the bulk reading moved here: the CLI prints its name.
logger = logging.getLogger("connectors.salesforce._connector")

BULK_THRESHOLD: Final = 50_000
#: Records per Bulk API result set: a set is one page (and one SQS batch run) of the pull.
BULK_PAGE: Final = 10_000
BULK_POLLS: Final = 40
_BOOLEANS: Final = frozenset({"IsDeleted", "IsWon", "IsClosed", "HasOptedOutOfEmail", "IsConverted"})
#: Bulk CSV writes datetimes ``2026-01-02T03:04:05.000Z``; the REST API ``...000+0000``.
_CSV_DATETIME: Final = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)Z$")


def csv_records(text: str) -> list[dict[str, Any]]:
    """Bulk API 2.0 CSV rows as the REST API's records: ``Contact.Email`` nested, ``""`` as null,
    ``true``/``false`` as booleans, datetimes written as the REST API writes them (so a record reads the
    same whichever API brought it). Raises ``csv.Error`` on a body cut inside a quoted value."""
    rows = csv.reader(io.StringIO(text), strict=True)
    header = next(rows, None)
    if header is None:
        return []
    records = []
    for row in rows:
        record: dict[str, Any] = {}
        for name, raw in zip(header, row, strict=False):
            value: Any = None if raw == "" else raw
            head, _, leaf = name.rpartition(".")
            if leaf in _BOOLEANS and value is not None:
                value = value == "true"
            elif value is not None and (moment := _CSV_DATETIME.match(value)):
                value = f"{moment.group(1)}+0000"
            if head:
                parent = record.setdefault(head, None) or {}
                if value is not None:
                    parent[leaf] = value
                record[head] = parent or None
            else:
                record[name] = value
        records.append(record)
    return records


def walk(
    connector: SalesforceConnector, stream: Stream, state: StreamState
) -> Iterator[tuple[list[dict[str, Any]], StreamState, bool]]:
    """The connector's walk of ``stream`` through one bulk job: created (or, from a ``bulk:`` page
    cursor, resumed at its locator, the hand-off resting on the job's ``createdDate``:
    ``_resumed_bound``), waited for, and read a result set a page; a job gone (404) on a resumed walk
    reads the stream again from the start."""
    client = connector.context.client("pull")
    if state.page is not None:
        _, job, locator = state.page.split(":", 2)
        resumed = _resumed_bound(connector.context, job)
        if resumed is None:
            yield from _again(connector, stream, state, job)
            return
        bound = resumed
    else:
        # Taken before the job is created: the job reads the records as they are when it runs, and
        # the hand-off is no later than that (nor than Salesforce's clock when it answered, less
        # CLOCK_SKEW): taken once the job is done, a job longer than CLOCK_SKEW handed on a watermark
        # past the changes made while it ran.
        bound = TimeBound.from_now()
        query = stream.params["q"].split(" ORDER BY ")[0]
        # Creating a second job after a timeout costs one call and leaves an unused job: safe to resend.
        answer, created = client.exchange_json(
            "POST", f"{DATA}/jobs/query", json={"operation": "queryAll", "query": query}, idempotent=True
        )
        bound = on_tool_clock(bound, answer.headers, connector.declaration.name)
        job, locator = str(created["id"]), ""
        wait_for(connector.context, job)
    key_point = connector._key_point(stream, bound)
    while True:
        try:
            records, following, read = result_set(connector.context, job, locator)
        except ConnectorRequestError as exc:
            if exc.status != 404 or state.page is None:
                raise
            yield from _again(connector, stream, state, job)
            return
        emitted, state = accept(state, records, key_point, bound.handoff)
        # (RawPage.read: Salesforce's clock when it answered with the results, after the job read them)
        connector.answered = read
        if following is None:
            yield emitted, state.finished(bound.handoff), True
            return
        locator = following
        yield emitted, replace(state, page=f"bulk:{job}:{locator}"), False


def _resumed_bound(context: RestContext, job: str) -> TimeBound | None:
    """The bound of a walk resumed on ``job``: the job's ``createdDate`` (Salesforce's clock when the
    job was made) as the tool's time, and as the start when it is earlier than ours. The job holds the
    records as they were when it ran, so a change made after that is stamped after ``createdDate``:
    the hand-off rests on it, as the walk that made the job rested on its own start and on the tool's
    ``Date`` then. Resting on the resumed walk's own start (or the tool's clock now) handed on a
    watermark past the changes made since the job ran. None when the job is gone (404) or its
    ``createdDate`` is missing or unreadable: the stream is then read again from the start."""
    try:
        info = context.client("pull").get_json(f"{DATA}/jobs/query/{job}")
    except ConnectorRequestError as exc:
        if exc.status != 404:
            raise
        return None
    created = parse_point((info or {}).get("createdDate"))
    if created is None:
        return None
    now = TimeBound.from_now()
    return replace(now, start=min(now.start, created)).answered(created)


def _again(
    connector: SalesforceConnector, stream: Stream, state: StreamState, job: str
) -> Iterator[tuple[list[dict[str, Any]], StreamState, bool]]:
    """The stream read again from the start: its resumed bulk job is gone, or says not when it ran."""
    logger.warning(
        "salesforce: %s: bulk job %s is gone or has no createdDate; reading the stream again",
        stream.name,
        job,
    )
    yield from connector.walk(stream, replace(state, page=None))


def wait_for(context: RestContext, job: str) -> None:
    """Poll the job until ``JobComplete`` (backing off up to 30 s); a failed, aborted or late job is
    the vendor unavailable."""
    for poll in range(BULK_POLLS):
        status = context.client("pull").get_json(f"{DATA}/jobs/query/{job}")
        found = str((status or {}).get("state"))
        if found == "JobComplete":
            return
        if found in ("Failed", "Aborted"):
            raise ConnectorUnavailableError(
                "salesforce",
                "GET",
                f"{DATA}/jobs/query/{job}",
                attempts=poll + 1,
                reason=f"the bulk query job ended {found}: {(status or {}).get('errorMessage', '')}",
            )
        context.retry.sleep(min(2.0**poll, 30.0))
    raise ConnectorUnavailableError(
        "salesforce",
        "GET",
        f"{DATA}/jobs/query/{job}",
        attempts=BULK_POLLS,
        reason="the bulk query job did not complete in time",
    )


def result_set(
    context: RestContext, job: str, locator: str
) -> tuple[list[dict[str, Any]], str | None, datetime | None]:
    """One CSV result set, the next locator (None after the last) and when Salesforce answered with
    it, by its clock (its ``Date``). A body shorter than its ``Sforce-NumberOfRecords`` was cut in
    transit and is read again."""
    params = {"maxRecords": BULK_PAGE, **({"locator": locator} if locator else {})}
    for _ in range(context.retry.max_attempts):
        response = context.client("pull").request(
            "GET", f"{DATA}/jobs/query/{job}/results", params=params, headers={"Accept": "text/csv"}
        )
        expected = response.headers.get("Sforce-NumberOfRecords", "")
        try:
            records = csv_records(response.text)
        except csv.Error:
            continue
        if expected.isdigit() and len(records) != int(expected):
            continue
        following = response.headers.get("Sforce-Locator", "null")
        return records, None if following in ("", "null") else following, answered_at(response.headers)
    raise ConnectorUnavailableError(
        "salesforce",
        "GET",
        f"{DATA}/jobs/query/{job}/results",
        attempts=context.retry.max_attempts,
        reason="every answer was cut short of Sforce-NumberOfRecords",
    )


__all__ = ["BULK_PAGE", "BULK_POLLS", "BULK_THRESHOLD", "csv_records", "result_set", "wait_for", "walk"]
