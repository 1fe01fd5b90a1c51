"""A review item of the link index (core.link_index): a pair for a person to decide
(``ReviewItem``), its id (``review_pair_id``) and what a decision is taken on (``pair_evidence``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = ["ReviewItem", "ReviewStatus", "pair_evidence", "review_pair_id"]

ReviewStatus = Literal["pending", "accepted", "rejected"]


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """A pair for a person to decide (keys sorted: ``a < b``) and what the matcher said about it."""

    a: str
    b: str
    status: ReviewStatus
    decision: Mapping[str, Any]
    """``core.linkage.Decision.as_dict()``: outcome, reason, score with per-field weights."""
    model: str
    """The model that scored it (``format`` version and training sample)."""
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str = field(default="", compare=False)
    evidence: str = ""
    """For a decision: ``pair_evidence`` of the two records as they were when it was taken; it applies
    while they hold the same (``applies_to``). Empty: a decision taken before evidence was kept, or
    a pending item."""
    read_as: str = field(default="", init=False, compare=False, repr=False)
    """The item's JSON exactly as a store read it (``from_json``), which an earlier release may have
    written in another shape (without ``evidence``); empty for an item made here (``replace`` too).
    The conditional writes compare the stored text with ``stored_json``."""

    @property
    def pair_id(self) -> str:
        return review_pair_id(self.a, self.b)

    def applies_to(self, evidence: str) -> bool:
        """Whether the person's decision holds for records whose ``pair_evidence`` is ``evidence``:
        always for one taken before evidence was kept, else only on the same evidence."""
        return self.status != "pending" and (not self.evidence or self.evidence == evidence)

    def same_filing(self, other: ReviewItem) -> bool:
        """Whether ``other`` is this very item, all of it (status, evidence, times, score, who and
        why): what the conditional writes (``requeue_review``, ``drop_reviews_as_read``) compare, so
        that a loop retrying one stops once another writer changed the item."""
        return self.as_dict() == other.as_dict()

    def stored_json(self) -> str:
        """The text a store holds for this item: as read (``read_as``), else as written now."""
        return self.read_as or json.dumps(self.as_dict(), ensure_ascii=False, sort_keys=True)

    def as_dict(self) -> dict[str, Any]:
        return {
            "pair": self.pair_id,
            "records": [self.a, self.b],
            "status": self.status,
            "decision": dict(self.decision),
            "model": self.model,
            "created_at": self.created_at.isoformat(),
            "decided_by": self.decided_by,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "note": self.note,
            "evidence": self.evidence,
        }

    @classmethod
    def from_json(cls, text: str) -> ReviewItem:
        """The item a store holds as ``text``, which it keeps (``read_as``)."""
        item = cls.from_dict(json.loads(text))
        object.__setattr__(item, "read_as", text)
        return item

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReviewItem:
        a, b = data["records"]
        return cls(
            a=a,
            b=b,
            status=data["status"],
            decision=data.get("decision") or {},
            model=data.get("model", ""),
            created_at=datetime.fromisoformat(data["created_at"]),
            decided_by=data.get("decided_by"),
            decided_at=datetime.fromisoformat(data["decided_at"]) if data.get("decided_at") else None,
            note=data.get("note", ""),
            evidence=data.get("evidence") or "",
        )


def pair_evidence(a_match: str, b_match: str) -> str:
    """What a decision on a pair is taken on: 128 bits of BLAKE2b of the match documents
    (``match_document``) of its two records, in the pair's order (``a`` the smaller key)."""
    return hashlib.blake2b(f"{a_match}\x00{b_match}".encode(), digest_size=16).hexdigest()


def review_pair_id(a: str, b: str) -> str:
    """The id of the review item of a pair, whatever the order: 128 bits of BLAKE2b, hex."""
    first, second = sorted((a, b))
    return hashlib.blake2b(f"{first}\x00{second}".encode(), digest_size=16).hexdigest()
