"""An erasure's epoch holds when the erasure is killed after its deletes, and for the warm caches a
batch filled while the erasure ran (revA22's findings 1, 2 and 7).

The erasure bumps the epoch as it suppresses; the tools are then asked (seconds to minutes at the
vendors) before her items are deleted. A batch of process A that runs meanwhile (a late copy of her
record, or a namesake's record the linkage compares with hers) reads her stored values into its
caches after that bump. Only a bump after the deletes tells A's next batch to forget them: the
audit record's comes last, and an erasure killed before it (a Lambda timeout) never writes it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import core.privacy as privacy
from core.erasure_epoch import forget_if_erased
from core.linkage import email_keys
from core.suppression import SuppressionCheck, SuppressionEntry
from tests.integration.test_erasure_epoch import (  # noqa: F401  (pair, warm: fixtures)
    HANA,
    HER,
    HER_EMAIL,
    OLA,
    SALT,
    BatchStarts,
    Stores,
    _erase_elsewhere,
    _held,
    _resolve,
    flat,
    pair,
    warm,
)

PER = [flat("crm", "9", first_name="Per", last_name="Ek", email="per@ek.se")]
MID_BATCH = {
    "late_copy": [flat("crm", "1", **HANA, email=HER_EMAIL, day=3)],
    "namesake": [flat("web", "77", **HANA, email="other.hana@web.de")],
}


def _erase_with_a_batch_meanwhile(
    a: Stores, b: Stores, monkeypatch: pytest.MonkeyPatch, batch: list[dict[str, Any]], killed: bool
) -> None:
    """B erases her; one of A's batches runs while the tools are asked (after the suppress bump,
    before the deletes); with ``killed`` the erasure dies after its deletes, before its audit."""
    original_ask, original_quarantined = privacy.ask_tools, privacy.quarantined_of
    calls: list[None] = []

    def ask(*args: Any, **kwargs: Any) -> Any:
        _resolve(a, batch)
        return original_ask(*args, **kwargs)

    def lost(*args: Any, **kwargs: Any) -> Any:
        # The erasure reads her quarantined records twice: before it asks the tools (pfix22) and
        # after the deletes; the kill is at the second.
        calls.append(None)
        if len(calls) == 1:
            return original_quarantined(*args, **kwargs)
        raise ConnectionError("the Lambda timed out after the deletes")

    with monkeypatch.context() as m:
        m.setattr(privacy, "ask_tools", ask)
        if killed:
            m.setattr(privacy, "quarantined_of", lost)
            with pytest.raises(ConnectionError):
                _erase_elsewhere(b, monkeypatch, HER, "req-hana")
        else:
            _erase_elsewhere(b, monkeypatch, HER, "req-hana")
    assert b.owner(f"email#{HER_EMAIL}") is None, "her items are deleted"


@pytest.mark.parametrize("killed", [False, True], ids=["finished", "killed_before_audit"])
@pytest.mark.parametrize("batch", sorted(MID_BATCH))
def test_erasure_killed_after_deletes_before_audit(
    warm: tuple[Stores, Stores, BatchStarts],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    batch: str,
    killed: bool,
) -> None:
    a, b, starts = warm
    _resolve(a, OLA)  # A knows the epoch
    _erase_with_a_batch_meanwhile(a, b, monkeypatch, MID_BATCH[batch], killed)
    # THEN A's next batch, of someone else, starts with nothing cached
    _resolve(a, PER)
    assert starts.held[-1] == {}, starts.held[-1]


def test_namesake_batch_caches_her_stored_email(
    warm: tuple[Stores, Stores, BatchStarts],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b, _ = warm
    _resolve(a, OLA)
    _erase_with_a_batch_meanwhile(a, b, monkeypatch, MID_BATCH["namesake"], killed=True)
    _resolve(a, PER)
    before = email_keys.email_match_key.cache_info().hits
    email_keys.email_match_key(HER_EMAIL)
    assert email_keys.email_match_key.cache_info().hits == before, "her erased email is still cached"


def test_pull_suppression_check_keeps_her_identifier_keys_no_longer(
    warm: tuple[Stores, Stores, BatchStarts],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b, _ = warm
    check = SuppressionCheck(a.suppression, SALT)  # Wiring.suppression(): one per warm environment
    forget_if_erased(check.store)
    assert check.suppressed_keys([f"email#{HER_EMAIL}"]) == set()  # a page of hers checked before
    assert f"email#{HER_EMAIL}" in check.known
    _erase_elsewhere(b, monkeypatch, HER, "req-hana")
    assert forget_if_erased(check.store) is True  # the next page's epoch check: caches emptied
    assert check.known == {}
    # and the check still works: her identifier is found suppressed (hashed again)
    assert check.suppressed_keys([f"email#{HER_EMAIL}"]) == {f"email#{HER_EMAIL}"}


def _restore_point(stores: Stores) -> Any:
    """A way to put the store's epoch back as it is now (a table or file restored from a backup)."""
    suppression: Any = stores.suppression
    if hasattr(suppression, "_client"):  # DynamoDB: the epoch item, read and put back
        from core.storage.dynamodb_epoch import EPOCH_KEY

        client, table = suppression._client, suppression.table_name
        item = client.get_item(TableName=table, Key=EPOCH_KEY, ConsistentRead=True)["Item"]
        return lambda: client.put_item(TableName=table, Item=item)
    if hasattr(suppression, "database"):  # SQLite: the epoch row
        with suppression.database.reading() as conn:
            row = conn.execute("SELECT * FROM items WHERE pk = 'SUPPRESS#epoch'").fetchone()

        def put_back() -> None:
            with suppression.database.writing() as conn:
                conn.execute("DELETE FROM items WHERE pk = 'SUPPRESS#epoch'")
                conn.execute(f"INSERT INTO items VALUES ({', '.join('?' * len(row))})", row)

        return put_back
    epoch = suppression._epoch  # memory: the shared epoch object's fields
    kept = dict(vars(epoch))
    return lambda: vars(epoch).update(kept)


def _an_erasure_writes(stores: Stores, request: str) -> None:
    """One write of an erasure in another process (its suppression entries: one bump)."""
    at = datetime(2026, 12, 6, tzinfo=UTC)
    hash_ = request.encode().hex().ljust(64, "0")
    stores.suppression.suppress([SuppressionEntry(hash_, "email", request, at)])


def test_an_erasure_after_a_restore_is_seen_though_the_counter_went_back(
    warm: tuple[Stores, Stores, BatchStarts],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a store whose epoch A has seen, saved in a backup
    a, b, starts = warm
    _erase_elsewhere(b, monkeypatch, HER, "req-hana")
    restore = _restore_point(b)
    _an_erasure_writes(b, "req-1")
    _resolve(a, OLA)  # A sees the epoch after req-1, and caches Ola's values
    assert starts.held[-1] == {}
    assert _held()
    # WHEN the store is restored from the backup, and another erasure writes as often as req-1 did
    restore()
    _an_erasure_writes(b, "req-2")
    # THEN A's next batch starts clean: the epoch it saw last is not the one it reads (a counter
    # back where it was would say nothing happened)
    _resolve(a, PER)
    assert starts.held[-1] == {}, starts.held[-1]
