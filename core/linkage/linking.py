"""Decisions on pairs, and the edges and refusals the link graph is made of.

``decide(a, b, model)`` turns one pair into ``link``, ``review`` or ``no_link`` with its reason, from
the two records and the model only (never arrival order, never a merged profile). ``Edge``,
``Refusal`` and ``LinkResult`` are what core.linkage.graph builds from the decisions and the
identifier values; ``link_records`` (the pure matcher over a set of records) lives there too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

from core.linkage.conflicts import Conflict, vetoing_conflicts
from core.linkage.fields import LinkageRecord
from core.linkage.model import LinkageModel, probability_from_weight
from core.linkage.scoring import PairScore, pair_weigh, score_pair
from core.linkage.slots import slot_maker

__all__ = ["Decision", "Edge", "LinkResult", "Outcome", "Refusal", "decide"]

Outcome = Literal["link", "review", "no_link"]


@dataclass(frozen=True, slots=True)
class Decision:
    """The decision on one pair (keys in sorted order), with the score and conflicts behind it."""

    a: str
    b: str
    outcome: Outcome
    reason: str
    score: PairScore | None = None
    conflicts: tuple[Conflict, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """Plain data: what a review item stores and ``explain`` prints."""
        data: dict[str, object] = {
            "records": [self.a, self.b],
            "outcome": self.outcome,
            "reason": self.reason,
        }
        if self.score is not None:
            data["score"] = self.score.as_dict()
        if self.conflicts:
            data["conflicts"] = [{"field": c.field, "reason": c.reason} for c in self.conflicts]
        return data


def decide(a: LinkageRecord, b: LinkageRecord, model: LinkageModel) -> Decision:
    """Link, review or no link for one pair, from the two records and the model alone.

    A vetoed conflict (two different dates of birth) never links: a high score goes to review. An
    email domain that looks like a typo (``gmial.com``) links only if the rest of the evidence
    links without it; otherwise it goes to review, whatever the score.
    """
    if b.key < a.key:
        a, b = b, a
    weight, review_level = pair_weigh(model)(a, b)
    if not review_level:
        clear = _CLEAR.get(weight) or _clear(weight)
        if clear[0] < model.thresholds.review:
            # A clear non-match (most candidate pairs): no per-field reasons are built for it, and
            # the decision is made without the dataclass's ``__init__`` (a third of its cost).
            return _make_decision(a.key, b.key, "no_link", clear[1], None, ())
    return _explained(a, b, model)


_CLEAR: Final[dict[float, tuple[float, str]]] = {}
"""A match weight's probability and the reason of a clear non-match at it (``score 0.0012``), by
weight: the clear non-matches of a population fall on few weights (135 among the 2,231 ingest
decides at 1,000 varied people), each worked out and formatted once. A weight is no person's
value. Emptied when it holds ``_CLEAR_KEPT``."""
_CLEAR_KEPT: Final = 4096


def _clear(weight: float) -> tuple[float, str]:
    """``_CLEAR``'s entry for a weight, worked out and kept."""
    p = probability_from_weight(weight)
    if len(_CLEAR) >= _CLEAR_KEPT:
        _CLEAR.clear()
    found = _CLEAR[weight] = (p, f"score {p:.4f}")
    return found


def _explained(a: LinkageRecord, b: LinkageRecord, model: LinkageModel) -> Decision:
    """The decision on a pair (keys in order) that is no clear non-match, with its per-field reasons."""
    thresholds = model.thresholds
    score = score_pair(a, b, model)
    p = score.probability
    conflicts = vetoing_conflicts(a, b, model.vetoes)
    if conflicts:
        reasons = ", ".join(c.reason for c in conflicts)
        if p >= thresholds.review:
            return _make_decision(a.key, b.key, "review", f"score {p:.4f} but {reasons}", score, conflicts)
        return _make_decision(a.key, b.key, "no_link", f"{reasons} (score {p:.4f})", score, conflicts)
    if score.review_fields:
        without = score.weight - sum(f.weight for f in score.fields if f.field in score.review_fields)
        if probability_from_weight(without) >= thresholds.link:
            return _make_decision(a.key, b.key, "link", f"score {p:.4f}", score, ())
        fields = ", ".join(score.review_fields)
        return _make_decision(
            a.key, b.key, "review", f"{fields} looks like a typo of the other (score {p:.4f})", score, ()
        )
    if p >= thresholds.link:
        return _make_decision(a.key, b.key, "link", f"score {p:.4f}", score, ())
    if p >= thresholds.review:
        return _make_decision(a.key, b.key, "review", f"score {p:.4f} between the thresholds", score, ())
    return _make_decision(a.key, b.key, "no_link", f"score {p:.4f}", score, ())


def _no_link(a: str, b: str, reason: str) -> Decision:
    """``Decision(a, b, "no_link", reason)``, its fields set through their slots."""
    return _make_decision(a, b, "no_link", reason, None, ())


_make_decision: Final = slot_maker(Decision)
"""``Decision(...)`` with every field given, without the frozen ``__init__`` (core.linkage.slots)."""


@dataclass(frozen=True, slots=True)
class Edge:
    """A reason two records are one person: a shared identifier value, a fuzzy link and its score, a
    child's link to its owner (``owner``), or a person's acceptance of a review (``review``)."""

    a: str
    b: str
    kind: Literal["identifier", "fuzzy", "owner", "review"]
    reason: str
    score: PairScore | None = None

    def as_dict(self) -> dict[str, object]:
        """Plain data: what ``explain`` prints and the export holds."""
        data: dict[str, object] = {"records": [self.a, self.b], "kind": self.kind, "reason": self.reason}
        if self.score is not None:
            data["score"] = self.score.as_dict()
        return data


@dataclass(frozen=True, slots=True)
class Refusal:
    """A join that was not made, and why: ``kind`` is ``guardrail`` (a value shared by too many
    people), ``conflict``, ``cap`` (too many fuzzy links) or ``rejected`` (by a person)."""

    a: str
    b: str
    reason: str
    kind: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"records": [self.a, self.b], "kind": self.kind, "reason": self.reason}


@dataclass
class LinkResult:
    """What the matcher decided over a set of records."""

    components: list[tuple[str, ...]] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    reviews: list[Decision] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    pairs_scored: int = 0
    overloaded: dict[str, int] = field(default_factory=dict)
    """Blocking keys and identifier values left out, with how many records (or people) held them."""
    hits: list[tuple[str, str, str]] = field(default_factory=list)
    """(record key, identifier value, reason) for each use of a value that was refused to a record."""
    decisions: list[Decision] = field(default_factory=list)
    """Every decided candidate pair (links, reviews and no links, with their scores)."""
