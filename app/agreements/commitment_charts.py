"""The monitoring charts as drawing instructions: bars, labels and the same figures as table rows, in the
page's language. The template turns them into inline SVG (no JavaScript, nothing fetched, no style
attributes: the CSP allows none), each chart beside a table of its figures for screen readers."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from app.agreements.commitment_trends import Trends
from app.i18n import money, month_name, number, percent, short_month

WIDTH, HEIGHT = 640, 250
LEFT, RIGHT, TOP, BASE = 84, 632, 24, 200  # the plot area; BASE is the zero line
PLOT = BASE - TOP


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str  # the bar's class: what it stands for, also told by its pattern and the legend
    label: str = ""  # a value written above the bar, when there is room


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    slug: str
    months: list[tuple[float, str]]  # (x of the slot's middle, short month)
    bars: list[Bar]
    ticks: list[Tick]
    rows: list[tuple[str, ...]]  # the table: one row a month, the cells already written out
    width: int = WIDTH
    height: int = HEIGHT
    base: int = BASE
    left: int = LEFT
    right: int = RIGHT


def _slots(trends: Trends) -> tuple[float, list[float]]:
    slot = (RIGHT - LEFT) / len(trends.months)
    return slot, [LEFT + slot * (i + 0.5) for i in range(len(trends.months))]


def _height(value: float, top: float) -> float:
    return round(PLOT * max(value, 0) / top, 1) if top else 0.0


def compliance_chart(trends: Trends, *, language: str) -> Chart:
    """One bar a month: the share of what fell due (due date passed) that was completed on time."""
    slot, middles = _slots(trends)
    bars, rows = [], []
    for m, mid in zip(trends.months, middles, strict=True):
        rate = m.compliance_rate
        shown = "–" if rate is None else percent(rate, language=language)
        h = _height(rate or 0, 1)
        bars.append(Bar(round(mid - slot * 0.3, 1), round(BASE - h, 1), round(slot * 0.6, 1), h, "bar-rate", shown))
        rows.append((month_name(m.month, language=language), str(m.due_count), str(m.on_time_count), shown))
    ticks = [Tick(BASE - PLOT * f, percent(f, language=language)) for f in (0, 0.5, 1)]
    months = [(mid, short_month(m.month, language=language)) for m, mid in zip(trends.months, middles, strict=True)]
    return Chart("compliance", months, bars, ticks, rows)


def _pairs(trends: Trends, slug: str, due: list[float], done: list[float], write, *, language: str) -> Chart:  # type: ignore[no-untyped-def]
    slot, middles = _slots(trends)
    top = max([*due, *done, 0]) or 1
    bars, rows = [], []
    width = round(slot * 0.34, 1)
    for m, mid, d, r in zip(trends.months, middles, due, done, strict=True):
        hd, hr = _height(d, top), _height(r, top)
        bars.append(Bar(round(mid - width, 1), round(BASE - hd, 1), width, hd, "bar-due"))
        bars.append(Bar(round(mid, 1), round(BASE - hr, 1), width, hr, "bar-received"))
        rows.append((month_name(m.month, language=language), write(d), write(r)))
    ticks = [Tick(BASE - PLOT * f, write(top * f)) for f in (0, 0.5, 1)]
    months = [(mid, short_month(m.month, language=language)) for m, mid in zip(trends.months, middles, strict=True)]
    return Chart(slug, months, bars, ticks, rows)


def money_charts(trends: Trends, *, language: str) -> list[tuple[str, Chart]]:
    """Per currency: what fell due each month against what was received."""
    charts = []
    for i, currency in enumerate(trends.currencies):
        due = [float(m.money_due.get(currency, 0)) for m in trends.months]
        done = [float(m.money_received.get(currency, 0)) for m in trends.months]

        def write(cents: float, currency: str = currency) -> str:
            return money(round(cents), currency, language=language)

        charts.append((currency, _pairs(trends, f"money-{i}", due, done, write, language=language)))
    return charts


def hours_chart(trends: Trends, *, language: str) -> Chart:
    """Community service: the hours that fell due each month against the hours worked."""

    def write(minutes: float) -> str:
        hours = (Decimal(str(minutes)) / 60).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP).normalize()
        return number(hours, language=language)

    due = [float(m.minutes_due) for m in trends.months]
    done = [float(m.minutes_worked) for m in trends.months]
    return _pairs(trends, "hours", due, done, write, language=language)
