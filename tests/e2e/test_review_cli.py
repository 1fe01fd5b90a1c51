"""``profilesync identity review`` and ``profilesync explain`` end to end on the embedded store: a pair
in review is listed, accepted (the customers join at once, the histories and the audit say who and
why), explained, rejected (split again), and the decision holds when the records arrive again in
another order and batch size."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from core.link_index import review_pair_id
from core.link_scope import LinkageSettings
from core.pipeline import IngestSettings, ingest
from core.testing.records import make_record
from profilesync.cli import main
from profilesync.stores import open_stores, store_path
from tests.e2e.test_endpoint_url import endpoint  # noqa: F401 (a moto server standing in for DynamoDB)

TABLE = "profilesync-dev-profiles"
HANA = {
    "first_name": "Hana",
    "last_name": "Sato",
    "date_of_birth": "1992-11-30",
    "address": "8 Mill Lane",
    "postal_code": "M4 5JD",
}
CRM = make_record("crm", "1001", email="hana.sato@corp.jp", traits=HANA)
SHOP = make_record(
    "shop",
    "2002",
    email="hanasato92@icloud.com",
    traits={**HANA, "address": "40 Bridge St", "postal_code": "BS8 1TH"},
)
MAIL = make_record("mail", "3003", email="hana.sato@corp.jp", traits={"first_name": "Hana"}, day=1)
OTHER = make_record(
    "crm", "1002", email="d.okafor@mail.com", traits={"first_name": "David", "last_name": "Okafor"}
)
RECORDS = [CRM, SHOP, MAIL, OTHER]
PAIR = review_pair_id(CRM.key, SHOP.key)


def _linked() -> IngestSettings:
    return IngestSettings(sleep=lambda _: None, linkage=LinkageSettings())


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Hana's CRM and newsletter records joined by email, her shop record in review with the CRM's."""
    monkeypatch.chdir(tmp_path)  # no configuration document: the default model, as ingest used
    with open_stores(endpoint_url=None, table=TABLE, path=store_path(tmp_path, TABLE)) as stores:
        ingest(RECORDS, stores.profiles, _linked())
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _owners(state_dir: Path) -> dict[str, str]:
    with open_stores(endpoint_url=None, table=TABLE, path=store_path(state_dir, TABLE)) as stores:
        owners = stores.profiles.get_owners([f"source#{r.key}" for r in RECORDS])
        live: dict[str, str] = {}
        for key, owner in owners.items():
            cid = owner.customer_id
            state = stores.profiles.get_customers([cid])[cid]
            while state.merged_into:
                cid = state.merged_into
                state = stores.profiles.get_customers([cid])[cid]
            live[key.removeprefix("source#")] = cid
        return live


def test_list_accept_explain_reject_on_the_embedded_store(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = ["--state-dir", str(state_dir)]
    # GIVEN the pair waiting WHEN the queue is listed (text and JSON)
    code, text, _ = _run(capsys, "identity", "review", "list", *where)
    assert code == 0
    assert PAIR in text
    assert CRM.key in text
    assert SHOP.key in text
    code, out, _ = _run(capsys, "identity", "review", "list", "--json", *where)
    listed = json.loads(out)["pending"]
    assert PAIR in [p["pair"] for p in listed]
    assert all(p["fields"] for p in listed)
    assert _owners(state_dir)[CRM.key] != _owners(state_dir)[SHOP.key]

    # WHEN it is accepted
    code, out, _ = _run(
        capsys,
        "identity",
        "review",
        "accept",
        PAIR,
        "--by",
        "ana",
        "--reason",
        "same person, she moved",
        *where,
    )
    answer = json.loads(out)
    # THEN the three records of Hana are one customer at once, and the pair waits no more
    assert code == 0
    assert answer["together"] is True
    owners = _owners(state_dir)
    assert owners[CRM.key] == owners[SHOP.key] == owners[MAIL.key] != owners[OTHER.key]
    still = json.loads(_run(capsys, "identity", "review", "list", "--json", *where)[1])["pending"]
    assert PAIR not in [p["pair"] for p in still]
    # AND the history says who accepted and why, and the audit holds the request
    code, out, _ = _run(capsys, "profile", "show", "--source", SHOP.key, "--history", "--json", *where)
    events = json.loads(out)["history"]["events"]
    accepted = [e for e in events if e["kind"] == "review_accepted"]
    assert accepted
    assert accepted[0]["actor"] == "review:ana"
    assert accepted[0]["reason"] == "same person, she moved"
    with open_stores(endpoint_url=None, table=TABLE, path=store_path(state_dir, TABLE)) as stores:
        audits = stores.erasure.audit_records("review")  # type: ignore[attr-defined]
    assert [a["requested_by"] for a in audits] == ["ana"]

    # WHEN explained (probabilistic), by the email, the source and the customer id
    code, out, _ = _run(
        capsys, "explain", "--email", "HANA.SATO@corp.jp", "--identity", "probabilistic", "--json", *where
    )
    explained = json.loads(out)
    # THEN every edge has its reason: the shared email, and the accepted review
    assert code == 0
    assert explained["mode"] == "probabilistic"
    assert sorted(explained["records"]) == sorted([CRM.key, SHOP.key, MAIL.key])
    kinds = {e["kind"] for e in explained["edges"]}
    assert {"identifier", "review"} <= kinds
    review_edge = next(e for e in explained["edges"] if e["kind"] == "review")
    assert "accepted by ana" in review_edge["reason"]
    code, text, _ = _run(capsys, "explain", "--source", SHOP.key, "--identity", "probabilistic", *where)
    assert code == 0
    assert "[review] accepted by ana" in text
    assert "[identifier] shared email" in text
    code, out, _ = _run(capsys, "explain", "--customer", owners[CRM.key], "--json", *where)
    exact = json.loads(out)
    assert exact["mode"] == "exact"  # no configuration document: exact identity
    assert len(exact["groups"]) == 2  # exact identifiers alone do not join the shop record

    # WHEN the pair is rejected after all
    code, out, _ = _run(
        capsys, "identity", "review", "reject", PAIR, "--by", "lead", "--reason", "twins", *where
    )
    # THEN the shop record is split off again; the CRM and newsletter stay joined by their email
    assert code == 0
    assert json.loads(out)["split_off"]
    owners = _owners(state_dir)
    assert owners[CRM.key] == owners[MAIL.key] != owners[SHOP.key]
    code, out, _ = _run(
        capsys, "explain", "--source", CRM.key, "--identity", "probabilistic", "--json", *where
    )
    refused = json.loads(out)["refused"]
    assert any(r["kind"] == "rejected" and SHOP.key in r["records"] for r in refused)


def test_an_accepted_pair_holds_when_the_records_arrive_again_in_another_order(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = ["--state-dir", str(state_dir)]
    assert _run(capsys, "identity", "review", "accept", PAIR, "--by", "ana", *where)[0] == 0
    joined = _owners(state_dir)
    # WHEN every record arrives again, changed (a field the matcher does not compare), shuffled, one
    # at a time and then three at a time
    for year, seed, batch in ((2027, 1, 1), (2028, 2, 3)):
        later = [
            r.model_copy(
                update={
                    "traits": {**r.traits, "lifecycle_stage": f"customer since {year}"},
                    "updated_at": r.updated_at.replace(year=year),
                }
            )
            for r in RECORDS
        ]
        random.Random(seed).shuffle(later)
        with open_stores(endpoint_url=None, table=TABLE, path=store_path(state_dir, TABLE)) as stores:
            for start in range(0, len(later), batch):
                result = ingest(later[start : start + batch], stores.profiles, _linked())
                assert result.written == len(later[start : start + batch])  # each is a new version
        # THEN the decision holds: Hana's records stay one customer, David stays apart
        owners = _owners(state_dir)
        assert owners[CRM.key] == owners[SHOP.key] == owners[MAIL.key] != owners[OTHER.key]
        assert owners[CRM.key] == joined[CRM.key]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["identity", "review", "accept", "not-a-pair"], "not a review pair id"),
        (["identity", "review", "accept", "0" * 32], "no review pair"),
        (["identity", "review", "reject", PAIR, "--reason", "she is hana.sato@corp.jp"], "quotes"),
        (["identity", "review", "list", "--limit", "0"], "--limit must be at least 1"),
        (["explain", "--source", "crm"], "CONNECTOR:TYPE:ID"),
        (["explain", "--email", "not an email"], "--email"),
    ],
)
def test_bad_requests_are_usage_errors_that_change_nothing(
    state_dir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    before = _owners(state_dir)
    code, _, err = _run(capsys, *argv, "--state-dir", str(state_dir))
    assert code == 2
    assert message in err
    assert _owners(state_dir) == before


def test_nobody_found_and_no_store_are_said_plainly(
    state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "explain", "--email", "nobody@example.com", "--state-dir", str(state_dir))
    assert code == 1
    assert "no customer holds that" in err
    code, _, err = _run(capsys, "identity", "review", "list", "--state-dir", str(tmp_path / "none"))
    assert code == 2
    assert "no embedded store" in err


def test_review_and_explain_on_a_dynamodb_endpoint(
    endpoint: str,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    url = endpoint
    # GIVEN Hana's records resolved probabilistically into a DynamoDB table
    lines = [
        {
            "source": "crm",
            "id": "1001",
            "updated_at": "2026-01-01T00:00:00Z",
            "email": "hana.sato@corp.jp",
            **HANA,
        },
        {
            "source": "shop",
            "id": "2002",
            "updated_at": "2026-01-02T00:00:00Z",
            "email": "hanasato92@icloud.com",
            **HANA,
            "address": "40 Bridge St",
            "postal_code": "BS8 1TH",
        },
    ]
    source = tmp_path / "hana.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    where = ["--endpoint-url", url, "--table", "reviews"]
    argv = ["resolve", str(source), "--out", str(tmp_path / "p.jsonl"), "--identity", "probabilistic"]
    assert main([*argv, "--quiet", *where]) == 0
    capsys.readouterr()
    # WHEN the queue is listed and the pair accepted there
    listed = json.loads(_run(capsys, "identity", "review", "list", "--json", *where)[1])["pending"]
    assert len(listed) == 1
    code, out, _ = _run(capsys, "identity", "review", "accept", listed[0]["pair"], "--by", "ana", *where)
    # THEN the two records are one customer, and explain says it is by the accepted review
    assert code == 0
    assert json.loads(out)["together"] is True
    code, out, _ = _run(
        capsys,
        "explain",
        "--email",
        "hanasato92@icloud.com",
        "--identity",
        "probabilistic",
        "--json",
        *where,
    )
    explained = json.loads(out)
    assert len(explained["records"]) == 2
    assert [e["kind"] for e in explained["edges"]] == ["review"]


def test_profile_show_explain_shows_the_accepted_review_under_probabilistic_identity(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a configuration document asking for probabilistic identity, and the pair accepted
    (state_dir / "profilesync.yaml").write_text(
        "version: 1\nconnectors: {}\nidentity: {mode: probabilistic}\n", encoding="utf-8"
    )
    where = ["--state-dir", str(state_dir)]
    assert _run(capsys, "identity", "review", "accept", PAIR, "--by", "ana", *where)[0] == 0
    # WHEN the profile's explain is read (the profile API's answer)
    code, out, _ = _run(capsys, "profile", "show", "--source", SHOP.key, "--explain", "--json", *where)
    explained = json.loads(out)["explain"]
    # THEN the records join up through the reviewer's decision, which no shared email explains
    assert code == 0
    assert explained["connected"] is True
    assert [link["kind"] for link in explained["links"]] == ["review"]  # records named by ref
    assert "accepted by ana" in explained["links"][0]["reason"]
    # AND without the document (exact identity) the same records are two groups waiting to be split
    (state_dir / "profilesync.yaml").unlink()
    code, out, _ = _run(capsys, "profile", "show", "--source", SHOP.key, "--explain", "--json", *where)
    assert json.loads(out)["explain"]["connected"] is False


def test_an_accept_that_lost_to_a_new_version_is_reported_and_the_pair_waits_again(
    state_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.integration.test_race8_decide_interleavings import another_version_before_the_write

    where = ["--state-dir", str(state_dir)]
    # GIVEN the shop record at another address, stored as the decision is taken (still in doubt)
    another_version_before_the_write(monkeypatch, {"address": "12 Canal Walk"})
    # WHEN the pair is accepted
    code, out, err = _run(capsys, "identity", "review", "accept", PAIR, "--by", "ana", *where)
    # THEN the command fails saying the decision was not applied, and why; the records stay apart
    answer = json.loads(out)
    assert code == 1
    assert (answer["ok"], answer["outdated"], answer["pending_again"]) == (False, True, True)
    assert "was not applied" in err
    assert _owners(state_dir)[CRM.key] != _owners(state_dir)[SHOP.key]
    # AND the pair waits for review again, and accepting it now joins them
    listed = json.loads(_run(capsys, "identity", "review", "list", "--json", *where)[1])["pending"]
    assert PAIR in [p["pair"] for p in listed]
    assert _run(capsys, "identity", "review", "accept", PAIR, "--by", "ana", *where)[0] == 0
    assert _owners(state_dir)[CRM.key] == _owners(state_dir)[SHOP.key]
