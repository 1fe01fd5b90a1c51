"""The one-off move of Mailchimp records from member-id keys to contact-id keys, against a full pull.

An earlier version keyed a member's record by the member id (the MD5 of her address). The first pull
from such a version's cursor walks the whole audience and retires each member's record under its
former key (connectors/mailchimp/_mapping.py, ``former_key_tombstone``). This fills an embedded
(SQLite) store as that version left it, saves its version-2 cursor, runs the pull that moves the keys,
and compares its CPU time with a full pull of the same audience into an empty store. It checks that
the move loses and adds no profile. Limit: the move costs at most 5x the full pull's CPU.

    python -m bench.mailchimp_key_move [--people 20000]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from connectors.mailchimp import PLUGIN, MailchimpSandbox, make_sandbox
from connectors.mailchimp._mapping import MEMBER_ID_TRAIT
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import SQLiteDatabase
from core.storage.sqlite_privacy import SQLiteErasureStore
from core.storage.sqlite_sync import SQLiteSyncStateStore
from core.sync import pull_into_store

LIMIT = 5.0
SETTINGS = IngestSettings(sleep=lambda _: None)


@contextmanager
def _stores(path: Path) -> Iterator[tuple[SQLiteProfileStore, SQLiteSyncStateStore, SQLiteErasureStore]]:
    database = SQLiteDatabase(path)
    try:
        yield SQLiteProfileStore(database), SQLiteSyncStateStore(database), SQLiteErasureStore(database)
    finally:
        database.close()


def _fill_as_before(sandbox: MailchimpSandbox, store: Any, state: Any) -> None:
    """The store and cursor a version keying records by member id left."""
    with PLUGIN.build(sandbox.settings()) as connector:
        pages = list(connector.pull(None))
        records = []
        for page in pages:
            member_id = {m["contact_id"]: m["id"] for m in page.records if isinstance(m, dict)}
            for draft in connector.to_records(page):
                if draft.deleted:
                    continue
                old = draft.model_copy(
                    update={
                        "source_id": member_id.get(str(draft.source_id), draft.source_id),
                        "traits": {k: v for k, v in draft.traits.items() if k != MEMBER_ID_TRAIT},
                    }
                )
                record = normalise_record(old)
                if isinstance(record, SourceRecord):
                    records.append(record)
    ingest(records, store, SETTINGS)
    cursor = json.loads(pages[-1].cursor or "{}")
    cursor["v"] = 2
    saved = state.get_sync_state("mailchimp")
    state.put_sync_state(dataclasses.replace(saved, cursor=json.dumps(cursor)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    args = parser.parse_args()
    sandbox = make_sandbox(people=args.people, seed=3)
    with tempfile.TemporaryDirectory() as folder:
        with (
            _stores(Path(folder) / "fresh.sqlite3") as (store, state, erasure),
            PLUGIN.build(sandbox.settings()) as connector,
        ):
            started = time.process_time()
            full = pull_into_store(connector, store, state, cursor=None, settings=SETTINGS, erasure=erasure)
            full_cpu = time.process_time() - started
        with _stores(Path(folder) / "before.sqlite3") as (store, state, erasure):
            _fill_as_before(sandbox, store, state)
            before = {p.customer_id for p in store.iter_profiles()}
            with PLUGIN.build(sandbox.settings()) as connector:
                started = time.process_time()
                moved = pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
                move_cpu = time.process_time() - started
            after = {p.customer_id for p in store.iter_profiles()}
    retired = moved.retired.as_dict() if moved.retired else {}
    print(f"full pull of {full.pulled} members into an empty store: {full_cpu:.1f} CPU s")
    print(
        f"move of keys ({len(before)} profiles; retired {retired.get('retired', 0)}, "
        f"absent {retired.get('absent', 0)}): {move_cpu:.1f} CPU s"
    )
    print(f"profiles lost {len(before - after)}, added {len(after - before)}")
    ratio = move_cpu / full_cpu if full_cpu else float("inf")
    print(f"move / full pull CPU: {ratio:.2f} (limit {LIMIT:.1f}): {'ok' if ratio <= LIMIT else 'OVER'}")


if __name__ == "__main__":
    main()
