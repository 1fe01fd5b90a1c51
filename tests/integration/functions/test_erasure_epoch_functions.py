"""The functions empty their caches of personal values when an erasure ran elsewhere (moto).

Pull (each page, before it normalises), push (each invocation) and the profile API (each request)
read the erasure epoch (core.erasure_epoch) first; merge does as ingest starts
(tests/integration/test_erasure_epoch.py). "Elsewhere" is the privacy function's first write of
an erasure, its suppression entries, through a client of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from core.storage.dynamodb_suppression import DynamoDBSuppressionStore
from core.suppression import SuppressionEntry
from functions import profiles, pull, push
from tests.integration.functions.conftest import TABLE, Env, FakeContext, client, people
from tests.integration.test_erasure_epoch import _held


def _erased_elsewhere(request: str) -> None:
    other = DynamoDBSuppressionStore(client("dynamodb"), TABLE)
    other.suppress(
        [SuppressionEntry(request.encode().hex().ljust(64, "0"), "email", request, datetime.now(UTC))]
    )


def _spy(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[dict[str, int]]:
    """What the named caches held each time ``module.name`` was called."""
    seen: list[dict[str, int]] = []
    original = getattr(module, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(_held())
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return seen


def test_a_pull_page_after_an_erasure_elsewhere_starts_with_empty_caches(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    pages = _spy(monkeypatch, pull, "_normalise")
    pull.handler({"connector": "fake"}, FakeContext())  # warm: five people's emails normalised
    assert pages[-1], "the second page starts with the first page's values cached"
    _erased_elsewhere("req-1")
    env.tool.rows.extend(people(2, start=5))  # the next run's one page: two people more
    pull.handler({"connector": "fake"}, FakeContext())
    assert len(pages) == 4
    assert pages[-1] == {}


def test_a_push_after_an_erasure_elsewhere_starts_with_empty_caches(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.linkage import email_keys

    starts = _spy(monkeypatch, push, "changed_profiles")
    push.push_changes(env.wiring, ["c-1"])
    email_keys.email_match_key("hana.sato@corp.jp")  # a value of hers, cached by an earlier push
    push.push_changes(env.wiring, ["c-1"])
    assert starts[-1] != {}  # nothing erased: kept
    _erased_elsewhere("req-2")
    push.push_changes(env.wiring, ["c-1"])
    assert starts[-1] == {}


def test_a_profile_request_after_an_erasure_elsewhere_starts_with_empty_caches(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.linkage import email_keys

    seen: list[dict[str, int]] = []
    monkeypatch.setattr(profiles.app, "resolve", lambda *_: seen.append(_held()) or {"statusCode": 200})
    request: dict[str, Any] = {"headers": {}}
    profiles.handler(request, FakeContext())
    email_keys.email_match_key("hana.sato@corp.jp")
    profiles.handler(request, FakeContext())
    assert seen[-1] != {}
    _erased_elsewhere("req-3")
    profiles.handler(request, FakeContext())
    assert seen[-1] == {}


def test_serve_api_over_the_sqlite_file_empties_its_caches_after_an_erasure_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    # GIVEN `profilesync serve-api` over a SQLite store (its Governance names the store's epoch)
    from core.governance.policy import sample_policy
    from core.linkage import email_keys
    from core.storage.sqlite_database import SQLiteDatabase
    from core.storage.sqlite_privacy import SQLiteSuppressionStore
    from functions import _governance

    seen: list[dict[str, int]] = []
    monkeypatch.setattr(profiles.app, "resolve", lambda *_: seen.append(_held()) or {"statusCode": 200})
    with (
        SQLiteDatabase(tmp_path / "api.sqlite3") as served,
        SQLiteDatabase(tmp_path / "api.sqlite3") as other,
    ):
        epoch = SQLiteSuppressionStore(served)
        _governance.use(_governance.Governance(sample_policy(), None, erasures=epoch))  # type: ignore[arg-type]
        try:
            profiles.local_handler({"headers": {}}, FakeContext(), "support")
            email_keys.email_match_key("hana.sato@corp.jp")
            profiles.local_handler({"headers": {}}, FakeContext(), "support")
            assert seen[-1] != {}
            # WHEN the privacy CLI erases someone through its own connection
            at = datetime.now(UTC)
            SQLiteSuppressionStore(other).suppress([SuppressionEntry("cd" * 32, "email", "req-4", at)])
            # THEN the next request starts with no entry in any named cache
            profiles.local_handler({"headers": {}}, FakeContext(), "support")
            assert seen[-1] == {}
        finally:
            _governance.use(None)
    # AND the local role given is not left to the next request (the resolver replaced above never
    # cleared it: a later Lambda request in this process was answered as support)
    assert profiles.app.context.get("local_role") is None


def test_an_identity_review_after_an_erasure_elsewhere_starts_with_empty_caches(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core import link_review
    from core.linkage import email_keys
    from functions import identity_review

    seen: list[dict[str, int]] = []
    monkeypatch.setattr(link_review, "pending", lambda *_: seen.append(_held()) or [])
    identity_review.handler({"action": "list"}, FakeContext())
    email_keys.email_match_key("hana.sato@corp.jp")
    identity_review.handler({"action": "list"}, FakeContext())
    assert seen[-1] != {}
    _erased_elsewhere("req-5")
    identity_review.handler({"action": "list"}, FakeContext())
    assert seen[-1] == {}
