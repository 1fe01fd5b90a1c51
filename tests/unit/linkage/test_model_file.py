"""The model file: versioned JSON that round-trips, and clear errors for anything else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import InputError
from core.linkage import (
    MODEL_FORMAT,
    LinkageModel,
    default_model,
    load_model,
    parse_model,
    probability_from_weight,
)


def test_a_model_round_trips_through_its_file(tmp_path: Path) -> None:
    """GIVEN a model WHEN written and loaded THEN it is equal, format and version first."""
    model = default_model()
    path = tmp_path / "model.json"
    path.write_text(model.to_json(), encoding="utf-8")
    loaded = load_model(path)
    assert loaded == model
    assert list(json.loads(path.read_text()))[:2] == ["format", "version"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not JSON"),
        ('{"format": "something-else"}', "not a profilesync linkage model"),
        (json.dumps({"format": MODEL_FORMAT, "version": 99}), "version 99"),
    ],
)
def test_unreadable_models_say_what_to_do(text: str, message: str) -> None:
    """GIVEN a broken model document WHEN parsed THEN InputError names the problem."""
    with pytest.raises(InputError, match=message):
        parse_model(text, "m.json")


def test_a_model_whose_levels_do_not_match_the_code_must_be_retrained() -> None:
    """GIVEN a model with a level list this version does not know WHEN parsed THEN it says retrain."""
    data = json.loads(default_model().to_json())
    data["comparisons"][0]["levels"].pop()
    with pytest.raises(InputError, match="retrain"):
        parse_model(json.dumps(data))


def test_thresholds_must_be_ordered_and_probabilities() -> None:
    """GIVEN review above link, or a probability of 1 WHEN validated THEN refused."""
    data = default_model().model_dump()
    with pytest.raises(ValueError, match="above the link threshold"):
        LinkageModel.model_validate({**data, "thresholds": {"link": 0.9, "review": 0.95}})
    with pytest.raises(ValueError, match="less than 1"):
        LinkageModel.model_validate({**data, "probability_two_random_records_match": 1.0})


def test_probability_from_weight_is_safe_at_the_extremes() -> None:
    """GIVEN huge, tiny and zero weights WHEN converted THEN 1, about 0 and one half, no overflow."""
    assert probability_from_weight(10_000.0) == 1.0
    assert 0.0 <= probability_from_weight(-10_000.0) < 1e-300
    assert probability_from_weight(0.0) == 0.5
    assert abs(probability_from_weight(3.0) - 8 / 9) < 1e-12
