"""The rounds one ``ingest`` call applies its records in (core.pipeline): a record's versions in one
call reduced to what they do one after the other, an undated version (core.undated) and the dated
versions of several contents in a row against a stored undated one kept apart, each in a round of
its own. Nearly every call is one round. Split from core.pipeline by concern; ``version_rounds`` is
still importable from there."""

from __future__ import annotations

from collections.abc import Iterable
from functools import reduce
from operator import attrgetter

from core.consent_carry import carry_consent_times, chained
from core.content_hash import record_hash
from core.ingest_runs import fold, observed
from core.ports import ProfileStore
from core.schema import SourceRecord
from core.undated import kept_undated, later

__all__ = ["version_rounds"]


def version_rounds(
    records: Iterable[SourceRecord], store: ProfileStore
) -> tuple[int, list[list[SourceRecord]], dict[str, list[SourceRecord]]]:
    """How many records came, and the rounds to ingest them in, each by source key, so that each
    round does what its versions did one after the other against ``store`` (core.undated: no one
    version does what an undated one and another do). An undated version is a round of its own. A
    record's dated versions in a row reduce to the newest, unless they hold several contents and the
    stored version is undated (``kept_undated``): against it the first content may do nothing (the
    same content, not later than its bound), the second replaces it whatever the times, and from
    there on the newest wins. Then the first content is a round, the second another (each its
    newest), and the rest one more. Nearly every call is one round. Third, by key, the dated
    versions in a row of several contents reduced to the newest: the read that decided it may be
    stale by the commit (another writer stores an undated version), which core.ingest_plan checks."""
    versions: dict[str, list[SourceRecord]] = {}
    run: dict[str, int] = {}  # per key, the rounds its dated versions in a row hold so far
    received = 0
    for record in records:
        received += 1
        held = versions.setdefault(record.key, [])
        if held and not (held[-1].undated or record.undated):
            if run[record.key] < _DATED_ROUNDS and record_hash(held[-1]) != record_hash(record):
                held.append(record)
                run[record.key] += 1
            else:  # every version folded in is kept with it: the plan folds their content run
                held[-1] = fold([held[-1], record])
        else:
            held.append(record)
            run[record.key] = 1
    # A run after an undated version of the call is kept apart: that one is the stored version then
    # (one version, nearly every key: a run of at most one, without _run_length's generator)
    heads = {k: n for k, v in versions.items() if len(v) > 1 and (n := _run_length(v)) > 1}
    collapsed: dict[str, list[SourceRecord]] = {}
    if heads:
        newest_of = {
            k: reduce(later, [v for r in versions[k][:n] for v in observed(r)]) for k, n in heads.items()
        }
        kept = kept_undated(store, sorted(newest_of.values(), key=lambda r: r.key))
        for key, n in heads.items():
            if key not in kept:
                collapsed[key] = versions[key][:n]  # their rounds, which do what they did
                versions[key][:n] = [carried_fold(versions[key][:n])]
    depth = max(map(len, versions.values()), default=0)
    rounds = [sorted((v[i] for v in versions.values() if len(v) > i), key=_KEY) for i in range(depth)]
    return received, rounds, collapsed


#: A record's key, read in C (a lambda's frame per record cost more than the read).
_KEY = attrgetter("key")


def carried_fold(held: list[SourceRecord]) -> SourceRecord:
    """``fold`` of a record's dated versions of several contents, each decision dated by its record
    keeping the time of the first of them in a row (in time order) to hold it (core.consent_carry)."""
    return carry_consent_times(chained([v for r in held for v in observed(r)]), fold(held))


def _run_length(held: list[SourceRecord]) -> int:
    """How many of a record's first rounds (``version_rounds``) are dated versions in a row."""
    return next((i for i, r in enumerate(held) if r.undated), len(held))


_DATED_ROUNDS = 3
"""The rounds a record's dated versions in a row take at most (``version_rounds``)."""
