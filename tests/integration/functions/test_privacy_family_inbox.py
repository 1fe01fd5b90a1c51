"""functions.privacy, attacked: a family inbox (a mother and her daughter, kept apart by probabilistic
identity, both on one address) names nobody to export or erase through the real handlers against
moto; each is erased by the id of one of her records (``"source"``), and the address then by the
one person left holding it (privacy4)."""

from __future__ import annotations

from typing import Any

import pytest

from functions import merge, privacy, pull
from tests.integration.functions.conftest import Env, FakeContext
from tests.integration.functions.test_identity_review import _probabilistic_env

FAMILY = "family@example.com"
ROWS = [
    {"id": 1, "email": FAMILY, "first_name": "Mei", "last_name": "Tan", "date_of_birth": "1965-03-02"},
    {"id": 2, "email": FAMILY, "first_name": "Lin", "last_name": "Tan", "date_of_birth": "1995-07-19"},
]


@pytest.fixture
def family(aws: None, monkeypatch: pytest.MonkeyPatch) -> Env:
    env = _probabilistic_env(monkeypatch, ROWS, page_size=1)
    pull.handler({"connector": "fake"}, FakeContext())
    for message in env.receive():
        assert merge.handler(env.sqs_event([message]), FakeContext()) == {"batchItemFailures": []}
    return env


def _holders(env: Env) -> set[str]:
    return {i["SK"]["S"] for i in env.items() if i["PK"]["S"] == f"IDENT#email#{FAMILY}"}


def _ask(**event: Any) -> dict[str, Any]:
    answer: dict[str, Any] = privacy.handler({"requested_by": "dpo", **event}, FakeContext())
    return answer


def test_a_family_inbox_names_nobody_and_each_is_erased_by_a_record_id(family: Env) -> None:
    env = family
    customers = {i["PK"]["S"] for i in env.items() if i["SK"]["S"] == "PROFILE"}
    assert len(customers) == 2
    before = [i for i in env.items() if not i["PK"]["S"].startswith("AUDIT#")]
    # WHEN someone asks for "the person with family@example.com"'s data, then to erase them
    export, erase = _ask(action="export", email=FAMILY), _ask(action="erase", email=FAMILY)
    # THEN nothing is handed over or erased, and the answer says how to name the person instead
    for answer in (export, erase):
        assert (answer["ok"], answer["outcome"]) == (False, "ambiguous"), answer
        assert "more than one person" in answer["error"]
        assert '"source"' in answer["error"]
        assert FAMILY not in str(answer)
    assert [i for i in env.items() if not i["PK"]["S"].startswith(("AUDIT#", "SUPPRESS"))] == before
    assert env.tool.erased == []
    audits = [i for i in env.items() if i["PK"]["S"] in ("AUDIT#erase", "AUDIT#export")]
    assert sorted(a["outcome"]["S"] for a in audits) == ["ambiguous", "ambiguous"]
    # WHEN the mother is erased by the id of her record
    answer = _ask(action="erase", source="fake:contact:1")
    # THEN she is erased, in the tool by that id; the daughter and her address stay, unsuppressed
    assert (answer["ok"], answer["outcome"], answer["suppressed"]) == (True, "erased", 1)
    assert [[i.key for i in batch] for batch in env.tool.erased] == [["source#fake:contact:1"]]
    assert [r["id"] for r in env.tool.rows] == [2]
    assert len({i["PK"]["S"] for i in env.items() if i["SK"]["S"] == "PROFILE"}) == 1
    # AND the address names the daughter alone now: exported, then erased and suppressed
    answer = _ask(action="export", email=FAMILY)
    assert [s["source_id"] for s in answer["sources"]] == ["2"]
    answer = _ask(action="erase", email=FAMILY)
    assert (answer["ok"], answer["outcome"], answer["suppressed"]) == (True, "erased", 2)
    assert not [i for i in env.items() if i["SK"]["S"] == "PROFILE"]
    assert _holders(env) == set()


@pytest.mark.parametrize(
    "event",
    [
        {"action": "erase", "source": "fake:1"},
        {"action": "erase", "source": "fake:contact:1", "email": FAMILY},
        {"action": "erase-retry", "source": "fake:contact:1"},
    ],
)
def test_a_record_id_that_cannot_name_a_person_is_refused(family: Env, event: dict[str, Any]) -> None:
    before = family.items()
    answer = _ask(**event)
    assert answer["ok"] is False
    assert "fake:" not in answer["error"]
    assert sorted(map(str, family.items())) == sorted(map(str, before))


# --- the link graph around an erased person, planned again (probabilistic identity) -------------------

LEE = {"last_name": "Lee", "address": "12 High Street", "postal_code": "LS1 4AP", "city": "Leeds"}
#: The namesake (0), nine records of Ann (1-9) and a lodger (10): another Ann Lee, born between them,
#: who stands between the namesake and Ann in the dense block of 12 High Street.
BLOCK = [
    {"id": 0, "email": "namesake@example.org", "first_name": "Ann", "date_of_birth": "1975-06-15", **LEE},
    *(
        {"id": n, "email": f"a{n}@example.org", "first_name": "Ann", "date_of_birth": "1980-01-01", **LEE}
        for n in range(1, 10)
    ),
    {"id": 10, "email": "lodger@example.org", "first_name": "Ann", "date_of_birth": "1977-04-09", **LEE},
]


def _pending(env: Env) -> set[tuple[str, str]]:
    return {(item.a, item.b) for item in env.wiring.profiles.pending_reviews()}


def test_erasing_the_lodger_pairs_her_neighbours_in_the_dense_block_within_the_role(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.integration.functions.test_identity_review import _allowed, _recording

    env = _probabilistic_env(monkeypatch, BLOCK, page_size=20)
    pull.handler({"connector": "fake"}, FakeContext())
    for message in env.receive():
        assert merge.handler(env.sqs_event([message]), FakeContext()) == {"batchItemFailures": []}
    namesake, lodger, fifth = "fake:contact:0", "fake:contact:10", "fake:contact:4"
    assert (namesake, lodger) in _pending(env)
    assert (namesake, fifth) not in _pending(env)  # the lodger stands between them
    # WHEN the lodger is erased by the id of her record, through the privacy function
    calls: list[tuple[str, str]] = []
    answer = _recording(env, calls, lambda: _ask(action="erase", source=lodger))
    assert (answer["ok"], answer["outcome"]) == (True, "erased")
    # THEN the namesake meets the fifth Ann now: their pair waits for review, as one batch of the
    # records left would have it, and nothing stored names the lodger or holds her values
    assert (namesake, fifth) in _pending(env)
    assert not [pair for pair in _pending(env) if lodger in pair]
    kept = [i for i in env.items() if not i["PK"]["S"].startswith(("AUDIT#", "SUPPRESS"))]
    assert not [i for i in kept if any(v in str(i) for v in ("lodger@", "1977-04-09", "contact:10"))]
    # AND every call the function made is one its role allows on that key
    assert sorted({(a, k.split("#")[0]) for a, k in calls if not _allowed(a, k, "PrivacyRole")}) == []
