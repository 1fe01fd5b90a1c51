"""attack16: a backlog of erasures in one run (300 requests worked through by one process) on the
embedded SQLite store, beside 60 people who stay. (At 1,000 and 200 it holds too: 17.7 CPU s, 57 s
of wall time on the shared machine, too long for every run; set ``ERASED`` to try it.)

Earlier rounds erased one person, or a few, at a time. A run of many erasures in one process holds
the file open throughout: every erased row must still be overwritten (``secure_delete``) and leave the
file and its write-ahead log when the store is closed, whatever the number; every erasure must find
its own person (no cache of an earlier one answering for a later one, core/privacy_caches.py emptied
after each), and nobody else may go. Checked from outside the store's code: the bytes of every file
in the store's folder after it is closed, and each person's owner looked up again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.identity import IdentityPolicy
from core.pipeline import IngestSettings, ingest
from core.privacy import erase_person
from core.schema import Identifier
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import SQLiteDatabase
from core.storage.sqlite_privacy import SQLiteErasureStore, SQLiteSuppressionStore
from core.storage.sqlite_sync import SQLiteSyncStateStore
from core.suppression import SuppressionCheck
from core.testing.records import make_record

pytestmark = pytest.mark.slow

SALT = "attack16-salt"
ERASED = 300
KEPT = 60


def _email(i: int) -> str:
    return f"backlog.person{i:04d}@example.com"


def _phone(i: int) -> str:
    return f"+1415555{i:04d}"


def test_a_backlog_of_erasures_in_one_run_leaves_none_of_them_in_the_file_and_keep_everyone_else(
    tmp_path: Path,
) -> None:
    path = tmp_path / "profiles.sqlite3"
    with SQLiteDatabase(path) as database:
        profiles = SQLiteProfileStore(database)
        state = SQLiteSyncStateStore(database)
        erasure = SQLiteErasureStore(database)
        suppression = SQLiteSuppressionStore(database)
        settings = IngestSettings(policy=IdentityPolicy(), suppression=SuppressionCheck(suppression, SALT))
        # GIVEN 360 people, each a CRM record and a shop record sharing her address
        people = range(ERASED + KEPT)
        records = [make_record("crm", f"c{i}", email=_email(i), phone=_phone(i)) for i in people]
        records += [
            make_record("shop", f"s{i}", email=_email(i), traits={"city": f"Town{i:04d}"}) for i in people
        ]
        for start in range(0, len(records), 500):
            ingest(records[start : start + 500], profiles, settings)
        # WHEN 300 of them are erased in one run, by address (odd) or phone (even)
        outcomes = [
            erase_person(
                Identifier(kind="email", value=_email(i))
                if i % 2
                else Identifier(kind="phone", value=_phone(i)),
                profiles=profiles,
                erasure=erasure,
                tools={},
                salt=SALT,
                request_id=f"backlog-{i}",
                sync_state=state,
                suppression=suppression,
            ).outcome
            for i in range(ERASED)
        ]
        # THEN each found and erased its own person, and everyone else is still one customer
        assert outcomes == ["erased"] * ERASED
        owners = profiles.get_owners([f"email#{_email(i)}" for i in people])
        assert [i for i in range(ERASED) if f"email#{_email(i)}" in owners] == []
        kept = [owners[f"email#{_email(i)}"].customer_id for i in range(ERASED, ERASED + KEPT)]
        assert len(set(kept)) == KEPT
        again = ingest(
            [make_record("shop", f"s{i}", email=_email(i), day=9) for i in range(0, ERASED, 29)],
            profiles,
            settings,
        )
        assert again.suppressed == len(range(0, ERASED, 29))
    # AND once the store is closed, no file in its folder holds any erased person's address or phone
    data = b"".join(p.read_bytes() for p in sorted(tmp_path.iterdir()) if p.is_file())
    left = [i for i in range(ERASED) if _email(i).encode() in data or _phone(i).encode() in data]
    assert left == []
    assert sum(_email(i).encode() in data for i in range(ERASED, ERASED + KEPT)) == KEPT
