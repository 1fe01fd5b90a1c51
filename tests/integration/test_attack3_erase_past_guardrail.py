"""attack3: a person with more records on her one address than the email guardrail allows (8), then
erased by that address.

Past the guardrail, the records that come later found customers of their own that hold the address
beside its owner (``HOLDER#`` markers). Erasing her by it used to erase the owning customer only:
the address counted as shared with her own split-off customers, so it was neither deleted from them
nor suppressed, and 6 of her customers kept her address and records (found by an erasure during a
``resolve --endpoint-url`` run, test_attack3_erase_during_resolve). Now the customers holding only
her values and no other name go with her (core.scope_splinters); people sharing the address with a
value or a name of their own stay, and while they hold it, it names nobody (``ambiguous``): she is
named by her phone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.identity import IdentityPolicy
from core.pipeline import IngestSettings, ingest
from core.privacy import PrivacyStores, export_person
from core.schema import Identifier, SourceRecord
from core.testing.records import make_record
from profilesync.cli import main
from profilesync.stores import open_stores, store_path
from tests.integration.test_erasure_attacks import SALT, STORES, Stores

TABLE = "profilesync-dev-profiles"
EMAIL = "kim.many@example.com"


def _rows(state_dir: Path) -> str:
    with sqlite3.connect(store_path(state_dir, TABLE)) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return "\n".join(
            repr(row) for name in tables for row in db.execute(f'SELECT * FROM "{name}"')
        ).lower()


def test_erasing_a_person_by_an_address_past_its_guardrail_leaves_nothing_of_her(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROFILESYNC_AUDIT_SALT", "attack3-guardrail")
    # GIVEN Kim's 12 records in three tools, all on her one address, ingested a few at a time
    kim = [
        make_record(("crm", "shop", "mail")[n % 3], f"kim-{n}", email=EMAIL, day=n % 20 + 1)
        for n in range(12)
    ]
    bob = make_record("crm", "bob-1", email="bob@example.com")
    with open_stores(endpoint_url=None, table=TABLE, path=store_path(tmp_path, TABLE)) as stores:
        for start in range(0, len(kim), 3):
            ingest([*kim[start : start + 3], bob], stores.profiles, IngestSettings(sleep=lambda _: None))
    assert EMAIL in _rows(tmp_path)
    # WHEN she is erased by her address
    assert main(["privacy", "erase", "--email", EMAIL, "--state-dir", str(tmp_path)]) == 0
    assert '"outcome": "erased"' in capsys.readouterr().out
    # THEN no row of the store holds her address or any of her record ids, and Bob is still there
    rows = _rows(tmp_path)
    assert "bob@example.com" in rows
    assert EMAIL not in rows
    assert not [r.key for r in kim if r.source_id in rows]
    # AND her records arriving again are dropped, not stored
    with open_stores(endpoint_url=None, table=TABLE, path=store_path(tmp_path, TABLE)) as stores:
        from core.suppression import SuppressionCheck

        check = SuppressionCheck(stores.suppression, "attack3-guardrail")
        again = ingest(kim, stores.profiles, IngestSettings(sleep=lambda _: None, suppression=check))
    assert again.suppressed == len(kim)
    assert EMAIL not in _rows(tmp_path)


# --- the same on every store, with people who share her address -----------------------------------


@pytest.fixture(params=sorted(STORES))
def stores(request: pytest.FixtureRequest) -> Iterator[Stores]:
    with STORES[request.param]() as found:
        yield found


def _kim(stores: Stores) -> list[SourceRecord]:
    """Kim's 12 records on her address (some with her phone), ingested a few at a time, then Lee's:
    a colleague on the same address, named; and Max's, on it with a phone of his own."""
    kim = [
        make_record(
            ("crm", "shop", "mail")[n % 3],
            f"kim-{n}",
            email=EMAIL,
            phone="+14155550123" if n % 4 == 0 else None,
            day=n % 20 + 1,
        )
        for n in range(12)
    ]
    lee = make_record("crm", "lee-1", email=EMAIL, day=3, traits={"first_name": "Lee"})
    max_ = make_record("shop", "max-1", email=EMAIL, phone="+14155550999", day=4)
    # They come after her 12 (before, past no guardrail yet, they would join her: one customer)
    batches = [kim[0:3], kim[3:6], kim[6:9], kim[9:12], [lee, max_]]
    for batch in batches:
        stores.ingest(batch, IdentityPolicy())
    return kim


def _holding(stores: Stores, key: str) -> set[str]:
    return {p.customer_id for p in stores.profiles.iter_profiles() if key in {i.key for i in p.identifiers}}


def test_every_customer_of_hers_is_erased_and_the_people_sharing_her_address_are_kept(
    stores: Stores,
) -> None:
    # GIVEN Kim past her address's guardrail, and Lee and Max on it too
    kim = _kim(stores)
    address = f"email#{EMAIL}"
    assert len(_holding(stores, address)) > 3
    # WHEN she is asked for by her address THEN nobody is erased: it is Lee's and Max's too, and
    # whoever asks by it may be either of them (privacy4: tests/integration/test_privacy_shared_email)
    assert stores.erase(Identifier.from_key(address), "req-0", IdentityPolicy()).outcome == "ambiguous"
    assert len(_holding(stores, address)) > 3
    # WHEN she is erased by her phone, which only she holds
    assert stores.erase(Identifier.from_key("phone#+14155550123"), "req-kim", IdentityPolicy()).outcome == (
        "erased"
    )
    # THEN no customer holds a record of hers; Lee and Max keep theirs, and the address
    left = {key for p in stores.profiles.iter_profiles() for key in (i.key for i in p.identifiers)}
    assert not {f"source#{r.key}" for r in kim} & left
    assert {"source#crm:contact:lee-1", "source#shop:contact:max-1"} <= left
    assert len(_holding(stores, address)) == 2
    # AND her records arriving again are dropped, Lee's and Max's changes are stored
    again = stores.ingest([r.model_copy(update={"traits": {"city": "Oslo"}}) for r in kim], IdentityPolicy())
    assert again.suppressed == len(kim)
    theirs = [
        make_record("crm", "lee-1", email=EMAIL, day=9, traits={"first_name": "Lee", "city": "Oslo"}),
        make_record("shop", "max-1", email=EMAIL, phone="+14155550999", day=9),
    ]
    assert stores.ingest(theirs, IdentityPolicy()).suppressed == 0


def test_the_export_of_her_address_holds_the_records_of_every_customer_of_hers(stores: Stores) -> None:
    # GIVEN Kim past her address's guardrail, and Lee and Max on it too
    kim = _kim(stores)
    privacy = PrivacyStores(stores.profiles, stores.erasure, stores.sync_state, stores.suppression)
    # WHEN her data is asked for by her address THEN nothing is handed over: it is Lee's and Max's too
    export = export_person(stores.profiles, Identifier.from_key(f"email#{EMAIL}"), stores=privacy, salt=SALT)
    assert export is not None
    assert (export.ambiguous, export.sources) == (True, ())
    # WHEN she asks by her phone
    export = export_person(
        stores.profiles, Identifier.from_key("phone#+14155550123"), stores=privacy, salt=SALT
    )
    # THEN it holds all twelve of her records, and neither Lee's nor Max's
    assert export is not None
    assert sorted(r.key for r in export.sources) == sorted(r.key for r in kim)


def test_her_customers_on_other_spellings_of_her_gmail_mailbox_go_with_her(stores: Stores) -> None:
    # GIVEN Kim's records on three spellings of one Gmail inbox (exact identity keeps each apart),
    # and Ann's on a fourth spelling with a phone of her own (someone else as far as anyone can tell)
    spellings = ["kim.many@gmail.com", "kimmany@gmail.com", "kim.many+shop@gmail.com"]
    kim = [make_record(("crm", "shop", "mail")[n % 3], f"kim-{n}", email=spellings[n % 3]) for n in range(9)]
    ann = make_record("crm", "ann-1", email="k.i.m.many@gmail.com", phone="+14155550999")
    stores.ingest([*kim, ann], IdentityPolicy())
    # WHEN Kim is erased by the spelling she typed
    assert stores.erase(
        Identifier.from_key("email#kim.many@gmail.com"), "req-kim", IdentityPolicy()
    ).outcome == ("erased")
    # THEN no customer holds a record of hers; the other person keeps hers
    left = {i.key for p in stores.profiles.iter_profiles() for i in p.identifiers}
    assert not {f"source#{r.key}" for r in kim} & left
    assert "source#crm:contact:ann-1" in left
    # AND Kim's records arriving again are dropped, Ann's update is stored
    assert stores.ingest(kim, IdentityPolicy()).suppressed == len(kim)
    update = make_record("crm", "ann-1", email="k.i.m.many@gmail.com", phone="+14155550999", day=2)
    assert stores.ingest([update], IdentityPolicy()).suppressed == 0
