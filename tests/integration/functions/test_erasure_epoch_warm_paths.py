"""The warm paths revA22 found reading no erasure epoch: push's reconcile (each page) and the privacy
function's requests (export, split, unsuppress: each request), on moto.

"Elsewhere" is another environment's erasure, its suppression entries written through a client of
its own (tests/integration/functions/test_erasure_epoch_functions.py).
"""

from __future__ import annotations

from typing import Any

import pytest

import core.privacy
from core.linkage import email_keys
from core.pipeline import IngestSettings, ingest
from core.testing.records import make_record
from functions import privacy, push
from tests.integration.functions.conftest import Env, FakeContext
from tests.integration.functions.test_erasure_epoch_functions import _erased_elsewhere, _spy
from tests.integration.test_erasure_epoch import _held

HERS = "hana.sato@corp.jp"


def test_a_reconcile_after_an_erasure_elsewhere_starts_with_empty_caches(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann = make_record("crm", "1", email="ann@example.com")
    ingest([ann], env.wiring.profiles, IngestSettings(sleep=lambda _: None))
    starts = _spy(monkeypatch, push, "push_everywhere")
    push.push_changes(env.wiring, ["c-1"])  # a stream invocation: the epoch is known
    email_keys.email_match_key(HERS)  # a value of hers, cached by that push
    _erased_elsewhere("req-r")
    push.reconcile(env.wiring)  # the scheduled reconcile invocation of the same warm environment
    assert len(starts) == 2, starts
    assert starts[-1] == {}, starts[-1]


def test_each_reconcile_page_reads_the_epoch(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    people = [make_record("crm", str(i), email=f"p{i}@ek.se") for i in range(3)]
    ingest(people, env.wiring.profiles, IngestSettings(sleep=lambda _: None))
    starts: list[dict[str, int]] = []
    original = push.push_everywhere

    def page(*args: Any, **kwargs: Any) -> Any:
        starts.append(_held())
        answer = original(*args, **kwargs)
        email_keys.email_match_key(HERS)  # a value of hers, cached by this page's push
        if len(starts) == 1:
            _erased_elsewhere("req-p")  # lands while the reconcile goes on
        return answer

    monkeypatch.setattr(push, "push_everywhere", page)
    push.reconcile(env.wiring, items_per_page=1)
    assert len(starts) >= 2, starts
    assert starts[1] == {}, starts  # the page after the erasure started clean


@pytest.mark.parametrize(
    ("event", "served_by"),
    [
        ({"action": "export", "email": "nobody@example.com"}, "export_person"),
        ({"action": "unsuppress", "email": "nobody@example.com", "requested_by": "dpo"}, "lift_suppression"),
    ],
    ids=["export", "unsuppress"],
)
def test_a_privacy_request_after_an_erasure_elsewhere_starts_with_empty_caches(
    env: Env, monkeypatch: pytest.MonkeyPatch, event: dict[str, Any], served_by: str
) -> None:
    starts = _spy(monkeypatch, core.privacy, served_by)
    privacy.handler(dict(event), FakeContext())  # the warm environment knows the epoch
    email_keys.email_match_key(HERS)  # a value of hers, cached by that request
    privacy.handler(dict(event), FakeContext())
    assert starts[-1] != {}, "nothing erased: kept (else the check below proves nothing)"
    _erased_elsewhere("req-x")
    privacy.handler(dict(event), FakeContext())
    # the request's own identifier is normalised before it is served; no value of hers is cached
    assert "email_match_key" not in starts[-1], starts[-1]
    before = email_keys.email_match_key.cache_info().hits
    email_keys.email_match_key(HERS)
    assert email_keys.email_match_key.cache_info().hits == before, "her value is still cached"


def test_a_split_request_after_an_erasure_elsewhere_starts_with_empty_caches(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    starts = _spy(monkeypatch, privacy, "split_answer")
    split = {"action": "split", "event_id": "merge:c-none:abc", "requested_by": "dpo"}
    privacy.handler(dict(split), FakeContext())
    email_keys.email_match_key(HERS)
    _erased_elsewhere("req-s")
    privacy.handler(dict(split), FakeContext())
    assert len(starts) == 2, starts
    assert starts[-1] == {}, starts[-1]
