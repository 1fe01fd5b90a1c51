"""The errors of a review decision (core.link_review ``decide``): refused (nothing changed),
contradicting a standing decision, or outdated by an ingest that raced it. Imported from
core.link_review as before."""

from __future__ import annotations

from typing import Any

from core.errors import InputError

__all__ = ["ReviewContradictsError", "ReviewOutdatedError", "ReviewRefusedError"]


class ReviewRefusedError(InputError):
    """A review decision that cannot be made as asked: no such pair, a store without a review
    queue, a reason that quotes a record's id. Nothing was changed."""


class ReviewContradictsError(ReviewRefusedError):
    """A decision that contradicts a standing one (core.link_review_rule): an accept that would join
    a rejected pair through accepted pairs and shared identifiers, or a reject of a pair accepted
    pairs join. The message names the standing decision; nothing was changed."""


class ReviewOutdatedError(ReviewRefusedError):
    """A decision that lost a race with an ingest: another version of a record of the pair, with
    other match fields, was stored as it was decided (core.link_review_apply). It was not applied and
    no event names it; ``pending_again``: the pair waits for review, scored on the new versions
    (otherwise it is no longer in doubt on them)."""

    def __init__(self, pair: str, pending_again: bool) -> None:
        self.pair = pair
        self.pending_again = pending_again
        then = (
            "it waits for review again, scored on the new versions: list it and decide again"
            if pending_again
            else "it is no longer in doubt on the new versions: nothing waits for a decision"
        )
        super().__init__(
            f"review pair {pair}: a record of the pair changed (another version was stored) as it was "
            f"decided, so the decision was not applied; {then}"
        )

    def as_json(self) -> dict[str, Any]:
        """The answer of the function's ``review-accept``/``review-reject`` and of the CLI."""
        return {"pair": self.pair, "outdated": True, "pending_again": self.pending_again, "error": str(self)}
