"""The push use case of core.sync (its docstring says what a push does): ``push_profiles``, its
``PushReport``, and ``changed_profiles``, the live profiles of the customers a pull or merge changed.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from core.connector import Connector, Payload, PushMode, PushOutcome
from core.erasure_epoch import ErasureEpochs
from core.ports import (
    RETIRED_HASH,
    CustomerState,
    ProfileItem,
    ProfileStore,
    PushedState,
    PushedUnlessErased,
    ReadsProfiles,
    SyncStateStore,
)
from core.push_policy import decide, push_mode_of, refusal, refused, refused_again
from core.push_suppression import PushSuppression, shared
from core.schema import Profile
from core.suppression import SuppressionCheck

_log = logging.getLogger(__name__)


@dataclass
class PushReport:
    """What one push did: ``considered = no_payload + skipped_by_mode + skipped_by_consent +
    skipped_retired + skipped_refused + skipped_unchanged + suppressed + sent``, ``pushed = created +
    updated``, and what was sent and not pushed is ``failed`` or ``refused``.

    ``created`` counts people pushed whom the tool did not hold (as far as profilesync knew);
    ``skipped_by_mode`` the people an ``update`` push left out because the tool does not hold them,
    ``skipped_by_consent`` those an ``upsert`` push left out because their consent does not allow the
    tool's channel (``core.push_policy``)."""

    destination: str
    considered: int = 0
    no_payload: int = 0
    skipped_unchanged: int = 0
    sent: int = 0
    pushed: int = 0
    calls: int = 0
    retried: int = 0
    failed: list[PushOutcome] = field(default_factory=list)
    mode: PushMode = "upsert"
    created: int = 0
    updated: int = 0
    skipped_by_mode: int = 0
    skipped_by_consent: int = 0
    skipped_retired: int = 0
    """People whose record the tool deleted (core.retirement): not created there again."""
    refused: list[PushOutcome] = field(default_factory=list)
    """People whose address the tool refused for good in this push (``PushOutcome.refused``): not
    failures, not sent again until their address changes."""
    skipped_refused: int = 0
    """People not sent because the tool refused their address, unchanged since, in an earlier push."""
    suppressed: int = 0
    """People erased while the push ran (their profile was read before): found suppressed just
    before their batch was sent, and not sent; counted in ``considered``, not in ``sent``."""


def changed_profiles(store: ProfileStore, customer_ids: Iterable[str]) -> list[Profile]:
    """The live profiles of these customers (a merged-away customer gives its survivor's profile)."""
    todo = set(customer_ids)
    found: dict[str, Profile] = {}
    seen: set[str] = set()
    while todo:
        seen |= todo
        items: Iterable[ProfileItem | CustomerState]
        if isinstance(store, ReadsProfiles):
            items = store.get_profiles(sorted(todo)).values()
        else:
            items = store.get_customers(sorted(todo)).values()
        todo = set()
        for item in items:
            if item.merged_into:
                todo.add(item.merged_into)
            elif item.profile is not None:
                found[item.customer_id] = item.profile
        todo -= seen
    return [found[cid] for cid in sorted(found)]


def push_profiles(
    connector: Connector,
    profiles: Iterable[Profile],
    state: SyncStateStore,
    *,
    mode: str | None = None,
    max_rounds: int = 3,
    progress: Callable[[PushReport], None] | None = None,
    suppression: SuppressionCheck | PushSuppression | None = None,
) -> PushReport:
    """Push the profiles whose payload for this connector changed since the last push.

    ``mode`` is the instance's push mode (``update`` or ``upsert``; None: the connector's default).
    Who may be pushed is decided before anything is sent (``core.push_policy``): people the tool holds,
    and in ``upsert`` mode people it does not hold whose consent allows its channel. Retryable
    per-record failures are sent again (up to ``max_rounds`` rounds, in full batches); the rest are
    reported in ``failed`` and their hashes are not saved, so the next run tries again; a refusal for
    good (``PushOutcome.refused``) is reported in ``refused`` and recorded (``push_policy.refusal``),
    so the person is sent again only when her match key changes.
    ``suppression``: each batch is checked against it just before it is sent, so a person erased
    while the push runs (a push to a rate-limited tool takes minutes) is not sent after her erasure
    (counted in ``report.suppressed``); the caller leaves out those suppressed before the push.
    A ``PushSuppression`` (core.push_suppression) shares one read of the profiles' identifiers with
    the caller and every destination: each check then reads only the store's erasure epoch, and the
    identifiers again only when it moved. A bare ``SuppressionCheck`` gets one for this call.
    """
    destination = connector.spec.name
    rules = connector.spec.push_rules
    report = PushReport(destination, mode=push_mode_of(connector.spec, mode))
    # 1. What the tool should hold for each profile.
    planned: list[tuple[Profile, Payload]] = []
    profile_of: dict[str, Profile] = {}
    for profile in profiles:
        report.considered += 1
        payload = connector.from_profile(profile)
        if payload is None:
            report.no_payload += 1
        else:
            planned.append((profile, payload))
            profile_of[payload.customer_id] = profile
    last = state.get_pushed(destination, [p.customer_id for _, p in planned])
    # 2. Who may be pushed: the people the tool holds, and those the mode and their consent let it create.
    payloads: list[Payload] = []
    creating: set[str] = set()
    guard = None if suppression is None else shared(suppression)
    keyed = None if guard is None else guard.hash
    rekeyed: list[PushedState] = []
    for profile, payload in planned:
        pushed = last.get(payload.customer_id)
        mark = pushed.payload_hash if pushed is not None and refused(pushed) else None
        if mark is not None and pushed is not None and not pushed.remote_id:
            pushed = None  # a refusal is no sign the tool holds her (a push before it would be)
        decision = decide(profile, destination, rules, report.mode, pushed)
        if decision == "skipped_by_mode":
            report.skipped_by_mode += 1
            continue
        if decision == "skipped_by_consent":
            report.skipped_by_consent += 1
            continue
        if decision == "skipped_retired":
            report.skipped_retired += 1
            continue
        if mark is not None and refused_again(mark, payload.match_key, keyed):
            report.skipped_refused += 1  # refused for good, her address unchanged since
            if mark != (keyed_mark := refusal(payload.match_key, keyed)):  # a bare mark: keyed now
                rekeyed.append(dataclasses.replace(last[payload.customer_id], payload_hash=keyed_mark))
            continue
        if pushed is not None and pushed.payload_hash == RETIRED_HASH:
            pushed = None  # the person is back at the tool: the retired mark is no push of ours
        if decision == "create":
            creating.add(payload.customer_id)
        if payload.remote_id is None and pushed is not None and pushed.remote_id:
            payload = dataclasses.replace(payload, remote_id=pushed.remote_id)
        payloads.append(payload)
    _put(state, rekeyed, profile_of, guard)
    # 3. Only what changed since the last push.
    todo = [p for p in payloads if (prev := last.get(p.customer_id)) is None or prev.payload_hash != p.hash]
    report.skipped_unchanged = len(payloads) - len(todo)
    report.sent = len(todo)
    size = max(1, connector.spec.push_batch_size)
    for round_number in range(max_rounds):
        retry: list[Payload] = []
        for batch in _batches(todo, size):
            if guard is not None:
                batch = _not_erased(batch, profile_of, guard, report)
                if not batch:
                    continue
            outcomes = connector.push(batch)
            report.calls += 1
            if len(outcomes) != len(batch):
                raise RuntimeError(
                    f"{destination}.push returned {len(outcomes)} outcomes for {len(batch)} payloads; "
                    "a connector must return one outcome per payload, in order"
                )
            done: list[PushedState] = []
            marks: list[PushedState] = []
            at = datetime.now(UTC)
            for payload, outcome in zip(batch, outcomes, strict=True):
                if outcome.ok:
                    done.append(
                        PushedState(payload.customer_id, destination, payload.hash, outcome.remote_id, at)
                    )
                    if payload.customer_id in creating:
                        report.created += 1
                    else:
                        report.updated += 1
                elif outcome.refused:
                    mark = refusal(payload.match_key, keyed)
                    marks.append(PushedState(payload.customer_id, destination, mark, payload.remote_id, at))
                    report.refused.append(outcome)
                elif outcome.retryable and round_number + 1 < max_rounds:
                    retry.append(payload)
                else:
                    report.failed.append(outcome)
            _put(state, done + marks, profile_of, guard)
            report.pushed += len(done)
            if progress is not None:
                progress(report)
        if not retry:
            break
        report.retried += len(retry)
        todo = retry
    return report


def _not_erased(
    batch: list[Payload], profile_of: Mapping[str, Profile], suppression: PushSuppression, report: PushReport
) -> list[Payload]:
    """The batch without the people erased since their profiles were read (a batch may be minutes
    after the first): read just before it is sent, so an erasure that asked the tool to delete a
    person is not undone by a push that creates her again."""
    blocked = suppression.blocked([profile_of[p.customer_id] for p in batch])
    if not blocked:
        return batch
    report.suppressed += len(blocked)
    report.sent -= len(blocked)
    return [p for p in batch if p.customer_id not in blocked]


def _put(
    state: SyncStateStore,
    states: list[PushedState],
    profile_of: Mapping[str, Profile],
    suppression: PushSuppression | None,
) -> None:
    """Record ``states``, but not those of the people erased since their profiles were read: an
    erasure handled while their batch was on the wire deleted their ``PUSHED#`` items, and one
    written after it would outlive her (her refusal mark is a hash of her address; a push's remote
    id may be one too: Mailchimp's is the MD5 of it).

    An erasure can also land between this look at suppression and the write: the store's erasure
    epoch is read before the look, and the write is made only while it holds
    (``PushedUnlessErased``); when it moved, suppression is looked at again. After
    ``_WRITE_ATTEMPTS`` moves (erasures landing back to back) the states are not written: the
    next push sends those people again (an upsert), which is safe where a stale item is not."""
    if suppression is None:
        if states:
            state.put_pushed(states)
        return
    guarded = isinstance(suppression.store, ErasureEpochs) and isinstance(state, PushedUnlessErased)
    for _ in range(_WRITE_ATTEMPTS):
        if not states:
            return
        # the epoch is read before the look (a look made at that epoch is reused: core.push_suppression)
        epoch, erased = suppression.erased([profile_of[s.customer_id] for s in states])
        states = [s for s in states if s.customer_id not in erased]
        if not states:
            return
        if not guarded:
            state.put_pushed(states)
            return
        assert isinstance(state, PushedUnlessErased)
        if state.put_pushed_unless_erased(states, epoch):
            return
    _log.warning(
        "the push states of %d people were not recorded: erasures kept landing while they were "
        "written; the next push sends them again",
        len(states),
    )


#: Looks at suppression and conditional writes of one batch's states before giving up on them.
_WRITE_ATTEMPTS = 5


def _batches(payloads: Sequence[Payload], size: int) -> Iterator[list[Payload]]:
    """Full batches of ``size``, each holding one ``group`` only (in first-seen group order)."""
    groups: dict[str, list[Payload]] = {}
    for payload in payloads:
        groups.setdefault(payload.group, []).append(payload)
    for members in groups.values():
        for start in range(0, len(members), size):
            yield members[start : start + size]


def last_pushed(state: SyncStateStore, destination: str, payloads: Sequence[Payload]) -> dict[str, str]:
    """The hash last pushed to ``destination`` for each payload's customer (for reports and tests)."""
    got = state.get_pushed(destination, [p.customer_id for p in payloads])
    return {cid: s.payload_hash for cid, s in got.items()}
