"""A synced local runtime frozen once and thawed per test: tests/e2e/test_erasure*.py's world.

Building the erasure tests' world (five sandboxes seeded from one population, the runtime, a full
sync: pull, merge, push) cost about 3 CPU s, and each test built its own to change it. ``freeze``
pickles what a synced runtime holds -- the embedded AWS's DynamoDB (table and stream), Streams (the
pollers' shard iterators) and SQS (queues, parked messages) backends, the sandboxes, the pollers'
place in the stream, the metrics and the log -- in one pickle (about 0.05 s to load), and ``thawed``
opens a new ``LocalRuntime`` over a copy of it: each test changes its own copy, as it changed its own
world before. The handlers' wiring is new (a cold start: no cache carried over), as Lambda's would be.

Under xdist the world is built once in the run, not once per worker (``built_once_in_the_run``): the
first worker to need it builds it and writes the frozen world to the run's folder, the others read it
(it pickles as it thaws: ``test_a_thawed_world_is_the_world_frozen`` runs on whichever worker).
"""

from __future__ import annotations

import copyreg
import fcntl
import io
import os
import pickle
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from profilesync.local import ACCOUNT_ID, REGION, LocalRuntime

#: The embedded AWS services the runtime creates resources in and the handlers change (the secrets
#: the setup creates are fixed values, created again by each runtime).
SERVICES = ("dynamodb", "dynamodbstreams", "sqs")


def _backends() -> dict[str, Any]:
    from moto.backends import get_backend

    return {name: get_backend(name) for name in SERVICES}  # type: ignore[call-overload]


def _dumps(state: object) -> bytes:
    """Pickle ``state``; a lock or thread-local (moto's SQS queues, the sandboxes) is pickled as a new
    one: nothing holds one while frozen."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    table: dict[Any, Callable[[Any], Any]] = dict(copyreg.dispatch_table)
    table[type(threading.Lock())] = lambda _: (threading.Lock, ())
    table[type(threading.RLock())] = lambda _: (threading.RLock, ())
    table[threading.local] = lambda _: (threading.local, ())
    pickler.dispatch_table = table
    pickler.dump(state)
    return buffer.getvalue()


@dataclass(frozen=True)
class FrozenWorld:
    """A synced runtime's state: see the module's docstring."""

    state: bytes
    parameters: Mapping[str, str]
    stream_arn: str
    log: str
    #: What the runtime held when frozen, read through its own clients (not through the pickle): a
    #: thawed copy is checked against it (test_erasure.py's test_a_thawed_world_is_the_world_frozen).
    witness: Mapping[str, Any]


def freeze(rt: LocalRuntime) -> FrozenWorld:
    """What ``rt`` holds now, settled (nothing queued for merge, the stream read to its end)."""
    if rt.log_path is None or rt.metrics.log is None:
        raise ValueError("freeze needs a runtime with a log_path: a thawed world starts with its log")
    rt.metrics.log.flush()
    state = {
        "backends": {name: backends[ACCOUNT_ID][REGION] for name, backends in _backends().items()},
        "sandboxes": rt.sandboxes,
        "iterators": rt._iterators,
        "shard_of": rt._shard_of,
        "backlog": rt._stream_backlog,
        "redelivered": rt._redelivered,
        "rng": rt._rng.getstate(),
        "metrics": (rt.metrics.values, rt.metrics.lines),
    }
    return FrozenWorld(
        _dumps(state),
        dict(rt.parameters),
        rt.stream_arn,
        rt.log_path.read_text(encoding="utf-8"),
        witness(rt),
    )


def witness(rt: LocalRuntime) -> dict[str, Any]:
    """What a runtime holds, read through its clients: the table's items, each queue's depth, each
    sandbox's holdings and the metrics' totals."""
    items: list[dict[str, Any]] = []
    for page in rt.dynamodb.get_paginator("scan").paginate(TableName=rt.table_name):
        items.extend(page["Items"])
    return {
        "items": sorted(items, key=lambda i: (i["PK"]["S"], i["SK"]["S"])),
        # how many messages each queue holds (receiving them would count a receive against them)
        "queues": {url: rt.queue_depth(url) for url in (rt.queue_url, rt.dlq_url, rt.push_failure_url)},
        "holdings": {name: sandbox.holdings() for name, sandbox in sorted(rt.sandboxes.items())},
        "metrics": dict(rt.metrics.values),
    }


@contextmanager
def thawed(
    frozen: FrozenWorld, log_path: Path, *, connector_sleep: Callable[[float], None] | None = None
) -> Iterator[LocalRuntime]:
    """A new runtime over a copy of ``frozen`` (its sandboxes are ``rt.sandboxes``); its log at
    ``log_path`` starts with the frozen runtime's lines."""
    state = pickle.loads(frozen.state)
    with LocalRuntime(
        state["sandboxes"],
        parameters=frozen.parameters,
        log_path=log_path,
        connector_sleep=connector_sleep,
    ) as rt:
        # The runtime's setup created the resources by the same names (URLs and ARNs are functions of
        # them); its backends give way to the frozen ones before any handler runs.
        for name, backends in _backends().items():
            backends[ACCOUNT_ID][REGION] = state["backends"][name]
        rt.stream_arn = frozen.stream_arn  # its label is the frozen table's creation time
        rt._iterators, rt._shard_of = state["iterators"], state["shard_of"]
        rt._stream_backlog, rt._redelivered = state["backlog"], state["redelivered"]
        rt._rng.setstate(state["rng"])
        rt.metrics.values, rt.metrics.lines = state["metrics"]
        assert rt.metrics.log is not None
        rt.metrics.log.write(frozen.log)
        rt.metrics.log.flush()
        yield rt


def built_once_in_the_run(tmp_path: Path, name: str, build: Callable[[], FrozenWorld]) -> FrozenWorld:
    """``build()``'s world, built once in an xdist run: the first worker to ask builds it and writes
    it to the folder every worker's ``tmp_path`` is under (``<run>/popen-gwN/<test>``, pytest's
    cleanup removes it), holding a lock while it builds; the others wait and read it. Outside xdist
    (or in a folder not laid out so) it is built here."""
    run = tmp_path.parents[1]
    if "PYTEST_XDIST_WORKER" not in os.environ or not tmp_path.parent.name.startswith("popen-gw"):
        return build()
    path = run / f"{name}.pickle"
    with open(run / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if path.exists():
            world: FrozenWorld = pickle.loads(path.read_bytes())
            return world
        world = build()
        written = path.with_suffix(".part")
        written.write_bytes(pickle.dumps(world, protocol=pickle.HIGHEST_PROTOCOL))
        written.replace(path)
        return world
