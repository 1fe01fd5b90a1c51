"""The review queue as a person reads it (core.link_review ``pending``): one summary per pair, and
the lines the CLI prints. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.link_index import ReviewItem

__all__ = ["MAX_LISTED", "review_lines", "review_summary"]

#: How many reviews one listing returns at most.
MAX_LISTED = 1000


def review_summary(item: ReviewItem) -> dict[str, Any]:
    """One review as the list shows it: pair id, both records, the score with per-field weights, the
    matcher's reason, since when, and (once decided) the decision."""
    decision = dict(item.decision)
    score = decision.get("score") or {}
    summary: dict[str, Any] = {
        "pair": item.pair_id,
        "records": [item.a, item.b],
        "status": item.status,
        "reason": decision.get("reason", ""),
        "score": score.get("probability"),
        "weight": score.get("weight"),
        "fields": [
            {"field": f.get("field"), "level": f.get("level"), "weight": f.get("weight")}
            for f in score.get("fields", [])
        ],
        "conflicts": list(decision.get("conflicts", [])),
        "model": item.model,
        "since": item.created_at.isoformat(),
    }
    if item.status != "pending":
        summary["decided_by"] = item.decided_by
        summary["decided_at"] = item.decided_at.isoformat() if item.decided_at else None
        summary["note"] = item.note
    return summary


def review_lines(summaries: Sequence[dict[str, Any]]) -> list[str]:
    """The list for a person to read: one block per pair, its fields strongest evidence first."""
    if not summaries:
        return ["no pairs wait for review"]
    lines: list[str] = []
    for s in summaries:
        score = "-" if s["score"] is None else f"{s['score']:.4f}"
        lines.append(f"{s['pair']}  score {score}  since {s['since'][:19]}")
        lines.append(f"  {s['records'][0]}  ~  {s['records'][1]}")
        lines.append(f"  {s['reason']}")
        fields = sorted(s["fields"], key=lambda f: -abs(float(f.get("weight") or 0.0)))
        if fields:
            lines.append(
                "  " + ", ".join(f"{f['field']} {f['level']} {float(f['weight'] or 0):+.2f}" for f in fields)
            )
        lines += [f"  conflict: {c.get('field')}: {c.get('reason')}" for c in s["conflicts"]]
    return lines
