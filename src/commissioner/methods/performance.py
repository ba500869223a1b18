"""KPI results, reporting periods, the forward plan and value tests (pure functions, no Django, no I/O).

See docs/methods.md, "KPI results, ratings, forward plan and value tests", for the rules and worked examples.
"""

import calendar
import functools
import itertools
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import NamedTuple

# UK extension Observation.measureClassification values for a KPI result ("other" is not a measured result).
CLASSIFICATIONS = ("met", "slightlyBelow", "below", "significantlyBelow")
CLASSIFICATION_LABELS = {
    "met": "Met",
    "slightlyBelow": "Slightly below",
    "below": "Below",
    "significantlyBelow": "Significantly below",
}
DIRECTIONS = ("higher", "lower")
FREQUENCIES = ("monthly", "quarterly", "annual")
MISSES = ("below", "significantlyBelow")

# (minimum value incl. VAT, months before the end or break date that the decision on what next is needed)
DEFAULT_LEAD_TIMES = ((0, 6), (100_000, 9), (1_000_000, 12), (5_000_000, 18))

DEFAULT_VALUE_TEST_SETTINGS = {
    "misses": 2,  # periods below target in a row
    "decision_months": 6,  # look-ahead for decisions
    "min_comparables": 3,  # comparable unit prices needed for a median
    "stale_years": 3,  # years without a change or review
    "dependency_share": Decimal("0.5"),  # supplier share (0-1)
}


def to_decimal(value, name="value") -> Decimal:
    """`Decimal(str(value))` for int/float/str/Decimal input; ValueError for anything else, NaN or infinity."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{name} must be a number, not {value!r}")
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"{name} must be a number, not {value!r}") from exc
    if not result.is_finite():
        raise ValueError(f"{name} must be a finite number, not {value!r}")
    return result


def long_date(day: date) -> str:
    """A date as plain English, e.g. '1 September 2025'."""
    return f"{day.day} {day:%B %Y}"


def percent_text(value: Decimal) -> str:
    """A percentage to at most one decimal place, without a trailing '.0' (e.g. 62.5, 50)."""
    text = f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):f}"
    return text.removesuffix(".0")


def number_text(value: Decimal) -> str:
    """A number with thousands separators; pence shown only when there are any (200,001 / 22.50)."""
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


@functools.lru_cache(maxsize=4096)  # pure; council-wide pages ask the same few dates thousands of times
def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later (or earlier, if negative), clamped to the month's last day.

    31 January 2025 + 1 = 28 February 2025; 29 February 2024 + 12 = 28 February 2025.
    """
    if isinstance(months, bool) or not isinstance(months, int):
        raise TypeError(f"months must be a whole number, not {months!r}")
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    if not 1 <= year <= 9999:
        raise ValueError(f"{day.isoformat()} {months:+d} months is outside the supported date range")
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def classify(value, *, target, direction: str, tolerance=0) -> str:
    """Classify a KPI result against its target.

    The shortfall is target - value (higher is better) or value - target (lower is better). No shortfall is
    "met"; a shortfall within the tolerance is "slightlyBelow"; within the larger of twice the tolerance and
    10% of the target's size is "below"; anything more is "significantlyBelow".
    """
    value = to_decimal(value, "value")
    target = to_decimal(target, "target")
    tolerance = to_decimal(tolerance, "tolerance")
    if tolerance < 0:
        raise ValueError(f"tolerance must be zero or more, not {tolerance}")
    if direction == "higher":
        shortfall = target - value
    elif direction == "lower":
        shortfall = value - target
    else:
        raise ValueError(f"direction must be 'higher' or 'lower' (is better), not {direction!r}")
    if shortfall <= 0:
        return "met"
    if shortfall <= tolerance:
        return "slightlyBelow"
    if shortfall <= max(2 * tolerance, abs(target) / 10):
        return "below"
    return "significantlyBelow"


def period_bounds(day: date, frequency: str) -> tuple[date, date]:
    """First and last day of the reporting period containing `day`.

    Monthly: the calendar month. Quarterly: calendar quarters (Jan-Mar, Apr-Jun, Jul-Sep, Oct-Dec).
    Annual: the UK financial year, 1 April to 31 March.
    """
    if frequency == "monthly":
        first = day.replace(day=1)
        months = 1
    elif frequency == "quarterly":
        first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        months = 3
    elif frequency == "annual":
        first = date(day.year if day.month >= 4 else day.year - 1, 4, 1)
        months = 12
    else:
        raise ValueError(f"frequency must be one of {', '.join(FREQUENCIES)}, not {frequency!r}")
    last = date.fromordinal(add_months(first, months).toordinal() - 1)
    return first, last


def periods_between(start: date, end: date, frequency: str) -> list[tuple[date, date]]:
    """Every reporting period that overlaps `start`..`end` (both inclusive), earliest first."""
    if start > end:
        raise ValueError(f"start {start.isoformat()} is after end {end.isoformat()}")
    periods = []
    first, last = period_bounds(start, frequency)
    while first <= end:
        periods.append((first, last))
        first, last = period_bounds(date.fromordinal(last.toordinal() + 1), frequency)
    return periods


def trailing_misses(classifications) -> int:
    """How many results at the end of a time-ordered sequence are "below" or "significantlyBelow" in a row.

    Anything else, including None (no result for the period) and "other", ends the run.
    """
    count = 0
    for classification in reversed(list(classifications)):
        if classification not in MISSES:
            break
        count += 1
    return count


def _sorted_lead_times(lead_times) -> list[tuple[Decimal, int]]:
    pairs = []
    for pair in lead_times:
        try:
            min_value, months = pair
        except (TypeError, ValueError) as exc:
            raise ValueError(f"each lead time must be a (min_value, months) pair, not {pair!r}") from exc
        if isinstance(months, bool) or not isinstance(months, int) or months < 0:
            raise ValueError(f"lead time months must be a whole number of zero or more, not {months!r}")
        pairs.append((to_decimal(min_value, "lead time min_value"), months))
    if not pairs:
        raise ValueError("lead_times must have at least one (min_value, months) pair")
    pairs.sort()
    for (a, _), (b, _) in itertools.pairwise(pairs):
        if a == b:
            raise ValueError(f"lead_times has two entries with min_value {a}")
    return pairs


def lead_time_months(value, lead_times=DEFAULT_LEAD_TIMES) -> int:
    """Months of notice a decision needs: the entry with the largest min_value at or below `value`.

    The pairs are sorted by min_value first. No value, or a value below every min_value, takes the first
    (smallest) entry.
    """
    pairs = _sorted_lead_times(lead_times)
    months = pairs[0][1]
    if value is None:
        return months
    value = to_decimal(value, "value")
    for min_value, entry_months in pairs:
        if min_value <= value:
            months = entry_months
    return months


def decision_date(*, end_date: date, value, lead_times=DEFAULT_LEAD_TIMES, break_date: date | None = None) -> date:
    """When the decision on what follows a contract is needed: the earlier of the end and break dates, less
    the lead time for its value (calendar months, clamped to the month end)."""
    deadline = min(end_date, break_date) if break_date is not None else end_date
    return add_months(deadline, -lead_time_months(value, lead_times))


def median(values) -> Decimal | None:
    """The ordinary median: the middle value, or the mean of the two middle values for an even count.

    None entries are ignored; no values gives None.
    """
    numbers = sorted(to_decimal(v, "median value") for v in values if v is not None)
    if not numbers:
        return None
    middle = len(numbers) // 2
    if len(numbers) % 2:
        return numbers[middle]
    return (numbers[middle - 1] + numbers[middle]) / 2


class ValueFlag(NamedTuple):
    """One reason to look again at whether a contract gives value for money."""

    code: str
    title: str
    evidence: str


VALUE_FLAG_TITLES = {
    "underperforming": "Underperforming",
    "decision_soon": "Decision due soon",
    "price_above_median": "Unit price above the median",
    "stale": "No recent change or review",
    "dependency": "Dependent on one supplier",
}


def _settings(settings) -> dict:
    merged = dict(DEFAULT_VALUE_TEST_SETTINGS)
    for key, setting in (settings or {}).items():
        if key not in merged:
            raise ValueError(f"unknown value test setting {key!r}; known: {', '.join(merged)}")
        merged[key] = setting
    for key in ("misses", "decision_months", "min_comparables", "stale_years"):
        setting = merged[key]
        if isinstance(setting, bool) or not isinstance(setting, int) or setting < 0:
            raise ValueError(f"value test setting {key} must be a whole number of zero or more, not {setting!r}")
    merged["dependency_share"] = to_decimal(merged["dependency_share"], "dependency_share")
    return merged


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def value_test_flags(
    *,
    today: date,
    trailing_misses: int,
    upcoming_decisions,
    unit_price=None,
    comparable_unit_prices=(),
    last_change_or_review: date | None,
    supplier_share=None,
    settings=None,
    comparable_median=None,
) -> list[ValueFlag]:
    """The value-for-money flags that fire for one contract, in a fixed order.

    underperforming: below target in the last `misses` periods or more in a row. decision_soon: a decision
    falls between today and `decision_months` months ahead. price_above_median: the unit price is above the
    median of at least `min_comparables` comparable prices. stale: no change or review in the last
    `stale_years` years. dependency: the supplier's share is `dependency_share` or more.
    ``comparable_median``, when given, is median(comparable_unit_prices) worked out by the caller (once
    for many contracts).
    """
    config = _settings(settings)
    flags = []

    def flag(code, evidence):
        flags.append(ValueFlag(code, VALUE_FLAG_TITLES[code], evidence))

    if trailing_misses < 0:
        raise ValueError(f"trailing_misses must be zero or more, not {trailing_misses}")
    if trailing_misses and trailing_misses >= config["misses"]:
        flag("underperforming", f"below target in the last {_plural(trailing_misses, 'period')}")

    horizon = add_months(today, config["decision_months"])
    soon = sorted((when, what) for when, what in upcoming_decisions if today <= when <= horizon)
    if soon:
        flag("decision_soon", "; ".join(f"{what} due {long_date(when)}" for when, what in soon))

    if unit_price is not None:
        price = to_decimal(unit_price, "unit_price")
        comparables = [p for p in comparable_unit_prices if p is not None]
        middle = median(comparables) if comparable_median is None else to_decimal(comparable_median, "median")
        if middle is not None and len(comparables) >= config["min_comparables"] and price > middle:
            above = f" ({percent_text((price - middle) * 100 / middle)}% higher)" if middle > 0 else ""
            flag(
                "price_above_median",
                f"unit price {number_text(price)} is above the median of {number_text(middle)} "
                f"across {_plural(len(comparables), 'comparable contract')}{above}",
            )

    if last_change_or_review is None:
        flag("stale", "no change or review recorded")
    elif last_change_or_review < add_months(today, -12 * config["stale_years"]):
        flag(
            "stale",
            f"last change or review on {long_date(last_change_or_review)}, "
            f"more than {_plural(config['stale_years'], 'year')} ago",
        )

    if supplier_share is not None:
        share = to_decimal(supplier_share, "supplier_share")
        if not 0 <= share <= 1:
            raise ValueError(f"supplier_share must be between 0 and 1, not {share}")
        if share >= config["dependency_share"]:
            flag(
                "dependency",
                f"supplier share is {percent_text(share * 100)}% "
                f"(flagged at {percent_text(config['dependency_share'] * 100)}% or more)",
            )
    return flags
