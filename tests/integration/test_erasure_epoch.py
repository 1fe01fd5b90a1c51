"""An erasure reaches every warm process's caches, not only those of the process that ran it.

Process A (a warm merge function, a local runtime's worker) resolves records and keeps bounded caches
of their values (core.privacy_caches). Process B (the privacy function) erases one person over the
same store. A's next batch, of anyone, must start with no value of hers in any named cache.

"Process B" is a second handle on the same store (the in-memory objects, a second connection to the
SQLite file, a second client on the moto table) whose erasure empties no cache of this process
(``forget_personal_values`` made a no-op while it runs: another process's erasure cannot reach ours);
and, over the SQLite file, a real second OS process.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from core import pipeline, privacy_caches
from core.identity import IdentityPolicy
from core.ingest_settings import IngestSettings
from core.schema import Identifier
from core.storage.dynamodb import DynamoDBProfileStore, DynamoDBSyncStateStore
from core.storage.dynamodb_privacy import DynamoDBErasureStore
from core.storage.dynamodb_suppression import DynamoDBSuppressionStore
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import SQLiteDatabase
from core.storage.sqlite_privacy import SQLiteErasureStore, SQLiteSuppressionStore
from core.storage.sqlite_sync import SQLiteSyncStateStore
from core.suppression import SuppressionCheck
from profilesync.embedded import dynamodb_client, model_aws_semantics
from profilesync.template import create_table
from tests.integration.identity_attack_records import HANA, flat, ingest_settings, resolve_lines
from tests.integration.test_erasure_attacks import SALT, Stores, memory_stores

HER_EMAIL = "hana.sato@corp.jp"
HERS = [
    flat("crm", "1", **HANA, email=HER_EMAIL, phone="+44 20 7946 0018"),
    flat("shop", "2", **{**HANA, "first_name": "HANA", "address": "8 Mill Ln"}, email="hanasato92@me.com"),
]
OLA = [flat("crm", "3", first_name="Ola", last_name="Berg", email="ola.berg@gmial.com", postcode="M4 5JD")]
IDA = [
    flat("crm", "4", first_name="Ida", last_name="Lund", email="ida.lund@corp.se", phone="+46 8 123 456 78")
]
HER = Identifier.assemble(kind="email", value=HER_EMAIL)


def _sqlite_stores(database: SQLiteDatabase) -> Stores:
    return Stores(
        SQLiteProfileStore(database),
        SQLiteSyncStateStore(database),
        SQLiteErasureStore(database),
        SQLiteSuppressionStore(database),
        list,
    )


def _dynamodb_stores(client: Any) -> Stores:
    return Stores(
        DynamoDBProfileStore(client, "epoch", read_workers=1),
        DynamoDBSyncStateStore(client, "epoch"),
        DynamoDBErasureStore(client, "epoch"),
        DynamoDBSuppressionStore(client, "epoch"),
        list,
    )


@contextmanager
def memory_pair() -> Iterator[tuple[Stores, Stores]]:
    with memory_stores() as shared:  # one process's objects: B is A's own store, by another caller
        yield shared, shared


@contextmanager
def sqlite_pair() -> Iterator[tuple[Stores, Stores]]:
    with (
        tempfile.TemporaryDirectory() as folder,
        SQLiteDatabase(Path(folder) / "epoch.sqlite3") as a,
        SQLiteDatabase(Path(folder) / "epoch.sqlite3") as b,
    ):
        yield _sqlite_stores(a), _sqlite_stores(b)


@contextmanager
def dynamodb_pair() -> Iterator[tuple[Stores, Stores]]:
    model_aws_semantics()
    with mock_aws():
        create_table(dynamodb_client(), "epoch")
        yield _dynamodb_stores(dynamodb_client()), _dynamodb_stores(dynamodb_client())


PAIRS: dict[str, Callable[[], AbstractContextManager[tuple[Stores, Stores]]]] = {
    "memory": memory_pair,
    "sqlite": sqlite_pair,
    "dynamodb": dynamodb_pair,
}


@pytest.fixture(params=sorted(PAIRS))
def pair(request: pytest.FixtureRequest) -> Iterator[tuple[Stores, Stores]]:
    with PAIRS[request.param]() as found:
        yield found


@pytest.fixture
def warm(pair: tuple[Stores, Stores], monkeypatch: pytest.MonkeyPatch) -> tuple[Stores, Stores, BatchStarts]:
    """Process A warm with Hana's records (her values in its caches), B a second handle, A's batch
    starts watched."""
    a, b = pair
    starts = BatchStarts(monkeypatch)
    _resolve(a, HERS)
    return a, b, starts


def _held() -> dict[str, int]:
    """Every named cache of personal values that holds something, with how much (as
    tests/unit/test_privacy_caches.py walks them; the linkage's decisions and nodes by ``known``)."""
    named = [getattr(sys.modules[m], a) for m, a in privacy_caches.PERSONAL if m in sys.modules]
    held: dict[str, int] = {}
    for cache in [*named, *privacy_caches._MADE]:
        info = getattr(cache, "cache_info", None)
        size = (
            info().currsize
            if info is not None
            else len(cache)
            if isinstance(cache, dict)
            else len(getattr(cache, "known", {}))
        )
        if size:
            held[str(getattr(cache, "__qualname__", type(cache).__name__))] = size
    return held


class BatchStarts:
    """What the named caches held when each of A's batches started to resolve (``pipeline._ingest``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.held: list[dict[str, int]] = []
        self.before: Callable[[], None] | None = None  # runs as a batch starts, after A's checks
        original = pipeline._ingest

        def spy(*args: Any) -> Any:
            self.held.append(_held())
            if self.before is not None:
                self.before()
            return original(*args)

        monkeypatch.setattr(pipeline, "_ingest", spy)


def _settings(stores: Stores) -> IngestSettings:
    return replace(ingest_settings(), suppression=SuppressionCheck(stores.suppression, SALT))


def _resolve(stores: Stores, lines: list[dict[str, Any]]) -> None:
    resolve_lines(lines, stores.profiles, settings=_settings(stores))


def _erase_elsewhere(
    stores: Stores, monkeypatch: pytest.MonkeyPatch, identifier: Identifier, request: str
) -> Any:
    """Erase as process B: its own caches emptied, never this process's."""
    with monkeypatch.context() as other_process:
        other_process.setattr(privacy_caches, "forget_personal_values", lambda: 0)
        return stores.erase(identifier, request, IdentityPolicy(), _settings(stores))


def test_an_erasure_in_another_process_empties_the_caches_before_the_next_batch(
    warm: tuple[Stores, Stores, BatchStarts], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN process A warm with Hana's records (her values in its caches)
    a, b, starts = warm
    assert {"email_match_key", "fold", "_phonetic"} <= set(_held()), _held()
    # WHEN process B erases her
    assert _erase_elsewhere(b, monkeypatch, HER, "req-hana").outcome == "erased"
    assert _held(), "B's erasure reached no cache of A (else this test proves nothing)"
    # THEN A's next batch, of someone else, starts with no value in any named cache
    _resolve(a, OLA)
    assert starts.held[-1] == {}
    # AND with nothing new erased, the batch after keeps its caches (no needless emptying)
    _resolve(a, IDA)
    assert starts.held[-1] != {}


def test_two_erasures_each_reach_the_next_batch(
    warm: tuple[Stores, Stores, BatchStarts], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, starts = warm
    _resolve(a, OLA)
    # two erasures back to back between two of A's batches
    _erase_elsewhere(b, monkeypatch, HER, "req-hana")
    _erase_elsewhere(b, monkeypatch, Identifier.assemble(kind="email", value="ola.berg@gmial.com"), "req-ola")
    _resolve(a, IDA)
    assert starts.held[-1] == {}
    # a third one after A warmed again: its next batch is clean again
    _resolve(a, OLA)
    _erase_elsewhere(b, monkeypatch, Identifier.assemble(kind="email", value="ida.lund@corp.se"), "req-ida")
    _resolve(a, [flat("crm", "9", first_name="Per", last_name="Ek", email="per@ek.se")])
    assert starts.held[-1] == {}


def test_an_erasure_that_failed_midway_still_reaches_the_next_batch(
    warm: tuple[Stores, Stores, BatchStarts], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, starts = warm

    def lost(*_: Any) -> None:
        raise ConnectionError("the store went away after the suppression entries were written")

    # WHEN B's erasure fails after suppressing her, before it deleted anything or left its audit
    with monkeypatch.context() as failing:
        failing.setattr(type(b.erasure), "apply", lost)
        with pytest.raises(ConnectionError):
            _erase_elsewhere(b, monkeypatch, HER, "req-hana")
    assert b.owner(f"email#{HER_EMAIL}") is not None, "nothing of hers deleted"
    # THEN A's next batch starts clean all the same
    _resolve(a, OLA)
    assert starts.held[-1] == {}


def test_an_erasure_landing_mid_batch_reaches_the_batch_after(
    warm: tuple[Stores, Stores, BatchStarts], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, starts = warm
    # WHEN B erases her while A's batch (a late copy of her record) is past its check
    starts.before = lambda: (setattr(starts, "before", None), _erase_elsewhere(b, monkeypatch, HER, "req"))[0]
    _resolve(a, [flat("crm", "1", **HANA, email=HER_EMAIL, day=3)])
    assert starts.before is None, "the erasure ran mid-batch"
    # THEN the batch in flight finished (and her record was dropped: suppressed), and the next is clean
    assert a.owner(f"email#{HER_EMAIL}") is None
    _resolve(a, OLA)
    assert starts.held[-1] == {}


_ERASE_IN_ANOTHER_PROCESS = textwrap.dedent(
    """
    import sys
    from core.identity import IdentityPolicy
    from core.privacy import erase_person
    from core.schema import Identifier
    from core.storage.sqlite import SQLiteProfileStore
    from core.storage.sqlite_database import SQLiteDatabase
    from core.storage.sqlite_privacy import SQLiteErasureStore, SQLiteSuppressionStore

    with SQLiteDatabase(sys.argv[1]) as db:
        report = erase_person(
            Identifier.assemble(kind="email", value=sys.argv[2]),
            profiles=SQLiteProfileStore(db),
            erasure=SQLiteErasureStore(db),
            suppression=SQLiteSuppressionStore(db),
            tools={},
            salt=sys.argv[3],
            request_id="req-subprocess",
            policy=IdentityPolicy(),
        )
    print(report.outcome)
    """
)


def test_an_erasure_in_a_second_os_process_over_the_sqlite_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    starts = BatchStarts(monkeypatch)
    with SQLiteDatabase(tmp_path / "shared.sqlite3") as database:
        a = _sqlite_stores(database)
        _resolve(a, HERS)
        assert _held()
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                _ERASE_IN_ANOTHER_PROCESS,
                str(tmp_path / "shared.sqlite3"),
                HER_EMAIL,
                SALT,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        assert done.stdout.strip() == "erased", done.stderr
        _resolve(a, OLA)
        assert starts.held[-1] == {}


def test_the_epoch_is_zero_on_a_store_without_it_and_moves_with_each_erasure_write(
    pair: tuple[Stores, Stores],
) -> None:
    from core.erasure_epoch import ErasureEpochs
    from core.privacy_store import AuditRecord
    from core.suppression import SuppressionEntry

    a, b = pair
    assert isinstance(a.suppression, ErasureEpochs)
    assert isinstance(b.suppression, ErasureEpochs)
    # a table or file written before epochs: no item, epoch 0; both handles name the same store
    assert (a.suppression.erasure_epoch(), b.suppression.erasure_epoch()) == ("0", "0")
    assert a.suppression.epoch_key == b.suppression.epoch_key
    at = datetime(2026, 12, 6, tzinfo=UTC)
    b.suppression.suppress([SuppressionEntry("ab" * 32, "email", "req-1", at)])
    first = a.suppression.erasure_epoch()
    # every store bumps once, in the same transaction as the entries (left31: DynamoDB bumped before
    # its entries' BatchWriteItem and again after it)
    count = int(first.split(":")[0])
    assert count == 1
    # an audit of anything but an erasure leaves it; an erasure's audit record moves it
    b.erasure.put_audit(
        AuditRecord(action="unsuppress", request_id="req-2", at=at, subject_hash="x", outcome="done")
    )
    assert a.suppression.erasure_epoch() == first
    b.erasure.put_audit(
        AuditRecord(action="erase", request_id="req-1", at=at, subject_hash="x", outcome="done")
    )
    second = a.suppression.erasure_epoch()
    assert int(second.split(":")[0]) == count + 1
    # each bump with a token of its own (a store restored and bumped back to a count is not the same)
    assert len({first.split(":")[1], second.split(":")[1]}) == 2


class _Unreachable:
    epoch_key = "unreachable"

    def erasure_epoch(self) -> str:
        raise ConnectionError("could not connect to the endpoint URL")


def test_a_check_that_fails_empties_the_caches_and_says_why(caplog: pytest.LogCaptureFixture) -> None:
    from core.erasure_epoch import forget_if_erased
    from core.linkage import email_keys

    email_keys.email_match_key(HER_EMAIL)
    assert forget_if_erased(_Unreachable()) is True
    assert email_keys.email_match_key.cache_info().currsize == 0
    assert "could not be read (ConnectionError)" in caplog.text
    assert HER_EMAIL not in caplog.text
    # and again on the next batch: a failure is never remembered as an epoch seen
    email_keys.email_match_key(HER_EMAIL)
    assert forget_if_erased(_Unreachable()) is True
    assert email_keys.email_match_key.cache_info().currsize == 0


def test_a_batch_reads_the_epoch_once_whatever_its_size() -> None:
    # GIVEN the merge function's store on moto, its requests counted with botocore's event hooks
    with dynamodb_pair() as (a, _):
        reads: list[str] = []

        def count(params: dict[str, Any], **_: Any) -> None:
            if params.get("Key", {}).get("SK", {}).get("S") == "EPOCH":
                reads.append(params["Key"]["PK"]["S"])

        a.suppression._client.meta.events.register("provide-client-params.dynamodb.GetItem", count)
        # WHEN two batches of 40 records and one of 1 are resolved
        people = [
            flat("crm", str(i), first_name=f"P{i}", last_name="Ek", email=f"p{i}@ek.se") for i in range(81)
        ]
        _resolve(a, people[:40])
        _resolve(a, people[40:80])
        _resolve(a, people[80:])
        # THEN one read of the epoch item a batch, none a record
        assert reads == ["SUPPRESS#epoch"] * 3
