"""attack20: the model ``profilesync identity train`` writes, and the person it was trained on.

The model file is deployed with the functions (``identity.model``) and kept as long as the
deployment: nothing an erasure does reaches it. Whatever it holds of one person outlives her
erasure, so it must hold nothing that names one person.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from profilesync.cli import main

FIRST = ["ann", "bob", "cara", "dev", "eli", "fay", "gus", "hana", "ivan", "jo", "kim", "liam"]
LAST = ["lee", "smith", "okafor", "nakamura", "garcia", "brown", "patel", "muller", "rossi", "khan"]
CITY = ["leeds", "york", "bath", "hull"]


def _line(source: str, rid: str, **fields: str) -> str:
    return json.dumps({"source": source, "id": rid, "updated_at": "2026-01-01T00:00:00Z", **fields})


def _sample(path: Path, people: int) -> None:
    """``people`` common names in four cities, half of them in the shop too; and one person, Zofia
    Wojciechowska of Szczebrzeszyn, in the CRM and the shop (two records, as most customers have)."""
    rng = random.Random(7)
    lines = []
    for person in range(people):
        base = {
            "first_name": rng.choice(FIRST),
            "last_name": rng.choice(LAST),
            "date_of_birth": f"{rng.randint(1950, 2000)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "address": f"{rng.randint(1, 99)} {rng.choice(['High St', 'Mill Lane', 'Park Road'])}",
            "postcode": f"{rng.randint(1000, 9999)}",
            "city": rng.choice(CITY),
        }
        lines.append(_line("crm", f"c{person}", **base))
        if person % 2 == 0:
            lines.append(_line("shop", f"s{person}", **base))
    her = {
        "first_name": "Zofia",
        "last_name": "Wojciechowska",
        "date_of_birth": "1984-03-09",
        "address": "12 Zamojska",
        "postcode": "22460",
        "city": "Szczebrzeszyn",
    }
    lines.append(_line("crm", "zofia", **her))
    lines.append(_line("shop", "zofia", **her))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_trained_model_holds_no_value_of_one_person(tmp_path: Path) -> None:
    """GIVEN a sample of 300 people with common names and one person whose surname and city nobody
    else has, in two tools WHEN ``identity train`` writes the model THEN the file holds none of her
    values (it does hold the common ones: the term frequencies are there to be found)."""
    sample, model_path = tmp_path / "sample.jsonl", tmp_path / "model.json"
    _sample(sample, 300)

    assert main(["identity", "train", str(sample), "--out", str(model_path), "--population", "5000"]) == 0

    text = model_path.read_text(encoding="utf-8").casefold()
    tables = json.loads(model_path.read_text(encoding="utf-8"))["term_frequencies"]
    assert "smith" in tables["last_name"]  # the tables are written, with common values in them
    assert "leeds" in tables["city"]
    assert "wojciechowska" not in text
    assert "szczebrzeszyn" not in text
    assert "zofia" not in text
