"""Chart geometry for inline SVG: plain numbers a template draws, no JavaScript.

Charts render offline (no library to fetch). Coordinates are floats: they
place pixels, they are never money; the labels show the exact values.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

WIDTH = 640
HEIGHT = 220
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 16, 36
PALETTE = ("#1f6feb", "#d97706", "#059669", "#9333ea", "#dc2626", "#0891b2", "#4b5563")


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class XLabel:
    x: float
    label: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    title: str


@dataclass(frozen=True)
class Series:
    name: str
    color: str
    points: str


@dataclass(frozen=True)
class Chart:
    """One SVG: bars or polylines over a zero-based y axis with a few ticks."""

    title: str
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_bottom: float
    ticks: tuple[Tick, ...]
    x_labels: tuple[XLabel, ...]
    bars: tuple[Bar, ...] = ()
    series: tuple[Series, ...] = ()


def _nice_top(value: float) -> float:
    """The smallest 1, 2, 4 or 5 × 10^k at or above value (1 for an empty chart): quarters of
    it, the ticks, have at most two decimals."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1) if value >= 1 else 1.0
    for step in (1, 2, 4, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _tick_label(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _frame(values: Sequence[Decimal]) -> tuple[float, tuple[Tick, ...]]:
    top = _nice_top(float(max(values, default=Decimal(0))))
    plot_height = HEIGHT - TOP - BOTTOM
    ticks = tuple(
        Tick(y=HEIGHT - BOTTOM - plot_height * i / 4, label=_tick_label(top * i / 4))
        for i in range(5)
    )
    return top, ticks


def _x_labels(labels: Sequence[str], centers: Sequence[float]) -> tuple[XLabel, ...]:
    """At most ~12 labels, evenly spaced, so a month of days stays readable."""
    every = max(1, -(-len(labels) // 12))
    return tuple(XLabel(x=centers[i], label=labels[i]) for i in range(0, len(labels), every))


def _framed_chart(
    title: str,
    ticks: tuple[Tick, ...],
    labels: Sequence[str],
    centers: Sequence[float],
    **marks: tuple,
) -> Chart:
    """A chart in the shared frame (size, plot area, axis ticks and labels) with its marks."""
    return Chart(
        title=title,
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_bottom=HEIGHT - BOTTOM,
        ticks=ticks,
        x_labels=_x_labels(labels, centers),
        **marks,
    )


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[Decimal],
    titles: Sequence[str] | None = None,
    colors: Sequence[str] | None = None,
) -> Chart:
    """Vertical bars, one per label; `titles` are the hover texts (exact values),
    `colors` one per bar (default: all the palette's first)."""
    top, ticks = _frame(values)
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(values), 1)
    bars, centers = [], []
    for i, value in enumerate(values):
        height = plot_height * max(float(value), 0.0) / top
        x = LEFT + slot * i + slot * 0.15
        centers.append(LEFT + slot * (i + 0.5))
        hover = titles[i] if titles else f"{labels[i]}: {value}"
        color = colors[i] if colors else PALETTE[0]
        bars.append(Bar(x, HEIGHT - BOTTOM - height, slot * 0.7, height, color, hover))
    return _framed_chart(title, ticks, labels, centers, bars=tuple(bars))


def line_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[Decimal]]) -> Chart:
    """One polyline per named series over shared x labels (missing values are 0)."""
    every_value = [v for values in series.values() for v in values]
    top, ticks = _frame(every_value)
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    step = plot_width / max(len(labels) - 1, 1)
    centers = [LEFT + step * i for i in range(len(labels))]
    lines = []
    for index, (name, values) in enumerate(series.items()):
        points = " ".join(
            f"{centers[i]:.1f},{HEIGHT - BOTTOM - plot_height * max(float(v), 0.0) / top:.1f}"
            for i, v in enumerate(values)
        )
        lines.append(Series(name=name, color=PALETTE[index % len(PALETTE)], points=points))
    return _framed_chart(title, ticks, labels, centers, series=tuple(lines))
