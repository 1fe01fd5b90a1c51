"""The demo report's charts: horizontal bars, a histogram's columns, and bars grouped per category,
each drawn as inline SVG (no script, no fetch) with its values written beside the bars.

profilesync.report lays them out on the page and re-exports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

ACCENT = "#3b6ea8"
SECOND = "#9bb7d4"


def _fmt(value: float) -> str:
    return f"{value:,.0f}"


def bar_chart(rows: Sequence[tuple[str, float]], *, colour: str = ACCENT, label_width: int = 230) -> str:
    """Horizontal bars, one per ``(label, value)``, with the value at the end of each bar."""
    if not rows:
        return '<p class="note">none</p>'
    bar_height, gap, width = 20, 6, 720
    plot = width - label_width - 70
    top = max(v for _, v in rows) or 1
    height = len(rows) * (bar_height + gap)
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img">']
    for i, (label, value) in enumerate(rows):
        y = i * (bar_height + gap)
        length = max(1.0, plot * value / top) if value else 0.0
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 14}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" rx="3" '
            f'fill="{colour}">'
            f"<title>{escape(label)}: {_fmt(value)}</title></rect>"
            f'<text x="{label_width + length + 6:.1f}" y="{y + 14}" class="muted">{_fmt(value)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def column_chart(bins: Sequence[tuple[str, float]], *, colour: str = ACCENT) -> str:
    """Vertical columns (a histogram), labelled below, counts above."""
    if not bins:
        return '<p class="note">none</p>'
    width, height, base = 460, 200, 170
    step = width / len(bins)
    top = max(v for _, v in bins) or 1
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img">']
    for i, (label, value) in enumerate(bins):
        h = (base - 20) * value / top
        x = i * step + 4
        parts.append(
            f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{step - 8:.1f}" height="{h:.1f}" rx="2" '
            f'fill="{colour}">'
            f"<title>{escape(label)}: {_fmt(value)}</title></rect>"
            f'<text x="{x + (step - 8) / 2:.1f}" y="{base - h - 4:.1f}" text-anchor="middle" class="muted">'
            f"{_fmt(value)}</text>"
            f'<text x="{x + (step - 8) / 2:.1f}" y="{base + 16}" text-anchor="middle">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def grouped_bars(
    categories: Sequence[str], series: Sequence[tuple[str, str, Sequence[float]]], *, label_width: int = 200
) -> str:
    """Horizontal bars grouped per category; ``series`` is ``(name, colour, values)``."""
    bar_height, gap, width = 14, 10, 720
    plot = width - label_width - 70
    top = max((v for _, _, values in series for v in values), default=1) or 1
    group = bar_height * len(series) + gap
    height = len(categories) * group
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img">']
    for i, category in enumerate(categories):
        y0 = i * group
        parts.append(
            f'<text x="{label_width - 8}" y="{y0 + bar_height * len(series) / 2 + 4:.1f}" '
            f'text-anchor="end">{escape(category)}</text>'
        )
        for j, (name, colour, values) in enumerate(series):
            value = values[i]
            y = y0 + j * bar_height
            length = max(1.0, plot * value / top) if value else 0.0
            parts.append(
                f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height - 2}" rx="2" '
                f'fill="{colour}"><title>{escape(category)}, {escape(name)}: {_fmt(value)}</title></rect>'
                f'<text x="{label_width + length + 6:.1f}" y="{y + 11}" class="muted">{_fmt(value)}</text>'
            )
    parts.append("</svg>")
    legend = "".join(
        f'<span><i style="background:{colour}"></i>{escape(name)}</span>' for name, colour, _ in series
    )
    return f'<div class="legend">{legend}</div>' + "".join(parts)


__all__ = ["ACCENT", "SECOND", "bar_chart", "column_chart", "grouped_bars"]
