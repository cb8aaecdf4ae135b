"""A figure's series as a small line chart, drawn as inline SVG: it shows in any browser and
in the files as they are, with no script and no image to fetch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

WIDTH, HEIGHT = 320, 90  # the viewBox; the chart scales to the width it is given
PAD_X, PAD_TOP, PAD_BOTTOM = 34, 16, 18


@dataclass(frozen=True, slots=True)
class Dot:
    x: float
    y: float
    value: float
    at: datetime | None
    source: str


@dataclass(frozen=True, slots=True)
class Chart:
    label: str
    dots: list[Dot]
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def polyline(self) -> str:
        return " ".join(f"{d.x:.1f},{d.y:.1f}" for d in self.dots)

    @property
    def summary(self) -> str:
        """The series in words: the text of the chart for readers who do not see it."""
        return " → ".join(f"{d.value:,.15g}" for d in self.dots)


def line_chart(label: str, points: list[tuple[datetime | None, float, str]]) -> Chart:
    """Points (time, value, source) spread evenly left to right in the order given (reports
    are often days apart, then minutes apart: even steps keep each one readable), the
    values scaled between the lowest and the highest."""
    values = [value for _, value, _ in points]
    low, high = min(values, default=0.0), max(values, default=0.0)
    span = (high - low) or 1.0
    step = (WIDTH - 2 * PAD_X) / max(1, len(points) - 1)
    dots = [
        Dot(
            x=PAD_X + index * step if len(points) > 1 else WIDTH / 2,
            y=PAD_TOP + (HEIGHT - PAD_TOP - PAD_BOTTOM) * (1 - (value - low) / span),
            value=value,
            at=at,
            source=source,
        )
        for index, (at, value, source) in enumerate(points)
    ]
    return Chart(label, dots)
