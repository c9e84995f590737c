"""The audit page's charts as inline SVG: bars per name, and columns of activity over time.

Inline SVG keeps the page self-contained (no scripts or images from anywhere).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ledger.reports.html_cells import esc

TYPE_COLOURS = [
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#1f77b4",
    "#17becf",
    "#8c564b",
    "#bcbd22",
]

LEVEL_COLOURS = {
    "debug": "#98a2b3",
    "info": "#4e79a7",
    "warning": "#edc948",
    "error": "#e15759",
    "critical": "#8b1e1e",
}


def bar_chart_svg(
    items: Sequence[tuple[str, int]],
    title: str,
    width: int = 560,
    colours: Mapping[str, str] | None = None,
) -> str:
    """Horizontal bars, one per item, labelled with name and count."""
    if not items:
        return '<p class="muted">Nothing to chart.</p>'
    row, label_w = 24, 150
    height = row * len(items) + 10
    top = max(v for _, v in items) or 1
    parts = [
        f'<svg class="chart" role="img" aria-label="{esc(title)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{esc(title)}</title>"
    ]
    for i, (name, value) in enumerate(items):
        y = 5 + i * row
        bar = max(2.0, (width - label_w - 60) * value / top)
        colour = (colours or {}).get(name) or TYPE_COLOURS[i % len(TYPE_COLOURS)]
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" class="lbl">{esc(name)}'
            f'</text><rect x="{label_w}" y="{y + 3}" width="{bar:.1f}" height="{row - 8}" '
            f'rx="3" fill="{colour}"><title>{esc(name)}: {value}</title></rect>'
            f'<text x="{label_w + bar + 6:.1f}" y="{y + 16}" class="val">{value}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def activity_svg(
    activity: Sequence[tuple[str, int, int]], bucket: str, width: int = 1100, height: int = 220
) -> str:
    """Columns of entries per time bucket, with the errors among them in red."""
    if not activity or not any(total for _, total, _ in activity):
        return '<p class="muted">No activity in the period.</p>'
    left, bottom, top_pad = 40, 40, 10
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    peak = max(total for _, total, _ in activity) or 1
    step = plot_w / len(activity)
    bar_w = min(48.0, max(1.0, step * 0.8))
    parts = [
        f'<svg class="chart" role="img" aria-label="Entries per {bucket}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>Entries per {esc(bucket)}</title>"
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 10}" y2="{top_pad + plot_h}" '
        'class="axis"/>'
        f'<text x="{left - 6}" y="{top_pad + 10}" text-anchor="end" class="val">{peak}</text>'
        f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end" class="val">0</text>'
    ]
    label_every = max(1, len(activity) // 8)
    for i, (key, total, errs) in enumerate(activity):
        x = left + i * step + (step - bar_w) / 2
        h = plot_h * total / peak
        eh = plot_h * errs / peak
        tip = f"{key}: {total} entries, {errs} errors"
        if total:
            parts.append(
                f'<rect x="{x:.1f}" y="{top_pad + plot_h - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="#4e79a7"><title>{esc(tip)}</title></rect>'
            )
        if errs:
            parts.append(
                f'<rect x="{x:.1f}" y="{top_pad + plot_h - eh:.1f}" width="{bar_w:.1f}" '
                f'height="{eh:.1f}" fill="#e15759"><title>{esc(tip)}</title></rect>'
            )
        if i % label_every == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{top_pad + plot_h + 16}" '
                f'text-anchor="middle" class="tick">{esc(key)}</text>'
            )
    parts.append(
        f'<rect x="{width - 210}" y="{height - 16}" width="10" height="10" fill="#4e79a7"/>'
        f'<text x="{width - 196}" y="{height - 7}" class="tick">entries</text>'
        f'<rect x="{width - 130}" y="{height - 16}" width="10" height="10" fill="#e15759"/>'
        f'<text x="{width - 116}" y="{height - 7}" class="tick">errors</text></svg>'
    )
    return "".join(parts)
