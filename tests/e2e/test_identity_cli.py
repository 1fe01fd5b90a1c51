"""``profilesync identity train`` and ``identity link`` from the command line, on generated records."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from core.linkage import load_model
from profilesync.cli import main
from tests.hypothesis_profiles import examples

FIRST = ["ann", "bob", "cara", "dev", "eli", "fay", "gus", "hana", "ivan", "jo", "kim", "liam"]
LAST = ["lee", "smith", "okafor", "nakamura", "garcia", "brown", "patel", "muller", "rossi", "khan"]


def _sample(path: Path, people: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    lines = []
    for person in range(people):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        dob = f"{rng.randint(1950, 2000)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        street = f"{rng.randint(1, 99)} {rng.choice(['High St', 'Mill Lane', 'Park Road'])}"
        postcode = f"{rng.randint(1000, 9999)}"
        base = {
            "first_name": first,
            "last_name": last,
            "date_of_birth": dob,
            "address": street,
            "postcode": postcode,
        }
        lines.append({"source": "crm", "id": f"c{person}", "updated_at": "2026-01-01T00:00:00Z", **base})
        if person % 2 == 0:  # half of them are also in the shop, typed a little differently
            shop = {**base, "first_name": first.upper(), "address": street.replace("St", "Street")}
            lines.append({"source": "shop", "id": f"s{person}", "updated_at": "2026-01-02T00:00:00Z", **shop})
    lines.append({"source": "crm", "id": "broken", "updated_at": "2026-01-01T00:00:00Z", "first_name": None})
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\nnot json\n", encoding="utf-8")


def test_train_writes_a_model_the_functions_can_load_and_link_uses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a sample of records (one line not JSON) WHEN trained and linked from the CLI THEN a valid
    model file is written, the summary counts what was skipped, and CRM and shop records of one person
    end as one customer with the reason of their edge."""
    sample, model_path, links = tmp_path / "sample.jsonl", tmp_path / "model.json", tmp_path / "links.jsonl"
    _sample(sample, 400)

    assert main(["identity", "train", str(sample), "--out", str(model_path), "--population", "5000"]) == 0
    out = capsys.readouterr().out
    assert "skipped" in out
    assert "wrote the model" in out
    model = load_model(model_path)
    assert model.training.records == 601  # 400 + 200 shop copies + the record with no fields

    assert main(["identity", "link", str(sample), "--model", str(model_path), "--out", str(links)]) == 0
    customers = [json.loads(line) for line in links.read_text(encoding="utf-8").splitlines()]
    joined = {tuple(c["records"]) for c in customers if len(c["records"]) == 2}
    assert ("crm:contact:c0", "shop:contact:s0") in joined
    pair = next(c for c in customers if c["records"] == ["crm:contact:c0", "shop:contact:s0"])
    assert pair["edges"][0]["kind"] == "fuzzy"
    assert {f["field"] for f in pair["edges"][0]["score"]["fields"]} >= {"first_name", "date_of_birth"}


def test_train_keeps_the_birth_date_veto_only_when_the_sample_supports_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a sample whose shop copies carry a wholly different birth date one time in eight WHEN
    trained THEN the summary says the birth-date veto is weighed instead and the model keeps only the
    first-name and national-id vetoes the sample supports; with a looser
    --veto-tolerance the veto stays; a tolerance that is not a share is refused with exit 2."""
    sample, noisy = tmp_path / "sample.jsonl", tmp_path / "noisy.jsonl"
    # 450 people in make test (600 deep): their 225 shop copies are past the 200 matches a sample needs
    # before it may drop a veto (core.linkage.training.MIN_MATCHES_TO_DROP_A_VETO; at 300 it may not)
    _sample(sample, examples(ci=450, deep=600), seed=3)
    rng = random.Random(4)
    lines = []
    for text in sample.read_text(encoding="utf-8").splitlines():
        line = json.loads(text) if text.startswith("{") else None
        if line is not None and line["source"] == "shop" and rng.random() < 0.125:
            line["date_of_birth"] = f"{rng.randint(1950, 2000)}-0{rng.randint(1, 9)}-1{rng.randint(1, 9)}"
        lines.append(json.dumps(line) if line is not None else text)
    noisy.write_text("\n".join(lines) + "\n", encoding="utf-8")

    assert main(["identity", "train", str(noisy), "--out", str(tmp_path / "m.json")]) == 0
    assert "weighed by the score instead" in capsys.readouterr().out
    model = load_model(tmp_path / "m.json")
    assert "date_of_birth" not in model.vetoes
    assert {"first_name", "national_id"} <= set(model.vetoes)  # the sample supports these two
    assert model.training.conflict_rates["date_of_birth"] > 0.02

    args = ["identity", "train", str(noisy), "--out", str(tmp_path / "loose.json"), "--veto-tolerance", "0.5"]
    assert main(args) == 0
    assert ": kept" in capsys.readouterr().out
    assert "date_of_birth" in load_model(tmp_path / "loose.json").vetoes

    args = ["identity", "train", str(noisy), "--out", str(tmp_path / "x.json"), "--veto-tolerance", "2"]
    assert main(args) == 2
    assert "--veto-tolerance 2.0 is not a share" in capsys.readouterr().err


def test_train_refuses_a_sample_it_cannot_learn_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a file with one record, and a missing file WHEN trained THEN exit 2 with a readable reason."""
    one = tmp_path / "one.jsonl"
    one.write_text(json.dumps({"source": "crm", "id": "1", "first_name": "Ann"}) + "\n", encoding="utf-8")
    assert main(["identity", "train", str(one), "--out", str(tmp_path / "m.json")]) == 2
    assert "training needs at least two" in capsys.readouterr().err
    assert (
        main(["identity", "train", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "m.json")]) == 2
    )
    assert "no such file" in capsys.readouterr().err


def test_resolve_with_probabilistic_identity_joins_what_exact_identifiers_cannot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN CRM and shop records of the same people with no email or phone (names, birth dates,
    addresses typed differently) WHEN resolved exactly, then with ``--identity probabilistic`` and a
    trained model, then with the configuration document's ``identity`` section THEN exact mode keeps
    every record apart, and the link graph joins each person's two records (one profile each)."""
    monkeypatch.chdir(tmp_path)
    sample = tmp_path / "sample.jsonl"
    _sample(sample, 60)

    def profiles(*extra: str) -> list[list[str]]:
        out = tmp_path / "profiles.jsonl"
        assert main(["resolve", str(sample), "--out", str(out), "-q", *extra]) == 0
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        return sorted(sorted(f"{s['source']}:{s['id']}" for s in row["sources"]) for row in rows)

    exact = profiles()
    assert len(exact) == 90  # 60 CRM records and 30 shop records, one profile each
    linked = profiles("--identity", "probabilistic")
    assert len(linked) == 60
    assert all(len(p) == 2 for p in linked if any(k.startswith("shop:") for k in p))

    document = "version: 1\nidentity:\n  mode: probabilistic\n"
    (tmp_path / "profilesync.yaml").write_text(document, encoding="utf-8")
    assert profiles() == linked
