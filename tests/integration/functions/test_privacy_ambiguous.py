"""functions.privacy, attacked: a request naming a household phone (two customers hold it) exports
and erases nobody, through the real handlers against moto."""

from __future__ import annotations

import pytest

from core.storage.ident_keys import ident_of
from functions import merge, privacy, pull
from tests.integration.functions.conftest import Env, FakeContext, make_env

PHONE = "+44 20 7946 0000"
#: Six people behind one phone, merged one at a time: the first five are joined by it (the guardrail
#: lets five records share a phone), the sixth is not: two customers hold the phone.
ROWS = [{"id": n, "email": f"member{n}@household.example", "phone": PHONE} for n in range(1, 7)]


@pytest.fixture
def household(aws: None, monkeypatch: pytest.MonkeyPatch) -> Env:
    env = make_env(monkeypatch, [dict(r) for r in ROWS], page_size=1)
    pull.handler({"connector": "fake"}, FakeContext())
    for message in env.receive():
        assert merge.handler(env.sqs_event([message]), FakeContext()) == {"batchItemFailures": []}
    return env


def test_a_household_phone_names_nobody_to_export_or_erase(household: Env) -> None:
    env = household
    customers = {
        i["customer_id"]["S"]
        for i in env.items()
        if i["PK"]["S"].startswith("IDENT#") and ident_of(i).startswith("email#")
    }
    assert len(customers) == 2
    before = [i for i in env.items() if not i["PK"]["S"].startswith("AUDIT#")]
    # WHEN someone asks for "the person with phone +44 20 7946 0000"'s data, and then to erase them
    export = privacy.handler({"action": "export", "phone": PHONE, "requested_by": "dpo"}, FakeContext())
    erase = privacy.handler({"action": "erase", "phone": PHONE, "requested_by": "dpo"}, FakeContext())
    # THEN neither hands over or erases anyone's data: the phone is more than one customer's
    for answer in (export, erase):
        assert (answer["ok"], answer["outcome"]) == (False, "ambiguous"), answer
        assert "more than one person" in answer["error"]
        assert "member" not in str(answer)
    assert [i for i in env.items() if not i["PK"]["S"].startswith(("AUDIT#", "SUPPRESS"))] == before
    assert env.tool.erased == []
    # AND a request naming one member's own address is served
    answer = privacy.handler({"action": "export", "email": "member6@household.example"}, FakeContext())
    assert (answer["ok"], answer["found"]) == (True, True)
