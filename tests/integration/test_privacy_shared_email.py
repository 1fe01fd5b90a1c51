"""privacy4: an email that two live customers hold who are different people (a family mailbox).

In probabilistic identity a mother and her daughter on one family address (other first names,
other birth dates) are kept apart: two customers, one email. An erasure by that email used to
erase whichever customer owned the ``IDENT#email#...`` item (the first to arrive), possibly not the
person asking, and once she was gone, the next request by it said ``not_found`` while the daughter
still held it. Now such a request is refused as ``ambiguous`` (nobody erased, exported or
suppressed; the audit record says so) until the address is held by one person only (with her
split-off customers, core.scope_splinters); each person is named by a phone only they hold or the
id of one of their records (``source``). On the in-memory, SQLite and DynamoDB (moto) stores.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.identity import IdentityPolicy
from core.pipeline import ingest
from core.privacy import PrivacyStores, export_person
from core.schema import Identifier, SourceRecord
from core.suppression import SuppressionCheck, keyed_hash
from core.testing.records import make_record
from profilesync.cli import main
from profilesync.stores import open_stores, store_path
from tests.integration.identity_attack_records import ingest_settings
from tests.integration.test_erasure_attacks import SALT, STORES, Stores, memory_stores

TABLE = "profilesync-dev-profiles"
FAMILY = "family@example.com"
ADDRESS = f"email#{FAMILY}"
#: Three people on one family inbox: other first names, other birth dates.
PEOPLE = {
    "mum": ("crm", {"first_name": "Mei", "last_name": "Tan", "date_of_birth": "1965-03-02"}),
    "lin": ("shop", {"first_name": "Lin", "last_name": "Tan", "date_of_birth": "1995-07-19"}),
    "kai": ("mail", {"first_name": "Kai", "last_name": "Tan", "date_of_birth": "1998-11-05"}),
}


@pytest.fixture(params=sorted(STORES))
def stores(request: pytest.FixtureRequest) -> Iterator[Stores]:
    with STORES[request.param]() as found:
        yield found


def _member(name: str, day: int = 0) -> SourceRecord:
    source, traits = PEOPLE[name]
    return make_record(source, name, email=FAMILY, day=day, traits=dict(traits))


def _source(name: str) -> Identifier:
    return Identifier(kind="source", value=_member(name).key)


def _probabilistic(stores: Stores, records: Sequence[SourceRecord]) -> None:
    check = SuppressionCheck(stores.suppression, SALT)
    for record in records:  # one at a time: each arrives after the others, as deliveries do
        ingest([record], stores.profiles, replace(ingest_settings(), suppression=check))


def _holders(stores: Stores, key: str) -> set[str]:
    """The records of the customers holding ``key``."""
    return {
        i.value
        for p in stores.profiles.iter_profiles()
        if key in {i.key for i in p.identifiers}
        for i in p.identifiers
        if i.kind == "source"
    }


def _suppressed(stores: Stores, key: str) -> bool:
    return bool(stores.suppression.suppressed([keyed_hash(SALT, key)]))


def _bookkeeping(row: tuple[object, ...]) -> bool:
    """The audit records and the erasure epoch's item: what a refused request may still write."""
    return str(row[0]).startswith("AUDIT#") or str(row[0]) == "SUPPRESS#epoch"


def _export(stores: Stores, identifier: Identifier) -> object:
    privacy = PrivacyStores(stores.profiles, stores.erasure, stores.sync_state, stores.suppression)
    return export_person(stores.profiles, identifier, stores=privacy, salt=SALT)


def test_an_email_two_people_hold_erases_and_exports_nobody(stores: Stores) -> None:
    # GIVEN a mother and her daughter on one family address, kept apart by probabilistic identity
    _probabilistic(stores, [_member("mum"), _member("lin")])
    assert _holders(stores, ADDRESS) == {"crm:contact:mum", "shop:contact:lin"}
    before = stores.rows()
    # WHEN someone asks to erase, or export, "the person with family@example.com"
    report = stores.erase(Identifier.from_key(ADDRESS), "req-family", IdentityPolicy())
    export = _export(stores, Identifier.from_key(ADDRESS))
    # THEN nobody is erased or suppressed, nothing is handed over: the address is two people's
    assert (report.outcome, report.complete) == ("ambiguous", False)
    assert getattr(export, "ambiguous", None) is True
    assert getattr(export, "sources", None) == ()
    assert _holders(stores, ADDRESS) == {"crm:contact:mum", "shop:contact:lin"}
    assert not _suppressed(stores, ADDRESS)
    # (the audit record and the erasure epoch, core.erasure_epoch, which an erasure request moves
    # whatever it finds: neither holds anybody's values)
    assert [r for r in stores.rows() if not _bookkeeping(r)] == [r for r in before if not _bookkeeping(r)]
    # AND the audit record says the request was refused as ambiguous
    kept = getattr(stores.erasure, "audits", None)  # the in-memory store keeps no rows
    if kept is not None:
        assert [(a.action, a.outcome) for a in kept] == [("erase", "ambiguous")]
    else:
        audits = [r for r in stores.rows() if r[0] == "AUDIT#erase"]
        assert len(audits) == 1
        assert "ambiguous" in audits[0][2]


def test_each_is_erased_by_a_record_id_and_the_last_one_by_the_address(stores: Stores) -> None:
    # GIVEN the mother and her daughter on the family address
    _probabilistic(stores, [_member("mum"), _member("lin")])
    # WHEN the mother is erased by the id of her record
    assert stores.erase(_source("mum"), "req-mum", IdentityPolicy()).outcome == "erased"
    # THEN the daughter keeps the address, and it is not suppressed (it is hers too)
    assert _holders(stores, ADDRESS) == {"shop:contact:lin"}
    assert not _suppressed(stores, ADDRESS)
    assert _suppressed(stores, "source#crm:contact:mum")
    # WHEN the daughter, now the only person on it, asks by the address
    report = stores.erase(Identifier.from_key(ADDRESS), "req-lin", IdentityPolicy())
    # THEN she is found and erased (not "not_found" while she is stored), and the address suppressed
    assert (report.found, report.outcome) == (True, "erased")
    assert _holders(stores, ADDRESS) == set()
    assert _suppressed(stores, ADDRESS)
    # AND her record arriving again is dropped, not stored
    again = stores.ingest([_member("lin", day=3)], IdentityPolicy())
    assert again.suppressed == 1
    assert _holders(stores, ADDRESS) == set()


def test_a_nameless_sign_up_on_the_family_inbox_goes_with_the_first_erased(stores: Stores) -> None:
    # GIVEN the mother, the daughter and a nameless newsletter sign-up on the family address (three
    # customers: nothing tells whose the sign-up is)
    _probabilistic(stores, [_member("mum"), _member("lin"), make_record("news", "x", email=FAMILY)])
    assert len({p.customer_id for p in stores.profiles.iter_profiles()}) == 3
    # WHEN the mother is erased by her record id THEN the sign-up goes with her (it holds nothing
    # that is not hers: docs/privacy.md, the limit of the rule), the daughter stays
    assert stores.erase(_source("mum"), "req-mum", IdentityPolicy()).outcome == "erased"
    assert _holders(stores, ADDRESS) == {"shop:contact:lin"}
    assert _suppressed(stores, "source#news:contact:x")
    assert not _suppressed(stores, ADDRESS)


def test_a_person_past_the_guardrail_with_a_family_member_on_her_address_is_named_otherwise(
    stores: Stores,
) -> None:
    # GIVEN Kim's 16 records on the family address past its guardrail (8 records: exact identity),
    # some with her phone, and her brother Jon's on it too (another first name)
    kim = [
        make_record(
            "crm",
            f"kim-{n}",
            email=FAMILY,
            phone="+14155550123" if n % 4 == 0 else None,
            day=n,
            traits={"first_name": "Kim"},
        )
        for n in range(16)
    ]
    jon = make_record("shop", "jon-1", email=FAMILY, day=13, traits={"first_name": "Jon"})
    for start in range(0, 16, 4):
        stores.ingest(kim[start : start + 4], IdentityPolicy())
    stores.ingest([jon], IdentityPolicy())
    customers = {p.customer_id: {i.key for i in p.identifiers} for p in stores.profiles.iter_profiles()}
    (jons,) = [c for c, keys in customers.items() if "source#shop:contact:jon-1" in keys]
    assert len(customers[jons]) == 2  # his record and the address: not one of Kim's customers
    assert len(customers) > 3
    # WHEN the address is named THEN nobody is erased: it is Kim's and Jon's
    assert stores.erase(Identifier.from_key(ADDRESS), "req-1", IdentityPolicy()).outcome == "ambiguous"
    assert _holders(stores, ADDRESS) == {*(r.key for r in kim), "shop:contact:jon-1"}
    # WHEN Kim is named by her phone THEN every customer of hers goes (her splinters), Jon stays
    report = stores.erase(Identifier.from_key("phone#+14155550123"), "req-2", IdentityPolicy())
    assert report.outcome == "erased"
    assert _holders(stores, ADDRESS) == {"shop:contact:jon-1"}
    assert not _suppressed(stores, ADDRESS)
    # AND then the address is Jon's alone: it erases him, and is suppressed
    assert stores.erase(Identifier.from_key(ADDRESS), "req-3", IdentityPolicy()).outcome == "erased"
    assert _holders(stores, ADDRESS) == set()
    assert _suppressed(stores, ADDRESS)


def test_the_address_names_her_when_its_owner_is_a_customer_split_off_from_her(stores: Stores) -> None:
    # GIVEN Kim's 8 records on her address (its guardrail: one customer, the address's owner), then
    # a 9th with her phone too: past the guardrail, a customer of its own holding more of hers
    kim = [make_record("crm", f"kim-{n}", email=FAMILY, day=n) for n in range(8)]
    kim.append(make_record("shop", "kim-8", email=FAMILY, phone="+14155550123", day=9))
    stores.ingest(kim[:4], IdentityPolicy())
    stores.ingest(kim[4:8], IdentityPolicy())
    stores.ingest(kim[8:], IdentityPolicy())
    assert len({p.customer_id for p in stores.profiles.iter_profiles()}) == 2
    # WHEN she is erased by her address THEN both go: the owner holds nothing the other does not
    report = stores.erase(Identifier.from_key(ADDRESS), "req-kim", IdentityPolicy())
    assert report.outcome == "erased"
    assert _holders(stores, ADDRESS) == set()
    assert _suppressed(stores, ADDRESS)
    assert _suppressed(stores, "phone#+14155550123")
    assert stores.ingest(kim, IdentityPolicy()).suppressed == len(kim)


def test_in_exact_mode_one_family_address_under_its_guardrail_is_one_customer_erased_whole(
    stores: Stores,
) -> None:
    # GIVEN the three on one address in exact identity: one customer (the documented limit)
    for name in PEOPLE:
        stores.ingest([_member(name)], IdentityPolicy())
    assert len({p.customer_id for p in stores.profiles.iter_profiles()}) == 1
    # WHEN the address is named THEN that customer is the only one holding it: erased
    assert stores.erase(Identifier.from_key(ADDRESS), "req-1", IdentityPolicy()).outcome == "erased"
    assert _holders(stores, ADDRESS) == set()


@pytest.mark.parametrize("store", ["memory", "sqlite"])
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    arrival=st.permutations(sorted(PEOPLE)),
    erased=st.permutations(sorted(PEOPLE)),
    by_address=st.booleans(),
)
def test_three_people_on_one_address_in_any_order(
    store: str, arrival: list[str], erased: list[str], by_address: bool
) -> None:
    """GIVEN three people on one address, arriving in any order WHEN they are erased one by one, each
    by her record id (or the last by the address), every record delivered again with a change after
    each erasure THEN the address names nobody while two of them hold it, each erasure takes exactly
    its person, the erased ones' records are dropped when they come again, the others' stored, and
    the address is suppressed only once nobody else holds it."""
    with STORES[store]() as stores:
        _probabilistic(stores, [_member(name) for name in arrival])
        left = set(PEOPLE)
        for n, name in enumerate(erased):
            if len(left) > 1:
                refused = stores.erase(Identifier.from_key(ADDRESS), f"req-a{n}", IdentityPolicy())
                assert refused.outcome == "ambiguous"
            last = len(left) == 1
            named = Identifier.from_key(ADDRESS) if last and by_address else _source(name)
            assert stores.erase(named, f"req-{n}", IdentityPolicy()).outcome == "erased"
            left.discard(name)
            assert _holders(stores, ADDRESS) == {_member(o).key for o in left}
            assert _suppressed(stores, ADDRESS) == (not left)
            again = [_member(other, day=n + 1) for other in arrival]
            check = SuppressionCheck(stores.suppression, SALT)
            result = ingest(again, stores.profiles, replace(ingest_settings(), suppression=check))
            assert result.suppressed == len(PEOPLE) - len(left)
            assert _holders(stores, ADDRESS) == {_member(o).key for o in left}


def test_the_export_of_the_address_held_by_one_person_with_a_namesake_record_is_hers() -> None:
    # GIVEN the daughter on the address and a nameless record on it (kept apart, nothing to tell
    # it from her): her split-off customer by the rule of core.scope_splinters
    with memory_stores() as stores:
        _probabilistic(stores, [_member("lin")])
        stores.ingest(
            [make_record("mail", "x", email=FAMILY)], IdentityPolicy(max_records_per_identifier={"email": 1})
        )
        assert len(_holders(stores, ADDRESS)) == 2
        # WHEN she asks by the address THEN she is found, with the nameless record
        export = _export(stores, Identifier.from_key(ADDRESS))
        assert getattr(export, "ambiguous", True) is False
        assert sorted(r.key for r in getattr(export, "sources", ())) == ["mail:contact:x", "shop:contact:lin"]


# --- the command line --------------------------------------------------------------------------------


def test_the_cli_refuses_the_family_address_and_erases_each_by_a_record_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROFILESYNC_AUDIT_SALT", SALT)
    # GIVEN the mother and the daughter on the family address in the store `profilesync sync` keeps
    path = store_path(tmp_path, TABLE)
    with open_stores(endpoint_url=None, table=TABLE, path=path) as opened:
        for record in (_member("mum"), _member("lin")):
            ingest([record], opened.profiles, ingest_settings())

    def privacy(*args: str) -> tuple[int, dict[str, Any]]:
        code = main(["privacy", *args, "--state-dir", str(tmp_path)])
        answer: dict[str, Any] = json.loads(capsys.readouterr().out)
        return code, answer

    # WHEN the address is named THEN nothing is exported or erased, and the answer says what to name
    for command in ("export", "erase"):
        code, answer = privacy(command, "--email", FAMILY)
        assert (code, answer["ok"], answer["outcome"]) == (1, False, "ambiguous")
        assert "more than one person" in answer["error"]
        assert "--source" in answer["error"]
        assert FAMILY not in json.dumps(answer)
    # WHEN the mother is named by her record's id THEN she alone is erased
    code, answer = privacy("erase", "--source", "crm:contact:mum")
    assert (code, answer["outcome"]) == (0, "erased")
    code, answer = privacy("unsuppress", "--source", "crm:contact:mum", "--requested-by", "dpo")
    assert (code, answer["lifted"]) == (0, 1)  # she signed up again: her record id is lifted
    with open_stores(endpoint_url=None, table=TABLE, path=path) as opened:
        left = {i.key for p in opened.profiles.iter_profiles() for i in p.identifiers}
    assert left == {ADDRESS, "source#shop:contact:lin"}
    # AND the address is the daughter's alone now: it exports and erases her
    code, answer = privacy("export", "--email", FAMILY)
    assert (code, [s["source_id"] for s in answer["sources"]]) == (0, ["lin"])
    code, answer = privacy("erase", "--email", FAMILY)
    assert (code, answer["outcome"], answer["suppressed"]) == (0, "erased", 2)
    # AND a record id that is not one gets a clear error, quoting nothing
    with pytest.raises(SystemExit, match="<tool>:<object type>:<id>"):
        main(["privacy", "erase", "--source", "lin", "--state-dir", str(tmp_path)])


def test_the_cli_erasure_plans_the_link_graph_around_her_with_the_configured_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a store resolved with ``identity: {mode: probabilistic}`` (the configuration document
    ``sync`` reads), the lodger standing between the namesake and Ann in a dense block WHEN
    ``profilesync privacy erase --source`` erases her THEN the namesake's pair with the fifth Ann
    waits for review (core.link_relink with the document's model), and none names the lodger."""
    from tests.integration.identity_attack_records import flat, resolve_lines
    from tests.integration.test_link_graph_interleaved import _namesake_and_nine_anns
    from tests.integration.test_link_graph_promises import PERSONAS as LINK_PERSONAS

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROFILESYNC_AUDIT_SALT", SALT)
    (tmp_path / "profilesync.yaml").write_text("identity:\n  mode: probabilistic\n", encoding="utf-8")
    born = {**LINK_PERSONAS["namesake"], "date_of_birth": "1977-04-09"}
    lines = [*_namesake_and_nine_anns(), flat("l", "1", **born, email="lodger@example.org")]
    path = store_path(tmp_path, TABLE)

    def pending() -> set[tuple[str, str]]:
        with open_stores(endpoint_url=None, table=TABLE, path=path) as opened:
            return {(item.a, item.b) for item in opened.profiles.pending_reviews()}

    with open_stores(endpoint_url=None, table=TABLE, path=path) as opened:
        resolve_lines(lines, opened.profiles, batch_size=500, settings=ingest_settings())
    assert ("a3:contact:1", "n:contact:1") not in pending()
    assert main(["privacy", "erase", "--source", "l:contact:1", "--state-dir", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out)["outcome"] == "erased"
    assert ("a3:contact:1", "n:contact:1") in pending()
    assert not [pair for pair in pending() if "l:contact:1" in pair]
