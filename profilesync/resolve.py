"""``profilesync resolve``: normalise a stream of drafts, ingest them in batches, report the outcome."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TextIO

from connectors.jsonl.batched import BatchEnd
from core.batch_ingest import ingest_batch
from core.errors import InputError
from core.isolation import Ingest, ingest_isolating
from core.normalise import NormaliseOptions, is_future_dated, normalise_record
from core.pipeline import IngestResult, IngestSettings
from core.ports import ProfileStore
from core.raw_json import raw_json
from core.schema import Profile, Quarantined, RecordDraft, SourceRecord

# Re-exported: the writers of the JSON documents live with the process that writes half of them.
from profilesync.resolve_output import document_line as document_line
from profilesync.resolve_output import write_documents as write_documents
from profilesync.resolve_output import write_lines

#: Records per batch on the embedded store: the new customers of a batch are planned and written
#: together (core.batch_ingest), and a person whose records share a batch is founded whole rather
#: than founded then attached to; memory grows with the batch (about 650 MB at 20,000 records).
EMBEDDED_BATCH_SIZE: Final = 20_000
#: Records per batch on DynamoDB (``--endpoint-url``): as before, small conditional transactions.
ENDPOINT_BATCH_SIZE: Final = 100


@dataclass
class ResolveReport:
    """What a resolve run did. ``read == normalised + quarantined + erased_quarantined`` always holds."""

    read: int = 0
    normalised: int = 0
    quarantined: int = 0
    erased_quarantined: int = 0
    """Malformed records of people erased from the table: dropped, not written to the quarantine."""
    erased_after: int = 0
    """Records of people erased while the run read them (profilesync.resolve_erasures): resolved,
    then taken out of the run's store before the output was written."""
    quarantine_reasons: Counter[str] = field(default_factory=Counter)
    dropped_values: Counter[str] = field(default_factory=Counter)
    ingest: IngestResult = field(default_factory=IngestResult)
    """The batches' results added up: counts only (``resolve`` drops each batch's customer ids and
    guardrail hits once counted, so that the report of a million records stays small)."""
    guardrail_keys: Counter[str] = field(default_factory=Counter)
    """Per identifier key, how often a guardrail refused to match on it."""
    profiles: int = 0
    future_dated: int = 0
    """Records kept with their ``updated_at`` read as now: it was too far in the future."""

    def lines(self) -> list[str]:
        """The human summary printed by the CLI."""
        out = [
            f"records read      {self.read:>8,}",
            f"  normalised      {self.normalised:>8,}",
            f"  quarantined     {self.quarantined:>8,}",
        ]
        out += [f"    {n:>6,}  {reason}" for reason, n in self.quarantine_reasons.most_common()]
        if self.future_dated:
            out.append(f"future-dated      {self.future_dated:>8,}  (updated_at too far ahead, read as now)")
        if self.dropped_values:
            detail = ", ".join(f"{f} {n:,}" for f, n in self.dropped_values.most_common())
            out.append(f"values dropped    {sum(self.dropped_values.values()):>8,}  ({detail})")
        ing = self.ingest
        out += [
            f"unchanged         {ing.unchanged + ing.stale:>8,}",
            *(
                [f"erased, dropped   {erased:>8,}  (people erased from this table)"]
                if (erased := ing.suppressed + self.erased_quarantined + self.erased_after)
                else []
            ),
            f"profiles          {self.profiles:>8,}",
            f"  new customers   {ing.new_customers:>8,}",
            f"  merges          {ing.merged_customers:>8,}",
        ]
        if self.guardrail_keys:
            keys = self.guardrail_keys
            out.append(
                f"guardrails        {len(keys):>8,}  identifiers not used to match "
                f"(e.g. {', '.join(k for k, _ in keys.most_common(3))})"
            )
        return out


def reason_class(reason: str) -> str:
    """The class a quarantine reason is counted under in the summary."""
    # Group quarantine reasons for the summary: the part before any detail (':', ';' or '(').
    return reason.split(";")[0].split(":")[0].split("(")[0].strip()


def resolve(
    drafts: Iterable[RecordDraft | SourceRecord | Quarantined | BatchEnd],
    store: ProfileStore,
    *,
    options: NormaliseOptions | None = None,
    settings: IngestSettings | None = None,
    batch_size: int = EMBEDDED_BATCH_SIZE,
    quarantine: Callable[[Quarantined], None] | None = None,
    progress: Callable[[ResolveReport], None] | None = None,
    ingesting: Ingest = ingest_batch,
    erased: Callable[[Quarantined], bool] | None = None,
    settings_now: Callable[[], IngestSettings | None] | None = None,
) -> ResolveReport:
    """Normalise, quarantine and ingest ``drafts`` in batches; nothing read goes unaccounted.

    An item may also come normalised already (a ``SourceRecord``, or the ``Quarantined`` outcome of
    its normalisation): ``profilesync.parallel_normalise`` normalises in a worker process. Each
    batch goes through ``ingesting``: ``core.batch_ingest.ingest_batch``, which stores what
    ``core.pipeline.ingest`` (the other choice) stores, founding a batch's new customers together.
    A ``BatchEnd`` ends a batch there (``connectors.jsonl.batched``: batches that keep each person's
    records together, so that most of them found new customers); batches end after ``batch_size``
    records too. A malformed record ``erased`` says is an erased person's is dropped and counted,
    never passed to ``quarantine`` (profilesync.erased_quarantine). ``settings_now``, when given, is
    asked for the settings before each batch, in place of ``settings`` (the erasures of a state
    store made during the run: profilesync.resolve_erasures)."""
    options = options or NormaliseOptions()
    report = ResolveReport()
    batch: list[SourceRecord] = []

    def flush() -> None:
        if batch:
            current = settings if settings_now is None else settings_now()
            result, refused = ingest_isolating(batch, store, current, ingesting)
            report.guardrail_keys.update(h.identifier_key for h in result.guardrail_hits)
            result.guardrail_hits.clear()
            result.customers.clear()  # the store holds them; the summary needs counts only
            report.ingest.add(result)
            for entry in refused:  # normalised, but the store could not take it: quarantined alone
                report.normalised -= 1
                count_quarantined(entry)
            batch.clear()
            if progress:
                progress(report)

    def count_quarantined(entry: Quarantined) -> None:
        if erased is not None and erased(entry):
            report.erased_quarantined += 1
            return
        report.quarantined += 1
        report.quarantine_reasons[reason_class(entry.reason)] += 1
        if quarantine:
            quarantine(entry)

    for item in drafts:
        # A record the worker normalised (nearly every item) by its exact type first: isinstance
        # with a union of model classes, and a generator over no dropped values, were 1.4 of the
        # 1.7 µs a record this loop cost (load 10).
        if type(item) is SourceRecord:
            outcome = item
            report.read += 1
        else:
            if isinstance(item, BatchEnd):
                flush()
                continue
            report.read += 1
            given = item if isinstance(item, Quarantined | SourceRecord) else normalise_record(item, options)
            if isinstance(given, Quarantined):
                count_quarantined(given)
                continue
            outcome = given
        report.normalised += 1
        dropped_values = outcome.dropped
        if dropped_values:
            if is_future_dated(outcome):
                report.future_dated += 1
            for dropped in dropped_values:
                report.dropped_values[dropped.field.split("[")[0].split(".")[0]] += 1
        batch.append(outcome)
        if len(batch) >= batch_size:
            flush()
    flush()
    return report


def profile_line(profile: Profile) -> dict[str, Any]:
    """One output line of ``resolve --out``: the profile in the documented flat shape."""
    identifiers: dict[str, list[str]] = {}
    for ident in profile.identifiers:
        if ident.kind != "source":
            identifiers.setdefault(ident.kind, []).append(ident.value)
    computed = profile.computed.model_dump(mode="json")
    return {
        "customer_id": profile.customer_id,
        "sources": [{"source": s.source, "object_type": s.object_type, "id": s.id} for s in profile.sources],
        "identifiers": identifiers,
        "traits": {name: t.value for name, t in profile.traits.items()},
        "provenance": {
            name: {"source": t.source, "updated_at": t.updated_at.isoformat()}
            for name, t in profile.traits.items()
        },
        "computed": computed,
        "consent": {
            ch: {"granted": c.granted, "changed_at": c.changed_at.isoformat(), "source": c.source}
            for ch, c in profile.consent.items()
        },
        "version": profile.version,
    }


def write_profiles(
    profiles: Iterator[Profile], out: TextIO, progress: Callable[[int], None] | None = None
) -> int:
    """Write one line per profile as the store yields them (memory stays that of one page)."""
    return write_lines(map(profile_line, profiles), out, progress)


def write_quarantine_line(entry: Quarantined, out: TextIO) -> None:
    """One line of the quarantine file: ``source``, ``source_id``, ``reason`` and ``raw``, the raw
    record's numbers written as JSON numbers (core.raw_json), so that its ``raw`` read with
    ``parse_float=Decimal`` (as resolve reads its input) is the record as it was read."""
    document = {
        "source": entry.source,
        "source_id": entry.source_id,
        "reason": entry.reason,
        "raw": entry.raw,
    }
    out.write(raw_json(document, ensure_ascii=False) + "\n")


def default_quarantine_path(out: Path) -> Path:
    return out.with_name(out.stem + ".quarantine.jsonl")


def check_paths(source: Path, out: Path, quarantine: Path) -> None:
    """Raise ``InputError`` when two of the input, the profiles and the quarantine file are one file:
    writing either output would destroy the input (``--quarantine in.jsonl`` truncated a 2,000-line
    input to 1 line, and exited 0) or the other output. Checked before anything is opened."""
    named = [("the input", source), ("--out", out), ("--quarantine", quarantine)]
    for i, (first, a) in enumerate(named):
        for second, b in named[i + 1 :]:
            if _same_file(a, b):
                raise InputError(f"{second} {b} is the same file as {first}; give {second} a path of its own")


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)  # also through links
    except OSError:
        pass
    return a.resolve() == b.resolve()
