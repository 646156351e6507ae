"""Charts drawn on the server as inline SVG: no chart library, no CDN, nothing to download.

The console must work on a closed network and on a phone, so a chart is a small `<svg>` that
scales with its container (viewBox), with a `<title>` per bar for the exact figure.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 900
HEIGHT = 240
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 64, 8, 26, 40
#: Day labels on a phone: the chart shrinks ~2.5×, its labels grow to stay readable (the
#: stylesheet), so only about this many fit under the axis.
PHONE_LABELS = 6


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 × 10^n at or above `value` (a readable top for the axis)."""
    top = 1
    while True:
        for step in (1, 2, 5):
            if step * top >= value:
                return step * top
        top *= 10


def bar_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int], str]],
    *,
    title: str,
) -> Markup:
    """Grouped bars: one group per label, one bar per (name, values, css class) series."""
    peak = nice_ceiling(max([1, *(v for _, values, _ in series for v in values)]))
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    group_w = plot_w / max(1, len(labels))
    bar_w = group_w * 0.8 / max(1, len(series))
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    ticks = (0, peak // 2, peak) if peak % 2 == 0 else (0, peak)  # whole numbers only
    for tick in ticks:
        y = PAD_TOP + plot_h * (1 - tick / peak)
        parts.append(
            f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" '
            f'y2="{y:.1f}"/><text class="axis" x="{PAD_LEFT - 4}" y="{y + 4:.1f}" '
            f'text-anchor="end">{tick}</text>'
        )
    every = max(1, len(labels) // 10)  # at most ~10 day labels, or they overlap
    phone_every = max(every, -(-len(labels) // PHONE_LABELS))
    for i, label in enumerate(labels):
        x0 = PAD_LEFT + i * group_w + group_w * 0.1
        for j, (name, values, css) in enumerate(series):
            value = values[i]
            h = plot_h * value / peak
            x = x0 + j * bar_w
            parts.append(
                f'<rect class="{escape(css)}" x="{x:.1f}" y="{PAD_TOP + plot_h - h:.1f}" '
                f'width="{max(bar_w - 1, 1):.1f}" height="{h:.1f}">'
                f"<title>{escape(label)} {escape(name)}: {value}</title></rect>"
            )
        if i % every == 0:
            minor = "" if i % phone_every == 0 else " minor"  # hidden on a phone
            parts.append(
                f'<text class="axis day{minor}" x="{PAD_LEFT + (i + 0.5) * group_w:.1f}" '
                f'y="{HEIGHT - 8}" text-anchor="middle">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def ranking(items: Sequence[tuple[str, int]], *, empty: str = "暂无数据") -> Markup:
    """A ranked list with proportional bars (keywords, message types, menu clicks)."""
    if not items:
        return Markup(f'<p class="empty">{escape(empty)}</p>')
    peak = max(count for _, count in items) or 1
    rows = [
        f'<li><span class="name">{escape(name)}</span>'
        f'<span class="bar" style="width:{100 * count / peak:.0f}%"></span>'
        f'<span class="count">{count}</span></li>'
        for name, count in items
    ]
    return Markup('<ol class="ranking">' + "".join(rows) + "</ol>")
