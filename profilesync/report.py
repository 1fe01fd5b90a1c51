"""The demo's ``report.html``: one self-contained page (inline CSS and SVG; no scripts, no fetches).

Sections: the headline numbers; customers per combination of tools; lifetime value per primary
currency; segments; data-quality problems per source (quarantine reasons and dropped values); the
data-quality monitoring of each run (quarantine share and its jump, refused identifiers, consent); and
round 1 against round 2. The charts are drawn by profilesync.report_charts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from html import escape
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from core.governance.quality import JUMP_ALARM_POINTS, JUMP_MIN_RECORDS
from core.push import primary_currency  # the currency pushed to every tool
from core.schema import Profile
from profilesync.demo_sandboxes import LABELS
from profilesync.demo_sandboxes import label as tool_label
from profilesync.report_charts import ACCENT, SECOND, bar_chart, column_chart, grouped_bars

if TYPE_CHECKING:
    from profilesync.demo import DemoResult

COLOURS = {"hubspot": "#ff7a59", "mailchimp": "#c9a400", "shopify": "#5e8e3e", "salesforce": "#00a1e0"}
OTHER_COLOUR = "#7a869a"

#: Lifetime-value bins (upper bounds, in the currency's units); the last bin is open.
LTV_BINS = (Decimal(50), Decimal(100), Decimal(250), Decimal(500), Decimal(1000), Decimal(2000))

SECTION_IDS = (
    "combinations",
    "lifetime-value",
    "segments",
    "data-quality",
    "identity",
    "monitoring",
    "rounds",
)

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;
  color:#1d2733;background:#f5f7fa}
header{background:#1d2733;color:#fff;padding:24px 32px}
header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;color:#c5cfdb}
main{max-width:1080px;margin:0 auto;padding:16px 32px 48px}
section{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);
  padding:16px 24px;margin:16px 0}
h2{font-size:17px;margin:4px 0 4px}
p.lead{margin:0 0 12px;color:#55606e}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin-top:16px}
.card{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);
  padding:12px 16px;min-width:150px}
.card b{display:block;font-size:22px}
.card span{color:#55606e;font-size:12px}
.grid{display:flex;flex-wrap:wrap;gap:24px}
.grid>div{flex:1 1 300px}
h3{font-size:14px;margin:8px 0}
table{border-collapse:collapse;width:100%;font-size:13px}
td,th{padding:4px 8px;border-bottom:1px solid #e6eaef;text-align:right}
td:first-child,th:first-child{text-align:left}
svg text{font:12px system-ui,sans-serif;fill:#1d2733}
svg .muted{fill:#55606e}
.legend span{display:inline-block;margin-right:16px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
.note{color:#55606e;font-size:12px}
"""


# --- what the pictures show -------------------------------------------------------------------------------
def combinations(profiles: Sequence[Profile]) -> list[tuple[str, int]]:
    """Customers per combination of tools, largest first: ``("HubSpot + Shopify", 412)``."""
    counts: Counter[tuple[str, ...]] = Counter()
    for profile in profiles:
        tools = tuple(sorted({ref.source for ref in profile.sources}))
        counts[tools] += 1
    order = sorted(counts.items(), key=lambda kv: (-len(kv[0]), -kv[1]))
    return [
        (" + ".join(tool_label(t) for t in tools) + (" only" if len(tools) == 1 else ""), n)
        for tools, n in order
    ]


def ltv_histograms(profiles: Sequence[Profile]) -> dict[str, list[tuple[str, int]]]:
    """Per primary currency, customers per lifetime-value bin (in that currency)."""
    labels = [f"<{LTV_BINS[0]}"] + [f"{lo}-{hi}" for lo, hi in pairwise(LTV_BINS)]
    labels.append(f"{LTV_BINS[-1]}+")
    out: dict[str, list[int]] = {}
    for profile in profiles:
        currency = primary_currency(profile)
        if currency is None:
            continue
        value = profile.computed.lifetime_value[currency]
        index = next((i for i, bound in enumerate(LTV_BINS) if value < bound), len(LTV_BINS))
        out.setdefault(currency, [0] * len(labels))[index] += 1
    return {c: list(zip(labels, counts, strict=True)) for c, counts in sorted(out.items())}


def segments(profiles: Sequence[Profile]) -> list[tuple[str, int]]:
    counts = Counter(profile.computed.segment for profile in profiles)
    return counts.most_common()


# --- the page ----------------------------------------------------------------------------------------------
def render(result: DemoResult, *, generated: datetime) -> str:
    first, second = result.rounds
    profiles = result.profiles
    records = sum(result.records.values())
    quarantined = sum(sum(c.values()) for c in result.quarantine.values())
    no_orders = sum(1 for p in profiles if not p.computed.lifetime_value)
    cards = [
        (f"{result.people:,}", "people seeded in the sandboxes"),
        (f"{len(profiles):,}", "customer profiles"),
        (f"{records:,}", "source records merged into them"),
        (f"{records - len(profiles):,}", "duplicates collapsed"),
        (f"{quarantined:,}", "records quarantined"),
        (f"{first.seconds:.0f} s / {second.seconds:.0f} s", "round 1 / round 2"),
    ]
    body = [
        "<header><h1>profilesync demo</h1>",
        f"<p>{result.people:,} generated people (seed {result.seed}) across HubSpot, Mailchimp and Shopify "
        f"sandboxes, merged through the Lambda handlers on an embedded AWS. Generated "
        f"{escape(generated.strftime('%Y-%m-%d %H:%M UTC'))}.</p></header><main>",
        '<div class="cards">'
        + "".join(f'<div class="card"><b>{escape(v)}</b><span>{escape(t)}</span></div>' for v, t in cards)
        + "</div>",
    ]
    body.append(
        '<section id="combinations"><h2>Customers by combination of tools</h2>'
        '<p class="lead">Where each customer is known: one profile per person, whichever tools hold them.</p>'
        + bar_chart(combinations(profiles))
        + "</section>"
    )
    histograms = ltv_histograms(profiles)
    charts = "".join(
        f"<div><h3>{escape(currency)} (primary currency of {sum(n for _, n in bins):,} customers)</h3>"
        f"{column_chart(bins)}</div>"
        for currency, bins in histograms.items()
    )
    body.append(
        '<section id="lifetime-value"><h2>Lifetime value</h2>'
        '<p class="lead">Customers per lifetime-value band, in the currency each spent most in; '
        f"{no_orders:,} profiles have no orders yet.</p>"
        f'<div class="grid">{charts or "<p class=note>no orders</p>"}</div></section>'
    )
    body.append(
        '<section id="segments"><h2>Segments</h2>'
        '<p class="lead">The segment computed from each customer\'s orders, as pushed to every tool.</p>'
        + bar_chart([(s, n) for s, n in segments(profiles)], colour="#6d5ba8")
        + "</section>"
    )
    quality = []
    for name in result.tools:
        reasons = result.quarantine.get(name, Counter())
        dropped = result.dropped.get(name, Counter())
        label = tool_label(name)
        colour = COLOURS.get(name, OTHER_COLOUR)
        quality.append(
            f"<div><h3>{escape(label)}: {sum(reasons.values()):,} records quarantined</h3>"
            + bar_chart(reasons.most_common(6), colour=colour, label_width=330)
            + f"<h3>{escape(label)}: {sum(dropped.values()):,} values dropped from kept records</h3>"
            + bar_chart(dropped.most_common(6), colour=colour, label_width=330)
            + "</div>"
        )
    body.append(
        '<section id="data-quality"><h2>Data quality per source</h2>'
        '<p class="lead">Records that could not be used (quarantined with a reason), and values left '
        "out of records that were kept (an invalid phone, an unknown country...).</p>"
        + "".join(quality)
        + "</section>"
    )
    if result.identity is not None:
        from profilesync.report_identity import identity_section

        body.append(identity_section(result.identity))
    body.append(_monitoring(result))
    metrics = [
        ("records pulled", [float(first.pulled), float(second.pulled)]),
        ("records quarantined", [float(first.quarantined), float(second.quarantined)]),
        ("records written", [float(first.metric("RecordsMerged")), float(second.metric("RecordsMerged"))]),
        ("new customers", [float(first.metric("NewCustomers")), float(second.metric("NewCustomers"))]),
    ]
    metrics += [
        (f"pushed to {tool_label(n)}", [float(first.pushed(n)), float(second.pushed(n))])
        for n in result.tools
    ]
    changed = sum(second.changed_in_tools.values())
    body.append(
        '<section id="rounds"><h2>Round 1 against round 2</h2>'
        f'<p class="lead">Round 2 ran after {changed:,} records were changed or added in the tools. Its pull '
        "also brings back the records round 1 pushed to (their modified time moved); those rebuild the "
        "same payloads and are not pushed again.</p>"
        + grouped_bars(
            [m for m, _ in metrics],
            [
                ("round 1 (full)", ACCENT, [v[0] for _, v in metrics]),
                ("round 2 (incremental)", SECOND, [v[1] for _, v in metrics]),
            ],
        )
        + _rounds_table(result)
        + "</section>"
    )
    body.extend(f'<p class="note">{escape(note)}</p>' for note in result.notes)
    body.append("</main>")
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>profilesync demo report</title><style>{CSS}</style></head><body>"
        + "".join(body)
        + "</body></html>\n"
    )


def _percent(value: object) -> str:
    return f"{value:.1f}%" if isinstance(value, int | float) else "-"


def _jump(quality: dict[str, object]) -> str:
    jump = quality.get("jump")
    if isinstance(jump, int | float):
        flag = " (alarm)" if jump >= JUMP_ALARM_POINTS else ""
        return f"{jump:+.1f} points{flag}"
    pulled = quality.get("pulled", 0)
    if isinstance(pulled, int) and pulled < JUMP_MIN_RECORDS:
        return f"not compared (under {JUMP_MIN_RECORDS} records)"
    return "first comparable run"


def _monitoring(result: DemoResult) -> str:
    """What the pull and merge functions publish per source and run (core.governance.quality)."""
    rounds = result.rounds
    rows = [
        "<table><tr><th>source, round</th><th>pulled</th><th>quarantined</th><th>change since the "
        "last comparable run</th><th>values dropped</th><th>identifiers refused</th>"
        "<th>no email consent</th></tr>"
    ]
    shares: list[tuple[str, str, list[float]]] = []
    for index, report in enumerate(rounds):
        values = []
        for name in result.tools:
            quality = report.quality.get(name, {})
            share = quality.get("quarantine_share")
            values.append(float(share) if isinstance(share, int | float) else 0.0)
            dropped = quality.get("dropped", {})
            rows.append(
                f"<tr><td>{escape(tool_label(name))}, {escape(report.name)}</td>"
                f"<td>{int(quality.get('pulled', 0)):,}</td>"
                f"<td>{_percent(share)}</td><td>{escape(_jump(quality))}</td>"
                f"<td>{sum(dropped.values()) if isinstance(dropped, dict) else 0:,}</td>"
                f"<td>{report.metric('IdentifiersRefused', connector=name):,}</td>"
                f"<td>{_percent(quality.get('no_email_consent_share'))}</td></tr>"
            )
        shares.append((report.name, (ACCENT, SECOND)[index % 2], values))
    rows.append("</table>")
    return (
        '<section id="monitoring"><h2>Data-quality monitoring per run</h2>'
        '<p class="lead">What the pull and merge functions publish for each source and run (metrics, and '
        "the connector's run report): the share of records quarantined, its change since the last run of "
        f"at least {JUMP_MIN_RECORDS} records (the QuarantineShareJump alarm fires at "
        f"+{JUMP_ALARM_POINTS:g} points), values dropped from kept records, identifiers the guardrails "
        "refused to match on, and people-level records without a granted email consent.</p>"
        "<h3>Share of records quarantined (%)</h3>"
        + grouped_bars([tool_label(n) for n in result.tools], shares)
        + "".join(rows)
        + "</section>"
    )


def _rounds_table(result: DemoResult) -> str:
    rows = ["<table><tr><th></th><th>round 1</th><th>round 2</th></tr>"]
    first, second = result.rounds
    lines = [
        ("merge messages", first.merge.messages, second.merge.messages),
        ("merges of customers", first.metric("Merges"), second.metric("Merges")),
        ("profile changes on the stream", first.metric("ProfilesChanged"), second.metric("ProfilesChanged")),
        ("people updated in the tools", first.metric("PushUpdated"), second.metric("PushUpdated")),
        ("people created in the tools", first.metric("PushCreated"), second.metric("PushCreated")),
        (
            "pushes skipped (payload unchanged)",
            first.metric("PushSkippedUnchanged"),
            second.metric("PushSkippedUnchanged"),
        ),
        (
            "pushes skipped (update mode: the tool does not hold them)",
            first.metric("PushSkippedByMode"),
            second.metric("PushSkippedByMode"),
        ),
        (
            "pushes skipped (no consent for the tool's channel)",
            first.metric("PushSkippedByConsent"),
            second.metric("PushSkippedByConsent"),
        ),
        ("profiles at the end", first.profiles, second.profiles),
    ]
    for label, a, b in lines:
        rows.append(f"<tr><td>{escape(label)}</td><td>{a:,}</td><td>{b:,}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def write_report(result: DemoResult, path: Path, *, generated: datetime) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(result, generated=generated), encoding="utf-8")
    return path


__all__ = [
    "LABELS",
    "SECTION_IDS",
    "bar_chart",
    "column_chart",
    "combinations",
    "grouped_bars",
    "ltv_histograms",
    "primary_currency",
    "render",
    "segments",
    "write_report",
]
