"""revA19 item 4: the re-check after a linked commit (core.link_recheck) losing every race does not
fail the batch, whose records are stored: the review items and splits are filed before it, and
the customers it left apart are counted in ``IngestResult.unjoined``."""

from __future__ import annotations

from typing import Any

import pytest

import core.link_relink
from core.errors import ConflictError
from tests.integration.identity_attack_records import groups, resolve_lines
from tests.integration.test_attack6_erased_and_fuzzy import _settings
from tests.integration.test_erasure_attacks import STORES
from tests.integration.test_lean17_writer_between_batches import ANN_CRM, ANN_SHOP
from tests.interleave import after_call


def _always_lost(*_: Any, **__: Any) -> Any:
    raise ConflictError("another writer changed the customer")


def test_a_recheck_that_keeps_losing_its_race_is_counted_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    with STORES["memory"]() as stores:
        s = _settings(stores)
        with after_call(stores.profiles, None, lambda: None) as alone:
            resolve_lines([ANN_CRM], stores.profiles, settings=s)
    before_commit = alone.index("commit")  # the shop writer runs whole between the CRM's read and commit
    with STORES["memory"]() as stores:
        s = _settings(stores)
        monkeypatch.setattr(core.link_relink, "relink_customers", _always_lost)
        shop = lambda: resolve_lines([ANN_SHOP], stores.profiles, settings=s)  # noqa: E731
        with after_call(stores.profiles, before_commit, shop):
            report, _ = resolve_lines([ANN_CRM], stores.profiles, settings=s)
        assert groups(stores.profiles) == {frozenset({"crm:1"}), frozenset({"shop:2"})}  # both stored
        assert report.ingest.written == 1
        assert len(report.ingest.unjoined) == 1


def test_reviews_and_splits_are_filed_before_the_recheck(monkeypatch: pytest.MonkeyPatch) -> None:
    import core.pipeline as pipeline

    done: list[str] = []
    monkeypatch.setattr(pipeline, "split_customer", lambda *a, **k: done.append("split") or [])
    monkeypatch.setattr("core.link_unfile.file_reviews", lambda *a, **k: done.append("reviews"))
    monkeypatch.setattr("core.link_recheck.join_filed_since", lambda *a, **k: done.append("recheck") or [])
    written: Any = [type("Written", (), {"label": "l"})()]
    plan = pipeline._Plan(written, {"l": ()}, {"l": "new"}, [], [], pipeline.IngestResult())
    plan.reviews, plan.resplit, plan.read_back = [Any], {"c1"}, {"bf:x": frozenset()}
    plan.survivors = {"l": "c1"}
    store: Any = object()
    pipeline._after_linked_commit(store, plan, pipeline.IngestResult(), store, written)
    assert done == ["reviews", "split", "recheck"]
