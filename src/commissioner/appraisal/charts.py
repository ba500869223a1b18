"""Server-side SVG bar charts (no JavaScript; the same markup works in the page and the PDF). The page always
shows the figures as a table beside the chart, so the SVG is hidden from assistive technology."""

from html import escape

from django.utils.safestring import mark_safe

WIDTH, LABEL, ROW = 680, 270, 30


def bars(items, fmt, title):
    """Horizontal bars for (label, value) pairs; negative values go left of the zero line."""
    items = [(str(label), float(value)) for label, value in items]
    if not items:
        return ""
    low, high = min(0.0, *(v for _, v in items)), max(0.0, *(v for _, v in items))
    span = (high - low) or 1.0
    plot = WIDTH - LABEL - 110
    zero = LABEL + (0 - low) / span * plot
    height = ROW * len(items) + 10
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
             f'height="{height}" focusable="false" aria-hidden="true"><title>{escape(title)}</title>')]
    for i, (label, value) in enumerate(items):
        y = 5 + i * ROW
        x0 = zero if value >= 0 else zero - (-value) / span * plot
        w = abs(value) / span * plot
        short = label if len(label) <= 34 else label[:33] + "\u2026"
        parts.append(f'<text x="0" y="{y + 17}" font-size="14" fill="#0b0c0c">{escape(short)}</text>')
        parts.append(f'<rect x="{x0:.1f}" y="{y}" width="{max(w, 1):.1f}" height="22" '
                     f'fill="{"#1d70b8" if value >= 0 else "#d4351c"}"></rect>')
        parts.append(f'<text x="{max(x0 + w, zero) + 6:.1f}" y="{y + 17}" font-size="14" fill="#0b0c0c">'
                     f'{escape(fmt(value))}</text>')
    parts.append(f'<line x1="{zero:.1f}" y1="0" x2="{zero:.1f}" y2="{height}" stroke="#0b0c0c"></line></svg>')
    return mark_safe("".join(parts))
