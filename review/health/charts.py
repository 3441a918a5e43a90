"""Trend charts as inline SVG (no script, no CDN): plain functions of (date, value) points."""

import datetime

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

Point = tuple[datetime.date, float]


def _scale(points: list[Point], *, width: int, height: int, maximum: float,
           pad: int) -> list[tuple[float, float]]:
    if not points:
        return []
    count = max(1, len(points) - 1)
    top = max(maximum, max(value for _day, value in points)) or 1
    return [(pad + (width - 2 * pad) * index / count,
             height - pad - (height - 2 * pad) * value / top)
            for index, (_day, value) in enumerate(points)]


def sparkline(points: list[Point], *, width: int = 120, height: int = 28) -> SafeString:
    if len(points) < 2:
        return mark_safe('<span class="help">（数据不足）</span>')
    xy = _scale(points, width=width, height=height, maximum=100, pad=2)
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    return format_html(
        '<svg width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-label="得分趋势">'
        '<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{}"/></svg>',
        width, height, width, height, path)


def line_chart(points: list[Point], *, maximum: float, label: str,
               lines: tuple[float, ...] = (), width: int = 640,
               height: int = 180) -> SafeString:
    """A line over days with its first and last day written below and horizontal marks at
    ``lines`` (the warning and veto lines)."""
    if not points:
        return mark_safe('<p class="help">暂无历史数据（每天生成一次快照后显示趋势）。</p>')
    pad = 24
    top = max(maximum, max(value for _day, value in points)) or 1
    xy = _scale(points, width=width, height=height, maximum=maximum, pad=pad)
    def y_of(value: float) -> str:
        return f"{height - pad - (height - 2 * pad) * value / top:.1f}"

    # Numbers are formatted before format_html, which hands its arguments over as strings.
    marks = format_html_join("", (
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#cd4444" stroke-dasharray="4 3"/>'
        '<text x="{}" y="{}" font-size="10" fill="#cd4444">{}</text>'), (
        (pad, width - pad, y_of(line), y_of(line), width - pad + 2, y_of(line), line)
        for line in lines))
    dots = format_html_join("", '<circle cx="{}" cy="{}" r="2"><title>{}：{}</title></circle>',
                            ((f"{x:.1f}", f"{y:.1f}", day.isoformat(), round(value, 2))
                             for (x, y), (day, value) in zip(xy, points, strict=True)))
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    return format_html(
        '<svg class="health-chart" width="100%" viewBox="0 0 {w} {h}" role="img" '
        'aria-label="{label}" style="max-width:{w}px">'
        '<line x1="{p}" x2="{p}" y1="{p}" y2="{b}" stroke="#999"/>'
        '<line x1="{p}" x2="{r}" y1="{b}" y2="{b}" stroke="#999"/>'
        '<text x="2" y="{p}" font-size="10">{top}</text>'
        '<text x="{p}" y="{h}" font-size="10">{first}</text>'
        '<text x="{r}" y="{h}" font-size="10" text-anchor="end">{last}</text>'
        '{marks}<polyline fill="none" stroke="#007d7e" stroke-width="2" points="{path}"/>'
        '{dots}<text x="{p}" y="12" font-size="11">{label}</text></svg>',
        w=width, h=height, p=pad, b=height - pad, r=width - pad, top=round(top),
        first=points[0][0].isoformat(), last=points[-1][0].isoformat(), marks=marks,
        path=path, dots=dots, label=label)
