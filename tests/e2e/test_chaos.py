"""The data path under faults: afterwards the profiles are those of a clean run.

The chaos run differs from the clean one in four ways, all at once:

* every sandbox injects ~10% faults: throttles (429), server errors (503), timeouts and truncated
  bodies (``connectors._sandbox.Faults``);
* the local runtime delivers half of the ingest messages twice (SQS is at-least-once);
* the handlers crash between their steps, once each: pull after a page was sent to the queue but
  before its cursor was saved; merge after one of its transactions was durable but before the next;
  push after a tool accepted a batch but before it was recorded as pushed;
* Lambda's retries (pull's asynchronous retry, SQS redelivery, the stream's retry) recover.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from connectors._sandbox import Faults
from core.push import primary_email
from core.schema import Profile
from profilesync.demo import CONNECTORS, make_sandboxes
from profilesync.local import LocalRuntime, PullResult
from tests.hypothesis_profiles import examples

#: The demo's people: 40 in ``make test``, 80 in ``make test-deep``. At 40 throttles, every
#: crash and the redeliveries still happen (asserted below).
PEOPLE = examples(ci=40, deep=80)
SEED = 5

pytestmark = pytest.mark.slow


def canonical(profile: Profile) -> str:
    """A profile without what depends on the order of events (its id and version)."""
    data = profile.model_dump(mode="json", exclude={"customer_id", "version"})
    data["identifiers"] = sorted(json.dumps(i, sort_keys=True) for i in data["identifiers"])
    data["sources"] = sorted(json.dumps(s, sort_keys=True) for s in data["sources"])
    return json.dumps(data, sort_keys=True)


def live_profiles(rt: LocalRuntime) -> list[Profile]:
    return [p for p in rt.wiring.profiles.iter_profiles() if p.sources]


def pull_until_done(rt: LocalRuntime, connector: str, attempts: int = 5) -> list[PullResult]:
    """What the schedule does: the next run resumes from the cursor if one failed for good. The
    scheduled runs' results, the last one done."""
    runs: list[PullResult] = []
    for _ in range(attempts):
        runs.append(rt.pull(connector))
        if runs[-1].status == "done":
            return runs
    raise AssertionError(f"pull of {connector} did not finish in {attempts} scheduled runs")


def faults_served(sandbox: Any) -> list[tuple[str, str]]:
    """Record the faults ``sandbox`` serves, as (request ``METHOD path``, fault): its ``_roll`` picks
    one for each request ``_respond`` answers (connectors._sandbox.vendor)."""
    served: list[tuple[str, str]] = []
    respond, roll = sandbox._respond, sandbox._roll
    route = [""]

    def responding(request: Any) -> Any:
        route[0] = f"{request.method} {request.url.path}"
        return respond(request)

    def rolling() -> str | None:
        fault: str | None = roll()
        if fault is not None:
            served.append((route[0], fault))
        return fault

    sandbox._respond, sandbox._roll = responding, rolling
    return served


def crash_once(obj: Any, method: str, *, after_call: bool, skip: int = 0) -> list[int]:
    """Make ``obj.method`` raise once, on its ``skip + 1``-th call (after doing its work if
    ``after_call``); return a list that counts the crashes."""
    real: Callable[..., Any] = getattr(obj, method)
    calls = [0]
    crashed: list[int] = []

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        should = not crashed and calls[0] > skip
        if should and not after_call:
            crashed.append(1)
            raise RuntimeError(f"injected crash before {method}")
        result = real(*args, **kwargs)
        if should:
            crashed.append(1)
            raise RuntimeError(f"injected crash after {method}")
        return result

    setattr(obj, method, wrapper)
    return crashed


@pytest.fixture(scope="module")
def clean() -> dict[str, int]:
    with LocalRuntime(make_sandboxes(PEOPLE, SEED)) as rt:
        for connector in CONNECTORS:
            pull_until_done(rt, connector)
        rt.settle()
        found: dict[str, int] = {}
        for profile in live_profiles(rt):
            found[canonical(profile)] = found.get(canonical(profile), 0) + 1
        return found


def test_faults_duplicates_and_crashes_leave_the_profiles_of_a_clean_run(clean: dict[str, int]) -> None:
    sandboxes = make_sandboxes(PEOPLE, SEED)
    for n, sandbox in enumerate(sandboxes.values()):
        sandbox.faults = Faults(
            throttle=0.03, server_error=0.03, timeout=0.02, truncate=0.02, retry_after="0", seed=SEED + n
        )
    served = {name: faults_served(sandbox) for name, sandbox in sandboxes.items()}
    # The connectors' retry waits are noted, not slept (the sandboxes answer at once: what is proved is
    # that each fault is retried, not how long the backoff lasts); the rate limiters still pace.
    waits: list[float] = []
    with LocalRuntime(sandboxes, redeliver=0.5, seed=1, connector_sleep=waits.append) as rt:
        # pull: a page is in the queue, its cursor not yet saved
        pull_crashes = crash_once(rt.wiring.sync_state, "put_sync_state", after_call=False, skip=1)
        # merge: one transaction durable, the next never sent
        merge_crashes = crash_once(rt.wiring.profiles, "_transact", after_call=True, skip=3)
        # push: the tool has the batch, profilesync has not recorded it
        push_crashes = crash_once(rt.wiring.sync_state, "put_pushed_unless_erased", after_call=False, skip=2)
        runs = [run for connector in CONNECTORS for run in pull_until_done(rt, connector)]
        merged, pushed = rt.settle()

        # Each crash really happened.
        assert pull_crashes
        assert merge_crashes
        assert push_crashes
        assert merged.redelivered > 0  # and messages really came twice
        assert sum(s.stats.throttled for s in sandboxes.values()) > 0
        assert waits  # the faults were waited out through the runtime's sleep
        # Every kind of fault was served, and the HTTP layer's retries absorbed each one: the only
        # failed pull invocation and the only push retried by the stream are the injected crashes'
        # (with 503s not retried, or a truncated body read as empty, the stream retried 3 and 2 more)
        kinds = {fault for faults in served.values() for _, fault in faults}
        assert kinds >= {"throttle", "server_error", "timeout", "truncate"}, served
        assert sum(run.failed_invocations for run in runs) == len(pull_crashes)
        assert (pushed.push_retries, pushed.failed_invocations) == (len(push_crashes), 0), served
        # Nothing parked: no dead letter, no stream batch given up on.
        assert rt.queue_depth(rt.dlq_url) == 0
        assert rt.queue_depth(rt.push_failure_url) == 0
        assert pushed.push_failures_parked == 0

        profiles = live_profiles(rt)
        found: dict[str, int] = {}
        for profile in profiles:
            found[canonical(profile)] = found.get(canonical(profile), 0) + 1
        # The same profiles as the clean run: no record lost, no profile duplicated.
        assert found == clean
        # And every profile still reached every tool it is in (a retry re-pushed what was lost).
        for profile in profiles:
            email = primary_email(profile)
            if email is None:
                continue
            for tool in {s.source for s in profile.sources}:
                connector = rt.wiring.connector(tool)
                traits = sandboxes[tool].pushed_traits(email)
                if connector.from_profile(profile) is None or (tool == "shopify" and not traits):
                    continue  # nothing for this tool, or a Shopify customer known by phone only
                assert profile.customer_id in {str(v) for v in traits.values()}, (tool, email)
