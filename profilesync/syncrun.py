"""``profilesync sync``: pull one connector, resolve and merge, push the changed profiles back.

The same use cases as the Lambda functions (core.sync), run in one process against the embedded
store (kept between runs in ``.profilesync/``) or a DynamoDB endpoint.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from core.connector import Connector, ConnectorPlugin, ConnectorSettings
from core.errors import ConnectorConfigError
from core.lease import LeaseStore
from core.ports import ProfileStore, SyncState, SyncStateStore
from core.privacy_store import ErasureStore
from core.push_policy import push_mode_of
from core.push_suppression import PushSuppression
from core.schema import Profile
from core.suppression import SuppressionCheck
from core.sync import SAVED, PullReport, PushReport, changed_profiles, pull_into_store, push_profiles
from profilesync.progress import Progress as TaskProgress
from profilesync.sync_lease import holding_lease

if TYPE_CHECKING:
    from core.normalise import NormaliseOptions
    from core.pipeline import IngestSettings
    from core.refresh_sweep import SweepGuard


def option_env_var(connector: str, option: str) -> str:
    return f"PROFILESYNC_{connector.upper()}_{option.upper()}"


def settings_from_environment(
    plugin: ConnectorPlugin,
    *,
    base_url: str | None = None,
    options: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    push_mode: str | None = None,
) -> ConnectorSettings:
    """Credentials through ``resolve_secret`` (env ``PROFILESYNC_<NAME>``, secrets file, Secrets
    Manager), options from ``--option`` or env ``PROFILESYNC_<CONNECTOR>_<OPTION>``, and the push mode
    from ``push_mode`` or env ``PROFILESYNC_<CONNECTOR>_PUSH_MODE`` (checked against the connector)."""
    from connectors._http import resolve_secret

    environ = os.environ if env is None else env
    credentials = {c.name: resolve_secret(c.name, env=environ) for c in plugin.spec.credentials}
    merged: dict[str, str] = {}
    for option in plugin.spec.options:
        value = environ.get(option_env_var(plugin.spec.name, option), "").strip()
        if value:
            merged[option] = value
    for key, value in (options or {}).items():
        if key not in plugin.spec.options:
            known = ", ".join(plugin.spec.options) or "none"
            raise ConnectorConfigError(f"{plugin.spec.name} has no option {key!r} (options: {known})")
        merged[key] = value
    mode = push_mode or environ.get(option_env_var(plugin.spec.name, "push_mode"), "").strip() or None
    return ConnectorSettings(
        credentials=credentials,
        base_url=base_url,
        options=merged,
        push_mode=push_mode_of(plugin.spec, mode) if mode is not None else None,
    )


#: The key of a connector's sync state report that says its last run's push went through.
PUSH_DONE = "push_done"


@dataclass
class SyncOutcome:
    pull: PullReport
    push: PushReport | None
    caught_up: bool = False
    """The push sent every profile of the connector: an earlier run left its push unfinished."""


class Progress:
    """The progress of a sync's pull and push (profilesync.progress): a live line on a terminal, a
    log line every ``interval`` seconds otherwise, nothing when ``quiet``."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        quiet: bool = False,
        live: bool | None = None,
        interval: float = 10.0,
    ) -> None:
        self._stream = stream or sys.stderr
        self._quiet = quiet
        self._live = live
        self._interval = interval
        self._task: TaskProgress | None = None

    def _start(self, label: str, unit: str, total: int | None = None) -> TaskProgress:
        if self._task is None or self._task.label != label:
            self._task = TaskProgress(
                label,
                unit=unit,
                total=total,
                stream=self._stream,
                quiet=self._quiet,
                live=self._live,
                interval=self._interval,
            )
        return self._task

    def pull(self, report: PullReport) -> None:
        task = self._start(f"pull {report.connector}", "records")
        task.update(
            report.pulled,
            f"page {report.pages:,} · {report.ingest.written:,} written · {report.quarantined:,} quarantined",
        )

    def push(self, report: PushReport) -> None:
        task = self._start(f"push {report.destination}", "profiles", report.sent)
        task.update(report.pushed, f"{len(report.failed):,} failed" if report.failed else "")

    def done(self) -> None:
        """The current step (pull or push) is over: show its final line."""
        if self._task is not None:
            self._task.finish()
            self._task = None


def run_sync(
    connector: Connector,
    store: ProfileStore,
    state: SyncStateStore,
    *,
    cursor: str | None = SAVED,
    push: bool = True,
    progress: Progress | None = None,
    push_mode: str | None = None,
    leases: LeaseStore | None = None,
    where: str = "this store",
    suppression: SuppressionCheck | None = None,
    options: NormaliseOptions | None = None,
    erasure: ErasureStore | None = None,
    settings: IngestSettings | None = None,
    sweep: SweepGuard | None = None,
) -> SyncOutcome:
    """Pull from the cursor, merge, and push the profiles of every customer this pull touched
    (``push_mode``: the instance's mode, None for the connector's default), holding the
    connector's lease in ``leases`` (profilesync.sync_lease) throughout. ``suppression`` drops
    erased people's records and never pushes a profile holding one. ``options``: how the records
    are normalised (the instance's phone region); None: the defaults.

    When an earlier run did not finish its push (it was killed, ran with ``--no-push``, or some
    pushes failed), the customers it pulled were never pushed, and no later pull brings them back:
    this run then pushes every profile holding a record of this connector instead, which sends
    only what differs from what was last pushed (``SyncOutcome.caught_up``). The connector's sync
    state remembers whether the last push finished (``push_done`` in its report). Records the
    tool reports deleted are retired (core.retirement); ``erasure`` removes a customer left with none.
    ``settings``: how records join (the configuration document's identity section); None: exact.
    A full refresh that completes retires the records it did not list, within ``sweep``
    (core.refresh_sweep.SweepGuard; None: its defaults).
    """
    progress = progress or Progress()
    name = connector.spec.name
    with holding_lease(leases, name, where=where) as renew:
        pushing = push and "push" in connector.spec.capabilities
        catch_up = pushing and _push_unfinished(state.get_sync_state(name))
        _mark_push_done(state, name, False)  # until this run's push is through

        def pulled_page(report: PullReport) -> None:
            renew()
            progress.pull(report)

        pulled = pull_into_store(
            connector,
            store,
            state,
            cursor=cursor,
            options=options,
            progress=pulled_page,
            suppression=suppression,
            erasure=erasure,
            settings=settings,
            sweep=sweep,
        )
        progress.done()
        pushed: PushReport | None = None
        if pushing:
            if catch_up:
                pushed = _push_everyone(connector, store, state, push_mode, renew, progress, suppression)
            else:

                def pushed_batch(report: PushReport) -> None:
                    renew()
                    progress.push(report)

                guard = None if suppression is None else PushSuppression(suppression)  # one read, shared
                profiles = _unsuppressed(guard, changed_profiles(store, pulled.ingest.customers))
                pushed = push_profiles(
                    connector, profiles, state, mode=push_mode, progress=pushed_batch, suppression=guard
                )
            progress.done()
            if not pushed.failed:
                _mark_push_done(state, name, True)
    return SyncOutcome(pulled, pushed, caught_up=catch_up)


#: Profiles pushed per call of push_profiles when catching up (memory stays that of one chunk).
CATCH_UP_CHUNK = 1000


def _push_everyone(
    connector: Connector,
    store: ProfileStore,
    state: SyncStateStore,
    mode: str | None,
    renew: Callable[[], None],
    progress: Progress,
    suppression: SuppressionCheck | None = None,
) -> PushReport:
    """Push every live profile that holds a record of this connector, a chunk at a time."""
    source = connector.spec.name
    total = PushReport(connector.spec.name, mode=push_mode_of(connector.spec, mode))

    def pushed_batch(part: PushReport) -> None:
        renew()
        progress.push(_added(total, part))

    chunk: list[Profile] = []
    for profile in store.iter_profiles():
        if any(ref.source == source for ref in profile.sources):
            chunk.append(profile)
        if len(chunk) >= CATCH_UP_CHUNK:
            guard = None if suppression is None else PushSuppression(suppression)  # one read a chunk
            chunk = _unsuppressed(guard, chunk)
            total = _added(
                total,
                push_profiles(connector, chunk, state, mode=mode, progress=pushed_batch, suppression=guard),
            )
            chunk = []
    guard = None if suppression is None else PushSuppression(suppression)
    chunk = _unsuppressed(guard, chunk)
    if chunk:
        total = _added(
            total,
            push_profiles(connector, chunk, state, mode=mode, progress=pushed_batch, suppression=guard),
        )
    return total


def _unsuppressed(suppression: PushSuppression | None, profiles: list[Profile]) -> list[Profile]:
    """``profiles`` without those holding an erased person's record (never pushed anywhere); the
    answer is the push's to reuse (core.push_suppression)."""
    if suppression is None or not profiles:
        return profiles
    blocked = suppression.blocked(profiles)
    return [p for p in profiles if p.customer_id not in blocked]


def _added(total: PushReport, part: PushReport) -> PushReport:
    """The sum of two push reports (of one destination and mode)."""
    counts = {
        f.name: getattr(total, f.name) + getattr(part, f.name)
        for f in dataclasses.fields(PushReport)
        if f.type in ("int", int)
    }
    return dataclasses.replace(total, failed=[*total.failed, *part.failed], **counts)


def _push_unfinished(saved: SyncState) -> bool:
    """Whether the run that saved ``saved`` pulled and did not finish its push."""
    return saved.version > 0 and not _report(saved).get(PUSH_DONE, False)


def _mark_push_done(state: SyncStateStore, name: str, done: bool) -> None:
    saved = state.get_sync_state(name)
    report = _report(saved)
    if bool(report.get(PUSH_DONE, False)) == done or (saved.version == 0 and not done):
        return
    report[PUSH_DONE] = done
    state.put_sync_state(dataclasses.replace(saved, report=json.dumps(report, sort_keys=True)))


def _report(saved: SyncState) -> dict[str, Any]:
    try:
        report = json.loads(saved.report) if saved.report else {}
    except ValueError:
        return {}
    return report if isinstance(report, dict) else {}


def summary_lines(outcome: SyncOutcome) -> list[str]:
    p = outcome.pull
    i = p.ingest
    lines = [
        f"pulled {p.pulled:,} records in {p.pages:,} pages from {p.connector}"
        + (" (full refresh)" if p.full_refresh else " (incremental)"),
        f"  {p.normalised:,} normalised, {p.quarantined:,} quarantined"
        + (f", {p.suppressed:,} of erased people dropped" if p.suppressed else ""),
        f"  {i.written:,} written, {i.unchanged:,} unchanged, {i.stale:,} stale; "
        f"{i.new_customers:,} new customers, {i.attached:,} attached, {i.merged_customers:,} merged",
    ]
    for reason, count in p.quarantine_reasons.most_common(5):
        lines.append(f"  quarantined {count:,} x {reason}")
    if p.retired is not None:
        d = p.retired
        lines.append(
            f"  {d.received:,} deleted in {p.connector}: {d.retired:,} retired from their profiles "
            f"({d.removed_customers:,} profiles left with no record removed, {d.split_customers:,} split), "
            f"{d.absent:,} not held, {d.stale:,} restored since"
            + (f", {d.ignored:,} not applied (no erasure store)" if d.ignored else "")
        )
    if p.sweep is not None:
        w = p.sweep
        lines.append(
            f"  full refresh listed {w.listed:,}; {w.unlisted:,} of {w.stored:,} stored records not listed"
            + (f": none retired: {w.refused}" if w.refused else f", {w.swept:,} sent to be retired")
        )
        lines.extend(f"  {kind} not swept: {why}" for kind, why in w.not_swept.items())
    if outcome.push is not None:
        r = outcome.push
        if outcome.caught_up:
            lines.append(
                f"catching up: an earlier run of {r.destination} did not finish its push (it was "
                "interrupted, ran with --no-push, or pushes failed): every profile of the tool was "
                "considered, and only what changed since its last push was sent"
            )
        lines.append(
            f"pushed {r.pushed:,} of {r.considered:,} profiles to {r.destination} in {r.calls:,} calls "
            f"({r.skipped_unchanged:,} unchanged, {r.no_payload:,} not for this tool, "
            f"{len(r.failed):,} failed)"
        )
        lines.append(
            f"  {r.mode} mode: {r.updated:,} updated, {r.created:,} created; skipped {r.skipped_by_mode:,} "
            f"not in the tool (mode), {r.skipped_by_consent:,} without consent for its channel"
        )
        if r.suppressed:
            lines.append(f"  {r.suppressed:,} erased while the push ran: not sent")
        if r.refused or r.skipped_refused:
            lines.append(
                f"  {len(r.refused):,} refused by {r.destination} for good (sent again only when their "
                f"address changes), {r.skipped_refused:,} refused before and not sent"
            )
            lines.extend(f"  refused {f.customer_id}: {f.error}" for f in r.refused[:5])
        lines.extend(f"  failed {f.customer_id}: {f.error}" for f in r.failed[:5])
    return lines


def describe_plugin(
    plugin: ConnectorPlugin, verbose: bool, env: Mapping[str, Any] | None = None
) -> list[str]:
    """Lines for ``profilesync connectors list``."""
    from connectors._http import secret_env_var

    environ = os.environ if env is None else env
    spec = plugin.spec
    head = f"{spec.name:<12} {spec.kind:<10} {', '.join(sorted(spec.capabilities))}"
    if not verbose:
        return [head]
    lines = [head, f"  {spec.description}", f"  base URL:     {spec.default_base_url}"]
    for cred in spec.credentials:
        var = secret_env_var(cred.name)
        state = "set" if environ.get(var) else "not set"
        lines.append(f"  credential:   {var} ({state}) - {cred.description}")
    for option, text in spec.options.items():
        lines.append(
            f"  option:       {option} (--option {option}=... or "
            f"{option_env_var(spec.name, option)}) - {text}"
        )
    lines.append(f"  page size:    {spec.page_size}; push batch: {spec.push_batch_size}")
    if "push" in spec.capabilities:
        rules = spec.push_rules
        creates = (
            f"creates people only with {rules.channel} consent"
            if rules.channel
            else "creates asking no consent"
        )
        lines.append(
            f"  push mode:    {rules.mode} by default (--push-mode or "
            f"{option_env_var(spec.name, 'push_mode')}); upsert {creates}"
        )
    if spec.rate_limit:
        lines.append(f"  rate limit:   {spec.rate_limit}")
    if spec.deletions:
        lines.append(f"  deletions:    {spec.deletions}")
    lines.append(f"  sandbox:      {'profilesync sandbox ' + spec.name if plugin.sandbox else 'none'}")
    return lines


__all__ = [
    "Progress",
    "SyncOutcome",
    "describe_plugin",
    "option_env_var",
    "run_sync",
    "settings_from_environment",
    "summary_lines",
]
