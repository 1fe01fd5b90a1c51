"""The Fellegi-Sunter model: m and u per comparison level, the prior, term frequencies, thresholds.

A pair's match weight is ``log2(prior odds) + sum over fields of log2(m / u)`` for the level the pair
is at (a missing field adds nothing). For the ``exact`` level of names, towns and streets, ``u`` is
replaced by how common the value is (term frequency), so two records agreeing on ``Smith`` count for
less than two agreeing on ``Wojciechowski``. The weight becomes a probability with
``2**w / (1 + 2**w)``; the thresholds say which probabilities link, go to review, or do not link.

The model is a JSON document (``format`` and ``version`` first) written by ``profilesync identity
train`` and loaded by the functions; ``default_model()`` is a sensible untrained start. Decisions
depend on the two records and the model only, so a new model version is a deliberate change, like
a new guardrail: re-score, and let splits and merges follow.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from core.errors import InputError
from core.linkage.comparisons import COMPARISONS, Comparison
from core.linkage.fields import LinkageRecord

__all__ = [
    "DEFAULT_VETOES",
    "MODEL_FORMAT",
    "MODEL_VERSION",
    "ComparisonParams",
    "LevelParams",
    "LinkageModel",
    "Thresholds",
    "TrainingSummary",
    "default_model",
    "load_model",
    "parse_model",
    "probability_from_weight",
]

MODEL_FORMAT: Final = "profilesync.linkage-model"
MODEL_VERSION: Final = 1

Probability = Annotated[float, Field(gt=0.0, lt=1.0)]

#: The fields whose conflict stops a fuzzy link unless a sample's own matches say the field is
#: unreliable (core.linkage.training drops such a veto). One person's tools agree on a birth date
#: and a first name up to the slips the comparisons forgive (a nickname, an initial, a typo, a day
#: apart); two records that clearly differ on one of them, however alike the rest, are a parent and
#: child of one name, or twins and siblings of one surname, birth date and address. No field the
#: records hold tells those apart from one person, so they are two people unless an identifier they
#: share says otherwise. A national id is issued to one person: two different ones (not a typo of
#: each other) are two people.
DEFAULT_VETOES: Final = ("date_of_birth", "first_name", "national_id")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LevelParams(_Frozen):
    """One comparison level: P(level | match) and P(level | non-match)."""

    label: str
    m: Probability
    u: Probability


class ComparisonParams(_Frozen):
    """The levels of one comparison, in the order the comparison returns them."""

    name: str
    levels: tuple[LevelParams, ...]


class Thresholds(_Frozen):
    """Match probabilities: at or above ``link`` joins, at or above ``review`` asks a person."""

    link: Probability = 0.99
    review: Probability = 0.80

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.review > self.link:
            raise ValueError(f"review threshold {self.review} is above the link threshold {self.link}")
        return self


class TrainingSummary(_Frozen):
    """Where the parameters came from, for the people reading the model file."""

    sample: str = ""
    records: int = 0
    u_pairs: int = 0
    em_pairs: dict[str, int] = Field(default_factory=dict)
    em_iterations: dict[str, int] = Field(default_factory=dict)
    converged: bool = True
    conflict_rates: dict[str, float] = Field(default_factory=dict)
    """Per veto field of the base, the share of the sample's matches that conflict on it (fitted m)."""
    veto_tolerance: float | None = None
    """The largest of those shares for which the veto was kept."""
    matches: float | None = None
    """How many of the sample's candidate pairs EM estimates to be matches."""


class LinkageModel(_Frozen):
    """A versioned, serialisable Fellegi-Sunter model (see the module docstring)."""

    format: Literal["profilesync.linkage-model"] = MODEL_FORMAT
    version: Literal[1] = MODEL_VERSION
    comparisons: tuple[ComparisonParams, ...]
    probability_two_random_records_match: Probability
    term_frequencies: dict[str, dict[str, Probability]] = Field(default_factory=dict)
    term_frequency_unseen: dict[str, Probability] = Field(default_factory=dict)
    """Per field, the frequency given to a value the sample did not hold twice (a rare name)."""
    tf_minimum: Probability = 1e-5
    """The smallest frequency any value is given, so that one rare name cannot outweigh everything."""
    thresholds: Thresholds = Field(default_factory=Thresholds)
    vetoes: tuple[str, ...] = DEFAULT_VETOES
    """Fields whose conflict (core.linkage.conflicts) stops a fuzzy link: the pair goes to review."""
    max_fuzzy_links_per_record: Annotated[int, Field(ge=1)] = 10
    max_block_size: Annotated[int, Field(ge=2)] = 100
    training: TrainingSummary = Field(default_factory=TrainingSummary)

    _table: _WeightTable | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _matches_code(self) -> Self:
        known = {c.name: c for c in COMPARISONS}
        for params in self.comparisons:
            comparison = known.get(params.name)
            if comparison is None:
                raise ValueError(f"unknown comparison {params.name!r}; known: {', '.join(known)}")
            labels = tuple(level.label for level in params.levels)
            if labels != comparison.levels:
                raise ValueError(
                    f"comparison {params.name!r} has levels {list(labels)}, this version expects "
                    f"{list(comparison.levels)}: retrain the model with `profilesync identity train`"
                )
        for field in self.vetoes:
            if field not in ("date_of_birth", "national_id", "first_name"):
                raise ValueError(
                    f"veto {field!r} is not a conflict field (date_of_birth, national_id, first_name)"
                )
        return self

    @property
    def prior_weight(self) -> float:
        """log2 of the prior odds that two records picked at random are one person."""
        p = self.probability_two_random_records_match
        return math.log2(p / (1.0 - p))

    def table(self) -> _WeightTable:
        """The weights in the form scoring reads (built once per model)."""
        # Read the private slot directly: pydantic's attribute hook costs more than a pair's scoring.
        private = self.__pydantic_private__
        table = private.get("_table") if private is not None else None
        if table is None:
            table = _WeightTable(self)
            self._table = table
        return table

    def to_json(self) -> str:
        """The model file's text: stable key order, readable."""
        return json.dumps(self.model_dump(mode="json"), indent=1, sort_keys=False) + "\n"


class _WeightTable:
    """Per comparison, the form scoring reads: the code's comparison, each level's weight and m,
    the term frequencies of the exact level and the frequency of a value they do not list."""

    __slots__ = ("entries", "fused", "level_weights", "prior_weight", "tf_minimum")

    def __init__(self, model: LinkageModel) -> None:
        known = {c.name: c for c in COMPARISONS}
        self.fused: Callable[[LinkageRecord, LinkageRecord], tuple[float, bool]] | None = None
        """core.linkage.fused's weigh for this model (set by the first pair scored), or the loop."""
        self.level_weights: tuple[tuple[Any, ...], ...] | None = None
        """Per comparison, the ``FieldWeight`` of each level (core.linkage.scoring, set by the first
        pair ``score_pair`` explains): the same for every pair at that level, so made once."""
        self.prior_weight = model.prior_weight
        self.tf_minimum = model.tf_minimum
        self.entries: tuple[_Entry, ...] = tuple(
            _entry(params, known[params.name], model) for params in model.comparisons
        )


def _entry(params: ComparisonParams, comparison: Comparison, model: LinkageModel) -> _Entry:
    tf_level = comparison.tf_level
    review_level = comparison.review_level
    return (
        comparison.compare,
        tuple(math.log2(level.m / level.u) for level in params.levels),
        _NO_LEVEL if tf_level is None or comparison.tf_value is None else tf_level,
        comparison.tf_value,
        tuple(level.m for level in params.levels),
        model.term_frequencies.get(params.name, {}),
        model.term_frequency_unseen.get(params.name),
        _NO_LEVEL if review_level is None else review_level,
        comparison,
    )


_NO_LEVEL: Final = -2  # never a level (NULL is -1): "this comparison has no such level"

#: compare, weight per level, the term-frequency level, its value reader, m per level, the term
#: frequencies, the unseen frequency, the review level, and the comparison itself.
_Entry = tuple[
    Callable[[LinkageRecord, LinkageRecord], int],
    tuple[float, ...],
    int,
    Callable[[LinkageRecord], str | None] | None,
    tuple[float, ...],
    Mapping[str, float],
    float | None,
    int,
    Comparison,
]


def probability_from_weight(weight: float) -> float:
    """The match probability of a match weight (log2 odds); safe for any float."""
    if weight >= 0:
        return 1.0 / (1.0 + math.pow(2.0, -weight))
    odds = math.pow(2.0, max(weight, -1000.0))
    return odds / (1.0 + odds)


# Untrained starting values, per level strongest first: m falls and u rises as agreement weakens.
# They follow the shapes Splink starts from; `profilesync identity train` replaces them with what a
# sample of the business's own records says.
_DEFAULT_M: Final[Mapping[int, tuple[float, ...]]] = {
    2: (0.95, 0.05),
    3: (0.85, 0.10, 0.05),
    4: (0.80, 0.10, 0.06, 0.04),
    5: (0.75, 0.10, 0.07, 0.05, 0.03),
    7: (0.73, 0.06, 0.10, 0.03, 0.03, 0.02, 0.03),
}
# People move: among one person's records in several tools, addresses differ far more often than
# names or birth dates do, so a different address is weak evidence against a match.
_DEFAULT_M_BY_FIELD: Final[Mapping[str, tuple[float, ...]]] = {
    "address": (0.65, 0.10, 0.10, 0.15),
    "postal_code": (0.70, 0.08, 0.07, 0.15),
    "city": (0.75, 0.10, 0.15),
    "region": (0.85, 0.15),
    # A person's tools often hold different addresses and numbers (a work and a private email):
    # only agreement is strong evidence.
    "email": (0.50, 0.02, 0.05, 0.03, 0.40),
    # A phone one digit off is a typo as often as a colleague's extension: weak evidence.
    "phone": (0.60, 0.01, 0.39),
}
_DEFAULT_U: Final[Mapping[str, tuple[float, ...]]] = {
    "first_name": (0.01, 0.002, 0.004, 0.0005, 0.002, 0.03, 0.9515),
    "last_name": (0.005, 0.003, 0.0005, 0.02, 0.9715),
    "date_of_birth": (0.0001, 0.0001, 0.001, 0.013, 0.9858),
    "address": (0.0002, 0.0002, 0.002, 0.9976),
    "address_line2": (0.002, 0.003, 0.995),
    "postal_code": (0.002, 0.02, 0.05, 0.928),
    "city": (0.005, 0.005, 0.99),
    "region": (0.2, 0.8),
    "email": (0.0001, 0.00001, 0.0005, 0.0002, 0.99939),
    "phone": (0.0001, 0.001, 0.9989),
    "national_id": (0.0001, 0.0005, 0.9994),
}


def default_model() -> LinkageModel:
    """An untrained model with the code's comparisons and literature-like m and u."""
    comparisons = tuple(
        ComparisonParams(
            name=c.name,
            levels=tuple(
                LevelParams(label=label, m=m, u=u)
                for label, m, u in zip(
                    c.levels,
                    _DEFAULT_M_BY_FIELD.get(c.name, _DEFAULT_M[len(c.levels)]),
                    _DEFAULT_U[c.name],
                    strict=True,
                )
            ),
        )
        for c in COMPARISONS
    )
    # Its m and u are not fitted to anyone's data, so it asks for more evidence than a trained
    # model: two people of one name born days apart in one town (a small population's look-alikes)
    # score 0.991 and go to review; one person seen in two tools scores 0.9999 and more.
    return LinkageModel(
        comparisons=comparisons,
        probability_two_random_records_match=1e-4,
        thresholds=Thresholds(link=0.999, review=0.80),
    )


def load_model(path: Path | str) -> LinkageModel:
    """Read and check a model file; ``InputError`` says what is wrong and how to get a good one."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"{file}: cannot read the linkage model ({error.strerror})") from error
    return parse_model(text, str(file))


def parse_model(text: str, origin: str = "model") -> LinkageModel:
    """Parse a model document (see ``load_model``)."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{origin}: not JSON ({error.msg}, line {error.lineno})") from error
    if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
        raise InputError(
            f'{origin}: not a profilesync linkage model (no "format": "{MODEL_FORMAT}"); '
            "write one with `profilesync identity train SAMPLE.jsonl --out model.json`"
        )
    if data.get("version") != MODEL_VERSION:
        raise InputError(
            f"{origin}: linkage model version {data.get('version')!r}, this profilesync reads version "
            f"{MODEL_VERSION}; retrain it with `profilesync identity train`"
        )
    try:
        return LinkageModel.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InputError(
            f"{origin}: invalid linkage model at {where or 'top level'}: {first['msg']}"
        ) from error
