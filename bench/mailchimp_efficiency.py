"""Mailchimp connector efficiency: pull time against what 10 connections allow, and calls per push.

Mailchimp's only published limit is 10 simultaneous connections per API key (no request rate:
https://mailchimp.com/developer/marketing/docs/fundamentals/#api-limits). So the least time to read
N members is the service time of the fewest requests that can carry them (N / 1000 full pages),
divided by 10 connections. The sandbox is served over HTTP (``serve()``, in a child process so its
JSON work does not share this process's GIL) with a service time per request plus per member
returned, and enforces the same 10-connection limit with 429s; the connector's ConcurrencyLimiter
holds it to 10.

Targets: pull wall time <= 1.15 x the least time, with 0 throttled responses; push calls <= 1.1 x
the ceil(changed profiles / 500) that full batches need, once the merge fields exist (their one-time
creation is shown apart); and no call at all when the same profiles are pushed again.

    python -m bench.mailchimp_efficiency [--members 80000]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import multiprocessing
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors._http import RetryPolicy
from connectors._sandbox import SandboxServer
from connectors.mailchimp import BATCH_SIZE, PAGE_SIZE, MailchimpConnector, make_sandbox
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import ConsentValue, Identifier, Profile, SourceRecord, SourceRef
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import push_profiles

PULL_TARGET = 1.15
PUSH_TARGET = 1.1
SERVICE_TIME = 0.15  # seconds per request, whatever it returns
PER_MEMBER_TIME = 0.001  # seconds per member returned: a 1000-member page takes 1.15 s in all
T = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _serve(members: int, ready: Any, stop: Any) -> None:
    sandbox = make_sandbox(people=50, service_time=SERVICE_TIME, per_member_time=PER_MEMBER_TIME)
    # Members changed over a day, a few hundred per second: the usual shape of an audience.
    for k in range(math.ceil(members / 250)):
        sandbox.add_records(min(250, members - 250 * k), at=T - timedelta(seconds=37 * k))
    server = SandboxServer(sandbox).start()
    ready.send((server.url, len(sandbox.record_keys()), sandbox.token, sandbox.list_id))
    stop.recv()
    ready.send((sandbox.stats.requests, sandbox.stats.throttled, sandbox.peak_connections))
    server.stop()


def bench_pull(members: int) -> tuple[float, int, list[str]]:
    context = multiprocessing.get_context("spawn")
    parent_ready, child_ready = context.Pipe()
    parent_stop, child_stop = context.Pipe()
    child = context.Process(target=_serve, args=(members, child_ready, child_stop), daemon=True)
    child.start()
    url, total, token, list_id = parent_ready.recv()
    from core.connector import ConnectorSettings

    settings = ConnectorSettings(
        credentials={"mailchimp_api_key": token}, options={"list_id": list_id}, base_url=url
    )
    with MailchimpConnector(settings) as connector:
        started = time.perf_counter()
        pulled = sum(len(page.records) for page in connector.pull(None))
        wall = time.perf_counter() - started
    parent_stop.send("stop")
    requests, throttled, peak = parent_ready.recv()
    child.join(timeout=10)
    pages = math.ceil(total / PAGE_SIZE)
    least = (pages * SERVICE_TIME + total * PER_MEMBER_TIME) / 10
    ratio = wall / least
    lines = [
        f"pull: {pulled:,} of {total:,} members over HTTP in {wall:.2f} s, {requests} requests, "
        f"peak {peak} connections",
        f"  least time at 10 connections: {pages} pages x {SERVICE_TIME} s + {total:,} members x "
        f"{PER_MEMBER_TIME * 1000:.1f} ms, / 10 = {least:.2f} s",
        f"  pull efficiency: ratio {ratio:.2f} (target <= {PULL_TARGET}); throttled responses: "
        f"{throttled} (target 0)",
    ]
    ok = pulled == total and ratio <= PULL_TARGET and throttled == 0
    return ratio, 0 if ok else 1, lines


def _connector(sandbox: Any) -> MailchimpConnector:
    settings = dataclasses.replace(sandbox.settings(), retry=RetryPolicy(sleep=lambda _: None))
    return MailchimpConnector(settings)


def _new_person(k: int, consent: bool | None) -> Profile:
    at = datetime(2026, 11, 1, tzinfo=UTC)
    return Profile(
        customer_id=f"new-{k}",
        identifiers=(Identifier(kind="email", value=f"fresh{k}@example.net"),),
        consent={}
        if consent is None
        else {"email": ConsentValue(granted=consent, changed_at=at, source="crm")},
        sources=(SourceRef(source="crm", object_type="contact", id=str(k), updated_at=at),),
    )


def bench_push(people: int) -> tuple[int, list[str]]:
    sandbox = make_sandbox(people=people)
    lines: list[str] = []
    failed = 0
    with _connector(sandbox) as connector:
        store = InMemoryProfileStore()
        drafts = [d for page in connector.pull(None) for d in connector.to_records(page)]
        records = [o for o in (normalise_record(d) for d in drafts) if isinstance(o, SourceRecord)]
        ingest(records, store, IngestSettings(sleep=lambda _: None))
        profiles = list(store.iter_profiles())
        before = sandbox.stats.requests
        created = connector.ensure_merge_fields()
        setup = sandbox.stats.requests - before
        lines.append(f"push: merge fields created once: {len(created)} fields in {setup} calls (one-time)")

        def measure(
            label: str, batch: list[Profile], state: InMemorySyncStateStore, check: bool, mode: str = "update"
        ) -> None:
            nonlocal failed
            start = sandbox.stats.requests
            report = push_profiles(connector, batch, state, mode=mode)
            calls = sandbox.stats.requests - start
            per = calls / report.sent if report.sent else 0.0
            least = math.ceil(report.sent / BATCH_SIZE)
            ratio = calls / least if least else 0.0
            verdict = "" if not check else f" (target <= {PUSH_TARGET})"
            lines.append(
                f"  {label:32} {report.sent:6,} sent, {calls:2} calls = {per:.5f}/profile vs 1/{BATCH_SIZE}; "
                f"vs the {least} full batches need: ratio {ratio:.2f}{verdict}; failed {len(report.failed)}"
            )
            if report.skipped_by_consent or report.skipped_by_mode:
                lines.append(
                    f"  {'':32} {report.mode} mode: {report.created:,} created; skipped "
                    f"{report.skipped_by_consent:,} without email consent, "
                    f"{report.skipped_by_mode:,} not held"
                )
            if check and (ratio > PUSH_TARGET or report.failed):
                failed = 1

        state = InMemorySyncStateStore()
        measure("audience members, changed", profiles, state, check=True)
        start = sandbox.stats.requests
        again = push_profiles(connector, profiles, state)
        repeat_calls = sandbox.stats.requests - start
        lines.append(
            f"  same profiles pushed again: {repeat_calls} calls, {again.skipped_unchanged:,} skipped "
            "by hash (target 0 calls)"
        )
        if repeat_calls:
            failed = 1
        fresh = [_new_person(k, k % 3 == 0 or None) for k in range(2 * BATCH_SIZE)]
        measure("new people only (upsert)", fresh, InMemorySyncStateStore(), check=True, mode="upsert")
        mixed = [
            p
            for pair in zip(
                profiles[:BATCH_SIZE],
                (_new_person(10_000 + k, True) for k in range(BATCH_SIZE)),
                strict=False,
            )
            for p in pair
        ]
        measure("mixed (members + new, upsert)*", mixed, InMemorySyncStateStore(), check=True, mode="upsert")
    lines.append(
        "  * members the last pull saw and people it did not go in separate batch calls (Payload.group): "
        "the batch endpoint has no status_if_new, so new people go with update_existing false "
        "(connectors/mailchimp/_mapping.py, plan_status); interleaved, they still fill whole batches"
    )
    return failed, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=80_000, help="members in the pulled audience")
    parser.add_argument("--people", type=int, default=3000, help="population size for the push bench")
    args = parser.parse_args()
    _, pull_failed, pull_lines = bench_pull(args.members)
    push_failed, push_lines = bench_push(args.people)
    print("mailchimp connector efficiency (sandbox at Mailchimp's limit: 10 simultaneous connections)")
    for line in [*pull_lines, *push_lines]:
        print(f"  {line}")
    sys.exit(1 if pull_failed or push_failed else 0)


if __name__ == "__main__":
    main()
