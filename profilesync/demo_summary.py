"""What ``profilesync demo`` prints when it is done: each round's figures by tool, the profiles and
the top reasons for quarantine.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from profilesync.demo_rounds import DemoResult
from profilesync.demo_sandboxes import label


def _row(title: str, values: Mapping[str, int], tools: Sequence[str], total: bool = True) -> str:
    cells = "".join(f"{values.get(n, 0):>12,}" for n in tools)
    end = f"{sum(values.get(n, 0) for n in tools):>12,}" if total else ""
    return f"  {title:<30}{cells}{end}"


def summary_lines(result: DemoResult) -> list[str]:
    """What the demo prints when it is done."""
    first, second = result.rounds
    tools = result.tools
    header = f"  {'':<30}" + "".join(f"{label(n):>12}" for n in tools) + f"{'total':>12}"
    names = [label(n) for n in tools]
    listed = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]
    lines = [
        f"profilesync demo: {result.people:,} people (seed {result.seed}) in the {listed} sandboxes,",
        "  through functions.pull, functions.merge and functions.push on an embedded AWS built from "
        "template.yaml",
    ]
    lines.extend(f"  note: {note}" for note in result.notes)
    for report in (first, second):
        title = (
            "round 1: full pull" if report is first else "round 2: incremental, after changes in the tools"
        )
        lines += ["", f"{title} ({report.seconds:.1f} s)", header]
        if report is second:
            lines.append(_row("changed in the tools", report.changed_in_tools, tools))
        lines.append(_row("records pulled", {n: p.pulled for n, p in report.pulls.items()}, tools))
        if report is second:
            echo = {n: max(0, p.pulled - report.changed_in_tools.get(n, 0)) for n, p in report.pulls.items()}
            lines.append(_row("  of which echoes of pushes", echo, tools))
        lines.append(_row("quarantined", {n: p.quarantined for n, p in report.pulls.items()}, tools))
        lines.append(_row("profiles pushed", {n: report.pushed(n) for n in tools}, tools))
        for caption, metric in (
            ("  of which updated", "PushUpdated"),
            ("  of which created", "PushCreated"),
            ("  push skipped (unchanged)", "PushSkippedUnchanged"),
            ("  push skipped (mode: not held)", "PushSkippedByMode"),
            ("  push skipped (no consent)", "PushSkippedByConsent"),
        ):
            lines.append(_row(caption, {n: report.metric(metric, destination=n) for n in tools}, tools))
        lines.append(
            f"  merge: {report.merge.messages:,} messages, {report.metric('RecordsMerged'):,} records "
            f"written, {report.metric('RecordsUnchanged'):,} unchanged; "
            f"{report.metric('NewCustomers'):,} new customers, {report.metric('Merges'):,} merges"
        )
        lines.append(
            f"  profiles: {report.profiles:,}; duplicates collapsed: {report.queued:,} records -> "
            f"{report.profiles:,} profiles"
            if report is first
            else f"  profiles: {report.profiles:,}"
        )
    records = sum(result.records.values())
    lines += [
        "",
        f"profiles: {len(result.profiles):,} from {records:,} source records: "
        f"{records - len(result.profiles):,} duplicates collapsed",
    ]
    reasons: Counter[str] = Counter()
    for name, counts in result.quarantine.items():
        for reason, count in counts.items():
            reasons[f"{name}: {reason}"] += count
    if reasons:
        lines.append(f"quarantined: {sum(reasons.values()):,} records; top reasons:")
        lines.extend(f"  {count:>6,}  {reason}" for reason, count in reasons.most_common(5))
    lines += [
        f"wrote {len(result.profiles):,} profiles to {result.profiles_path}",
        f"wrote {result.report_path}; handler logs and metrics in {result.log_path}",
        f"done in {result.seconds:.1f} s",
    ]
    return lines
