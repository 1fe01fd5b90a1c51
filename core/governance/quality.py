"""Data quality per source and run: what a pull brought, what could not be used, and whether that
changed suddenly. Pure.

For one run of one connector: records pulled; records quarantined, by reason; values dropped from
records that were kept, by field and reason; identifiers the guardrails refused to match on, by
reason; and among the people-level records (not orders, charges or other child objects), how many
carry no granted email consent. The pull keeps it in the connector's ``SYNC#`` run report
(``quality``) and publishes it as metrics (functions.pull, functions.merge).

**The jump.** A source whose quarantine share goes from 1% to 10% between runs has changed
something (a field renamed, a new export format): ``jump`` is the share of this run minus the share
of the last *comparable* run, in percentage points. A run is comparable when it pulled at least
``JUMP_MIN_RECORDS`` records: below that one bad record moves the share by two points or more, and
an incremental run of a handful of records would raise the alarm on noise. The baseline is carried
from run to run in the report, so a quiet run does not erase it. The template's alarm fires on a
jump of ``JUMP_ALARM_POINTS`` or more.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.redaction import redact_personal

if TYPE_CHECKING:
    # Only for its type: the pull function imports this module, and the identity module is not
    # part of what a pull needs at a cold start.
    from core.identity import GuardrailHit
    from core.schema import SourceRecord

#: A run with fewer records than this gets no jump (and does not become the baseline).
JUMP_MIN_RECORDS = 50
#: Percentage points of quarantine share between comparable runs that raise the alarm.
JUMP_ALARM_POINTS = 5.0
#: Reasons kept per counter in the report (the rest add up under "other reasons").
MAX_REASONS = 20

_INDEX = re.compile(r"\[\d+\]")


def reason_class(reason: str) -> str:
    """A reason without the value it quotes, so that reasons of one kind add up (and can be a
    metric's dimension): ``unknown status 'foo'`` -> ``unknown status``."""
    head = reason.split(";", 1)[0]
    head = head.split(" '", 1)[0].split(' "', 1)[0].strip().rstrip(":").strip()
    # An address or a phone number a reason names without quotes (an error's text) is not kept.
    return redact_personal(head) or "no reason given"


def dropped_class(field_name: str, reason: str) -> str:
    """``orders[3]`` and ``orders[7]`` are one field: ``orders[]: total: not a number``."""
    return f"{_INDEX.sub('[]', field_name)}: {reason_class(reason)}"


def _share(part: int, whole: int) -> float | None:
    return None if whole <= 0 else round(100.0 * part / whole, 3)


def _bounded(counter: Counter[str]) -> dict[str, int]:
    top = counter.most_common(MAX_REASONS)
    rest = sum(counter.values()) - sum(n for _, n in top)
    out = dict(top)
    if rest:
        out["other reasons"] = out.get("other reasons", 0) + rest
    return out


@dataclass
class RunQuality:
    """The data quality of one run of one connector; see the module docstring."""

    connector: str
    run_id: str = ""
    pulled: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    people: int = 0
    without_email_consent: int = 0
    baseline_share: float | None = None
    """Quarantine share (%) of the last comparable run before this one."""
    baseline_run: str | None = None

    # -- observing a run --------------------------------------------------------------------------------

    def observe(
        self, pulled: int, records: Sequence[SourceRecord], quarantine_reasons: Iterable[str]
    ) -> None:
        """One page: how many records it held, the ones kept, and the reasons of the others."""
        self.pulled += pulled
        self.quarantined.update(reason_class(r) for r in quarantine_reasons)
        for record in records:
            self.dropped.update(dropped_class(d.field, d.reason) for d in record.dropped)
            if record.level == "person":  # an order or a charge is not a person to consent
                self.people += 1
                email = record.consent.get("email")
                if email is None or not email.granted:
                    self.without_email_consent += 1

    def add(self, other: RunQuality) -> None:
        """Add the counts of ``other`` (a page, a continuation) to this run."""
        self.pulled += other.pulled
        self.quarantined.update(other.quarantined)
        self.dropped.update(other.dropped)
        self.refused.update(other.refused)
        self.people += other.people
        self.without_email_consent += other.without_email_consent

    def observe_refusals(self, hits: Iterable[GuardrailHit]) -> None:
        """Identifiers the guardrails would not match on (known where ingest runs in-process)."""
        self.refused.update(reason_class(hit.reason) for hit in hits)

    # -- what it means ----------------------------------------------------------------------------------

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantined.values())

    @property
    def quarantine_share(self) -> float | None:
        """Percent of pulled records quarantined (None before any record)."""
        return _share(self.quarantined_total, self.pulled)

    @property
    def no_email_consent_share(self) -> float | None:
        """Percent of people-level records without a granted email consent."""
        return _share(self.without_email_consent, self.people)

    @property
    def comparable(self) -> bool:
        return self.pulled >= JUMP_MIN_RECORDS

    @property
    def jump(self) -> float | None:
        """Percentage points of quarantine share above the baseline; None when not comparable."""
        share = self.quarantine_share
        if share is None or self.baseline_share is None or not self.comparable:
            return None
        return round(share - self.baseline_share, 3)

    @property
    def alarming(self) -> bool:
        return self.jump is not None and self.jump >= JUMP_ALARM_POINTS

    # -- carried in the SYNC# report --------------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        return {
            "connector": self.connector,
            "run_id": self.run_id,
            "pulled": self.pulled,
            "quarantined": _bounded(self.quarantined),
            "quarantine_share": self.quarantine_share,
            "dropped": _bounded(self.dropped),
            "refused": _bounded(self.refused),
            "people": self.people,
            "without_email_consent": self.without_email_consent,
            "no_email_consent_share": self.no_email_consent_share,
            "baseline_share": self.baseline_share,
            "baseline_run": self.baseline_run,
            "jump": self.jump,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunQuality:
        def counter(name: str) -> Counter[str]:
            raw = data.get(name) or {}
            return (
                Counter({str(k): int(v) for k, v in raw.items()}) if isinstance(raw, Mapping) else Counter()
            )

        baseline = data.get("baseline_share")
        return cls(
            connector=str(data.get("connector", "")),
            run_id=str(data.get("run_id", "")),
            pulled=int(data.get("pulled", 0)),
            quarantined=counter("quarantined"),
            dropped=counter("dropped"),
            refused=counter("refused"),
            people=int(data.get("people", 0)),
            without_email_consent=int(data.get("without_email_consent", 0)),
            baseline_share=float(baseline) if isinstance(baseline, int | float) else None,
            baseline_run=data.get("baseline_run") or None,
        )

    def next_run(self, run_id: str) -> RunQuality:
        """A new run after this one: this run becomes the baseline if it was comparable."""
        if self.comparable and self.quarantine_share is not None:
            return RunQuality(
                self.connector, run_id, baseline_share=self.quarantine_share, baseline_run=self.run_id
            )
        return RunQuality(
            self.connector, run_id, baseline_share=self.baseline_share, baseline_run=self.baseline_run
        )


def resume_quality(
    connector: str, run_id: str, previous_report: Mapping[str, Any] | str | None
) -> RunQuality:
    """The quality of run ``run_id``, from the connector's last saved report (``SyncState.report``,
    as JSON or parsed): the same run goes on (a continuation of a long pull), another run gives its
    baseline to this one. A report that cannot be read starts afresh."""
    if isinstance(previous_report, str):
        try:
            previous_report = json.loads(previous_report) if previous_report.strip() else None
        except ValueError:
            previous_report = None
    data = previous_report.get("quality") if isinstance(previous_report, Mapping) else None
    if not isinstance(data, Mapping):
        return RunQuality(connector, run_id)
    previous = RunQuality.from_dict(data)
    if previous.run_id == run_id:
        return previous
    return previous.next_run(run_id)


__all__ = [
    "JUMP_ALARM_POINTS",
    "JUMP_MIN_RECORDS",
    "RunQuality",
    "dropped_class",
    "reason_class",
    "resume_quality",
]
