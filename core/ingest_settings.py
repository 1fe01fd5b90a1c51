"""What ``ingest`` (core.pipeline) is told and what it answers: its settings, its result, the error
it gives up with, and the backoff between the rounds that lost a race."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from core.errors import ConflictError
from core.identity import GuardrailHit, IdentityPolicy
from core.merge import MergeRules
from core.segment_rules import configured_rules
from core.suppression import SuppressionCheck

if TYPE_CHECKING:
    from core.link_scope import LinkageSettings
    from core.schema import SourceRecord


@dataclass
class IngestResult:
    """What one ``ingest`` call did; counts add up: received = written + unchanged + stale + suppressed.

    ``touched`` counts the unchanged records that came with a newer timestamp only (echoes of
    pushes): their content is what is stored, so only their staleness watermark moved.
    ``suppressed`` counts the records of erased people that were dropped (core.suppression)."""

    received: int = 0
    written: int = 0
    unchanged: int = 0
    stale: int = 0
    suppressed: int = 0
    touched: int = 0
    new_customers: int = 0
    attached: int = 0
    merged_customers: int = 0
    retries: int = 0
    split_customers: int = 0
    fuzzy_links: int = 0
    """Fuzzy links (core.linkage) that joined a record of the batch to another record."""
    reviews: int = 0
    """Pairs of records sent to the review queue (between the review and link thresholds)."""
    guardrail_hits: list[GuardrailHit] = field(default_factory=list)
    customers: set[str] = field(default_factory=set)
    unsplit: list[str] = field(default_factory=list)
    """Customers an update disconnected that could not be split now (a race, or too large for one
    transaction): their records are stored; ``split_customer`` finishes the job."""
    unjoined: list[str] = field(default_factory=list)
    """Customers of the batch whose re-check (core.link_recheck: records another writer filed under
    the batch's keys meanwhile) lost its race every attempt: their records are stored, and the
    customers stay apart until a change to one of their records plans them again."""

    def add(self, other: IngestResult) -> None:
        for name in (
            "received",
            "written",
            "unchanged",
            "stale",
            "suppressed",
            "touched",
            "new_customers",
            "attached",
            "merged_customers",
            "retries",
            "split_customers",
            "fuzzy_links",
            "reviews",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.guardrail_hits.extend(other.guardrail_hits)
        self.customers |= other.customers
        self.unsplit.extend(other.unsplit)
        self.unjoined.extend(other.unjoined)


@dataclass
class PartialIngest:
    """What an ``ingest`` that raised had done, carried by its exception (``partial_of``).

    ``done`` counts the records it settled: stored, or found unchanged, stale or suppressed
    (``received = written + unchanged + stale + suppressed``, the duplicates of every record
    included); ``rest`` is the newest version of each other record, none of them stored. Ingesting
    ``rest`` again and adding its result to ``done`` gives the whole batch's counts
    (core.isolation: the records a failed attempt stored are not counted again as unchanged)."""

    done: IngestResult
    rest: list[SourceRecord]


#: The attribute of an exception that holds its ``PartialIngest``.
_PARTIAL: Final = "profilesync_partial_ingest"


def carry_partial(error: BaseException, total: IngestResult, rest: list[SourceRecord]) -> None:
    """Attach to ``error`` what an ingest whose ``total`` counted every record received did before
    it: ``rest``, the records it settled no outcome for, leave ``total``'s ``received``."""
    total.received -= len(rest)
    setattr(error, _PARTIAL, PartialIngest(total, rest))


def partial_of(error: BaseException) -> PartialIngest | None:
    """The ``PartialIngest`` an ingest attached to ``error`` (None: the error says nothing of it)."""
    partial = getattr(error, _PARTIAL, None)
    return partial if isinstance(partial, PartialIngest) else None


class ResolutionGaveUpError(ConflictError):
    """Raised when a batch keeps losing races after every retry (a pathological hot spot)."""


@dataclass(frozen=True)
class IngestSettings:
    policy: IdentityPolicy = field(default_factory=IdentityPolicy)
    rules: MergeRules = field(default_factory=configured_rules)
    """Survivorship and the segment's thresholds: the configuration document's ``segments`` section
    (core.segment_rules), else ``DEFAULT_RULES``."""
    max_attempts: int = 12
    backoff_base: float = 0.01
    backoff_cap: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    suppression: SuppressionCheck | None = None
    """Drops the records of erased people before anything is stored (None: no check)."""
    epoch_checked: bool = False
    """The caller read ``suppression``'s erasure epoch just before (core.erasure_epoch: a pull's page,
    ``ingest_isolating``'s batch), so ``ingest`` does not read it again."""
    actor: str = "ingest"
    """Who or what makes the changes, as the history events say (``run:<connector>:<run id>``)."""
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    """The time of the history events a change appends."""
    linkage: LinkageSettings | None = None
    """Probabilistic identity (core.link_scope): identifier values by match key and counted in people,
    conflicts, fuzzy links, reviews. None: exact identifiers as before (core.identity.group_records)."""


def _back_off(settings: IngestSettings, attempt: int) -> None:
    """Sleep a jittered, capped exponential delay before planning again after a lost race."""
    settings.sleep(random.uniform(0, min(settings.backoff_cap, settings.backoff_base * 2**attempt)))
