"""Shared fixtures: records built in one line, the moto environment set before boto3 loads, and the
Hypothesis profile (tests/hypothesis_profiles.py: ``ci`` by default, ``HYPOTHESIS_PROFILE=deep``)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from core.testing.records import T0, MakeRecord, make_record
from tests import aws_signing, hypothesis_profiles, moto_item_sizes, moto_start, runner_temp

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }
)

hypothesis_profiles.load()
# tmp_path and tempfile on tmpfs where there is one with room: a SQLite store's syncs to disk cost
# nothing there (tests/runner_temp.py).
runner_temp.use_memory_for_tmp_path()


def _share_botocore_data_loader() -> None:
    """Every boto3 default session of the run shares one botocore data loader.

    moto's ``mock_aws()`` drops boto3's default session on entry (so that no client or credentials
    outlive a mock), and a new session reads the service model, endpoints and rules of every client
    again from botocore's JSON files: a mock and a DynamoDB client took 0.10 s of CPU, 0.02 s with
    the loader shared, in each of the thousands of mocks the suite enters (every test, hypothesis
    example and kill point on DynamoDB). The loader caches what it read; models are only read.
    Sessions, clients, credentials and moto's state stay one per mock, as before. Only sessions made
    while ``AWS_DATA_PATH`` is unset share it (one loader per data path): a test that sets it to add
    models of its own (tests/unit/test_aws_clients.py) gets a loader that searches there.
    """
    import boto3

    new_session = boto3.setup_default_session
    shared: dict[str | None, Any] = {}

    def setup_default_session(**kwargs: Any) -> None:
        new_session(**kwargs)
        session = boto3.DEFAULT_SESSION
        assert session is not None
        # The loader's search path holds boto3's data and AWS_DATA_PATH's folders, read when made.
        loader = shared.setdefault(os.environ.get("AWS_DATA_PATH"), session._loader)
        session._session.register_component("data_loader", loader)
        session._loader = loader

    boto3.setup_default_session = setup_default_session


_share_botocore_data_loader()


def _share_botocore_handler_checks() -> None:
    """botocore's checks of each event handler a new session registers are made once per process.

    A session registers about 130 handlers of its own, and ``mock_aws()`` makes a new session on
    entry: botocore asks ``inspect.getfullargspec`` of every handler whether it takes ``**kwargs``,
    and each session's aliaser rewrites every event name again. Both answers are functions of the
    handler's code and of the event name (with botocore's own alias table), so they are remembered
    for the process: a mock's session and DynamoDB client took about 23 ms of CPU, about half of
    them in these two checks (tests/unit/test_botocore_checks_shared.py holds the answers to
    botocore's own). Handlers with a ``__signature__`` of their own, and aliasers given a table of
    their own, are checked as before.
    """
    import inspect
    import types
    import weakref

    import botocore.hooks

    accepts_kwargs = botocore.hooks.accepts_kwargs
    known: weakref.WeakKeyDictionary[Any, str | None] = weakref.WeakKeyDictionary()

    def remembered_accepts_kwargs(func: Any) -> Any:
        target = func.__func__ if isinstance(func, types.MethodType) else func
        if not isinstance(target, types.FunctionType) or hasattr(func, "__signature__"):
            return accepts_kwargs(func)
        if target not in known:
            known[target] = inspect.getfullargspec(target).varkw  # botocore asks for [2], varkw
        return known[target]

    botocore.hooks.accepts_kwargs = remembered_accepts_kwargs
    init = botocore.hooks.EventAliaser.__init__
    shared_names: dict[str, str] = {}

    def aliaser_init(self: Any, event_emitter: Any, event_aliases: Any = None) -> None:
        init(self, event_emitter, event_aliases)
        # A client's aliaser is a copy of its session's, with a copy of the table: equal, not the same.
        if event_aliases is None or event_aliases == botocore.hooks.EVENT_ALIASES:
            self._alias_name_cache = shared_names

    botocore.hooks.EventAliaser.__init__ = aliaser_init  # type: ignore[method-assign]


_share_botocore_handler_checks()
# DynamoDB requests to moto's in-process mock go unsigned (moto checks no signature; tests/aws_signing.py).
aws_signing.skip_signing_to_moto_dynamodb()
# moto's 1,295 requests interceptors built once, not at every mock_aws() start (tests/moto_start.py).
moto_start.build_interceptors_once()
moto_start.draw_request_ids_at_once()
# moto's XML request id substituted only into bodies that hold one (tests/moto_start.py).
moto_start.stamp_request_ids_only_where_asked()
# moto's new items sized once per attribute, not once per attribute before it (tests/moto_item_sizes.py).
moto_item_sizes.size_items_once()
moto_item_sizes.size_values_by_kind()


def _model_moto_costs() -> None:
    """moto's reads cost about what DynamoDB's do, in every test, as in ``profilesync`` local runs.

    ``profilesync.local_moto.model_moto_costs`` (tests/unit/test_moto_patches.py holds its results
    to moto's own): a table Query reads only the partition it names (moto 5 walks every item of the
    table for each one: the erasure of tests/integration/test_attack3_erase_past_guardrail_cli.py
    asks one partition per identifier of her scope and spent minutes there), a Scan page starts at
    its ``ExclusiveStartKey``, and attribute values already in wire form are written as they are
    (moto's generic serialiser took 120 of the 390 profiled seconds of
    test_revb16_review_race[dynamodb]). A worker that ran test_moto_patches had it applied already.
    """
    from profilesync.local_moto import model_moto_costs

    model_moto_costs()


_model_moto_costs()

__all__ = ["T0", "MakeRecord", "make_record"]

#: The slowest tests first (the last local run's durations, else tests/durations.json, else the
#: ``slow`` marker), and ``--write-durations`` (``make durations``); the test modules' assertions
#: rewritten once by xdist's controller, not by every worker (tests/rewrite_once.py).
pytest_plugins = ["tests.runner_order", "tests.rewrite_once"]


def pytest_collection_finish(session: pytest.Session) -> None:
    """The collector tuned for the run as ``profilesync resolve`` tunes it for bulk work
    (``core.runtime.tune_gc_for_bulk_work``): what collection built (every test module, item and
    parameter: about 340,000 objects on a worker) frozen, and a young pass every 10,000 net
    allocations instead of 700. moto, botocore and hypothesis allocate containers by the million that
    reference counting frees: with CPython's defaults a worker walked its whole heap again and again,
    about a tenth of a DynamoDB or linkage test's CPU (tests/unit/linkage plus
    test_pipeline_on_every_store: 4.7 s of 41.6 CPU s in the collector, 2.9 s with this;
    test_partial_ingest_counts plus test_robust4_store_failure_mid_commit, run side by side at load
    14: 57.3 -> 51.2 CPU s). Cyclic garbage is still collected, a little later (an object whose
    ``__del__`` warns may do so in a later test); a test that sets thresholds of its own gets them back
    as it found them (tests/unit/test_resolve_gc.py)."""
    import gc

    from core.runtime import tune_gc_for_bulk_work

    gc.collect()
    tune_gc_for_bulk_work()


@pytest.fixture
def record() -> MakeRecord:
    return make_record
