"""The demo report's identity section: one customer's identity graph drawn, and the distribution of
match scores with the review and link thresholds marked. Inline SVG only (no script, no fetch).

``identity_picture`` reads what it needs while the demo's runtime is up: the customer to draw (one
joined by a fuzzy link when the demo resolves probabilistically, else one known in the most tools)
and its explanation (core.link_explain, the same as ``profilesync explain``), and the match weight
of every candidate pair of the stored records under the model (the one ingest used, or the default
model when the demo resolves by exact identifiers: then the chart shows what probabilistic identity
would make of the same records). ``identity_section`` renders it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.pipeline import IngestSettings
    from core.ports import ProfileStore
    from core.schema import Profile, SourceRecord

__all__ = ["IdentityPicture", "graph_svg", "identity_picture", "identity_section", "score_histogram"]

#: The records of the customer drawn, at most (a graph of more is unreadable).
MAX_DRAWN = 12
#: Match-weight bins of the histogram (log2 odds), lowest to highest; outside ones are clamped.
WEIGHT_RANGE = (-24, 40)
BIN_WIDTH = 2

EDGE_STYLE = {
    "identifier": ("#3b6ea8", ""),
    "owner": ("#7a869a", ""),
    "fuzzy": ("#d9822b", "6 4"),
    "review": ("#2e8b57", "2 3"),
}
REFUSED_STYLE = ("#c0392b", "2 4")
#: Object types of child records (orders, charges): a customer is ranked by its people-level records.
CHILD_TYPES = frozenset({"order", "charge", "invoice", "subscription"})
TOOL_COLOURS = {"hubspot": "#ff7a59", "mailchimp": "#c9a400", "shopify": "#5e8e3e", "salesforce": "#00a1e0"}


@dataclass
class IdentityPicture:
    """What the identity section shows (see the module docstring)."""

    mode: str
    explanation: dict[str, Any] | None
    weights: list[float] = field(default_factory=list)
    review: float = 0.8
    link: float = 0.99
    model: str = "default"


def identity_picture(
    store: ProfileStore,
    profiles: Sequence[Profile],
    sources: Sequence[SourceRecord],
    settings: IngestSettings | None,
) -> IdentityPicture:
    """Choose the customer to draw, explain it, and weigh every candidate pair of ``sources``."""
    from core.link_explain import customer_explanation
    from core.linkage import candidate_pairs, default_model, from_source_record, match_weight

    linkage = settings.linkage if settings is not None else None
    model = linkage.model if linkage is not None and linkage.model is not None else default_model()
    mode = "probabilistic" if linkage is not None else "exact"
    explanation = None
    for customer_id in _candidates(profiles):
        state = store.get_customers([customer_id]).get(customer_id)
        if state is None or state.merged_into:
            continue
        explained = customer_explanation(store, state, settings)
        if mode == "exact" or any(e["kind"] in ("fuzzy", "review") for e in explained["edges"]):
            explanation = explained
            break
        explanation = explanation or explained
    people = [from_source_record(r) for r in sources if r.level == "person"]
    found = candidate_pairs(people, model.max_block_size)
    weights = [match_weight(people[x], people[y], model) for x, y in sorted(found.pairs)]
    return IdentityPicture(
        mode,
        explanation,
        weights,
        model.thresholds.review,
        model.thresholds.link,
        (linkage.model_name if linkage is not None else "") or "default",
    )


def _candidates(profiles: Sequence[Profile]) -> list[str]:
    """Customers worth drawing, best first: known in the most tools, then with the most records
    (up to ``MAX_DRAWN``); the first 50 are tried."""

    def rank(p: Profile) -> tuple[int, int, int, str]:
        people = [s for s in p.sources if s.object_type not in CHILD_TYPES]
        return (-len({s.source for s in people}), -len(people), len(p.sources), p.customer_id)

    fitting = [p for p in profiles if 2 <= len(p.sources) <= MAX_DRAWN]
    return [p.customer_id for p in sorted(fitting, key=rank)[:50]]


def _weight(probability: float) -> float:
    probability = min(max(probability, 1e-12), 1 - 1e-12)
    return math.log2(probability / (1 - probability))


def score_histogram(weights: Sequence[float], review: float, link: float) -> str:
    """Candidate pairs per match-weight bin (log-scaled bars), the review and link thresholds as lines."""
    if not weights:
        return '<p class="note">no candidate pairs</p>'
    low, high = WEIGHT_RANGE
    bins = [0] * ((high - low) // BIN_WIDTH)
    for w in weights:
        index = int((min(max(w, low), high - 1e-9) - low) // BIN_WIDTH)
        bins[index] += 1
    width, height, base, left = 720, 230, 190, 40
    step = (width - left - 10) / len(bins)
    top = math.log10(max(bins) + 1)

    def x_of(weight: float) -> float:
        return left + (min(max(weight, low), high) - low) / BIN_WIDTH * step

    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="match scores">']
    for i, count in enumerate(bins):
        if not count:
            continue
        h = (base - 30) * math.log10(count + 1) / top
        start = low + i * BIN_WIDTH
        colour = "#2e8b57" if start >= _weight(link) else "#d9822b" if start >= _weight(review) else "#9bb7d4"
        parts.append(
            f'<rect x="{left + i * step + 1:.1f}" y="{base - h:.1f}" width="{step - 2:.1f}" height="{h:.1f}" '
            f'fill="{colour}"><title>weight {start} to {start + BIN_WIDTH}: {count:,} pairs</title></rect>'
        )
    parts.extend(
        f'<text x="{x_of(tick):.1f}" y="{base + 16}" text-anchor="middle" class="muted">{tick}</text>'
        for tick in range(low, high + 1, 8)
    )
    for name, probability in (("review", review), ("link", link)):
        x = x_of(_weight(probability))
        parts.append(
            f'<line x1="{x:.1f}" y1="12" x2="{x:.1f}" y2="{base}" stroke="#1d2733" stroke-dasharray="4 3"/>'
            f'<text x="{x + 4:.1f}" y="{22 if name == "review" else 36}">{name} {probability:g}</text>'
        )
    parts.append(
        f'<text x="{left + (width - left) / 2:.0f}" y="{base + 34}" text-anchor="middle" class="muted">'
        "match weight (log2 odds that the two records are one person); bar heights on a log scale</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def _short(reason: str, kind: str) -> str:
    """An edge's label: its kind of evidence, never an identifier value (the report is shared)."""
    if kind == "identifier":
        return " ".join(reason.split()[:2])  # "shared email"
    if kind == "owner":
        return "owner id"
    return reason if len(reason) <= 40 else reason[:37] + "..."


def _node_label(key: str) -> str:
    """``tool:type:id`` with a long id cut (a Mailchimp member id is a 32-digit hash)."""
    head, _, tail = key.rpartition(":")
    return f"{head}:{tail[:8]}..." if len(tail) > 12 else key


def graph_svg(explanation: dict[str, Any]) -> str:
    """The customer's records on a circle, each edge with its kind and reason, refusals in red."""
    records = list(explanation["records"])
    edges = list(explanation["edges"])
    refused = [r for r in explanation["refused"] if set(r["records"]) <= set(records)]
    others = sorted(
        {k for r in explanation["refused"] for k in r["records"]} - set(records),
    )[:4]
    nodes = records + others
    width, height = 720, 380
    cx, cy, radius = width / 2, height / 2, min(width, height) / 2 - 60
    place: dict[str, tuple[float, float]] = {}
    for i, key in enumerate(nodes):
        angle = 2 * math.pi * i / max(1, len(nodes)) - math.pi / 2
        place[key] = (cx + radius * 1.5 * math.cos(angle), cy + radius * math.sin(angle))
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="identity graph">']

    def line(a: str, b: str, colour: str, dash: str, label: str) -> None:
        (x1, y1), (x2, y2) = place[a], place[b]
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" '
            f'stroke-width="2"{dashed}><title>{escape(label)}</title></line>'
        )
        if label:
            parts.append(
                f'<text x="{(x1 + x2) / 2:.1f}" y="{(y1 + y2) / 2 - 4:.1f}" text-anchor="middle" '
                f'class="muted">{escape(label)}</text>'
            )

    # One line per pair of records, naming every reason that joins them; an exact join lists
    # every record holding the value: drawn as a star from its first holder (or from the owner,
    # for a child's owner id).
    joined: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for edge in edges:
        held = [k for k in edge["records"] if k in place]
        owner = str(edge.get("identifier", "")).removeprefix("source#")
        hub = owner if owner in held else held[0] if held else ""
        score = edge.get("score") or {}
        label = _short(edge["reason"], edge["kind"])
        if score.get("probability") is not None and "score" not in label:
            label += f" ({score['probability']:.3f})"
        fields = sorted(score.get("fields", []), key=lambda f: -float(f.get("weight") or 0.0))[:2]
        if fields:
            label += ": " + ", ".join(str(f["field"]).replace("_", " ") for f in fields)
        for other in held:
            if other != hub:
                joined.setdefault((hub, other), []).append((edge["kind"], label))
    for (a, b), reasons in sorted(joined.items()):
        kinds = [kind for kind, _ in reasons]
        kind = next((k for k in ("review", "fuzzy") if k in kinds), kinds[0])
        colour, dash = EDGE_STYLE.get(kind, EDGE_STYLE["identifier"])
        line(a, b, colour, dash, ", ".join(dict.fromkeys(label for _, label in reasons)))
    for refusal in refused + [r for r in explanation["refused"] if r not in refused][:4]:
        a, b = refusal["records"]
        if a in place and b in place:
            line(a, b, *REFUSED_STYLE, f"refused: {refusal['kind']}")
    for key in nodes:
        x, y = place[key]
        tool = key.split(":", 1)[0]
        own = key in records
        fill = TOOL_COLOURS.get(tool, "#7a869a") if own else "#fff"
        outline = "" if own else ' stroke-dasharray="2 2"'  # a record of another customer
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9" fill="{fill}" stroke="#1d2733"'
            f"{outline}><title>{escape(key)}</title></circle>"
            f'<text x="{x:.1f}" y="{y + 24:.1f}" text-anchor="middle">{escape(_node_label(key))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def identity_section(picture: IdentityPicture) -> str:
    """The report's ``identity`` section."""
    review, link = picture.review, picture.link
    pairs = len(picture.weights)
    linked = sum(1 for w in picture.weights if w >= _weight(link))
    reviewed = sum(1 for w in picture.weights if _weight(review) <= w < _weight(link))
    if picture.mode == "probabilistic":
        scored = (
            f"The candidate pairs of the stored records under the model ingest used ({escape(picture.model)})"
        )
    else:
        scored = (
            "The demo resolved by exact identifiers; the chart scores the candidate pairs of the stored "
            "records with the default probabilistic model, to show what identity.mode: probabilistic would do"
        )
    parts = [
        '<section id="identity"><h2>Identity</h2>',
        f'<p class="lead">{scored}: {pairs:,} pairs, {linked:,} at or above the link threshold, '
        f"{reviewed:,} between the thresholds (a person reviews them), the rest below.</p>",
        score_histogram(picture.weights, review, link),
    ]
    explained = picture.explanation
    if explained is not None:
        kinds = sorted({e["kind"] for e in explained["edges"]})
        who, mode = escape(explained["customer_id"]), escape(explained["mode"])
        parts.append(
            f"<h3>Why customer {who} is one person ({mode} identity): {len(explained['records'])} "
            f"records, edges by {escape(', '.join(kinds) or 'none')}</h3>"
        )
        parts.append(graph_svg(explained))
        legend = [
            ("shared identifier", EDGE_STYLE["identifier"][0]),
            ("fuzzy link (score)", EDGE_STYLE["fuzzy"][0]),
            ("accepted review", EDGE_STYLE["review"][0]),
            ("owner id", EDGE_STYLE["owner"][0]),
            ("refused", REFUSED_STYLE[0]),
        ]
        parts.append(
            '<p class="legend">'
            + "".join(f'<span><i style="background:{c}"></i>{escape(t)}</span>' for t, c in legend)
            + "</p>"
        )
        parts.append(
            '<p class="note">The same answer as <code>profilesync explain --customer '
            f"{escape(explained['customer_id'])}</code> on the store.</p>"
        )
    parts.append("</section>")
    return "".join(parts)
