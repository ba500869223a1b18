"""Procurement Act 2023 rules the contract register applies (pure functions, no Django, no I/O).

s.52 KPIs, s.71 performance assessments and ratings, s.74-75 contract change notices, and the Find a Tender
notice types. See docs/methods.md, "Procurement Act 2023 rules", for the rules and worked examples.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from commissioner.methods.performance import add_months, long_date, number_text, percent_text, to_decimal

# s.52
KPI_THRESHOLD = Decimal(5_000_000)
MIN_KPIS = 3
EXEMPT_KINDS = ("framework", "concession", "light_touch", "utility")

# s.71 (contract performance notice, UK9)
RATINGS = ("good", "approaching", "requires_improvement", "inadequate", "other")
RATING_LABELS = {
    "good": "Good",
    "approaching": "Approaching target",
    "requires_improvement": "Requires improvement",
    "inadequate": "Inadequate",
    "other": "Other",
}
RATING_POINTS = {"met": 3, "slightlyBelow": 2, "below": 1, "significantlyBelow": 0}
RATING_BANDS = ((Decimal("2.5"), "good"), (Decimal("1.75"), "approaching"), (Decimal("1.0"), "requires_improvement"))

# s.74-75
CHANGE_KINDS = ("goods", "services", "works", "mixed")
VALUE_LIMIT_PCT = {"goods": Decimal(10), "services": Decimal(10), "mixed": Decimal(10), "works": Decimal(15)}
TERM_LIMIT_PCT = Decimal(10)

NOTICE_TYPES = {
    "UK1": "Pipeline",
    "UK2": "Preliminary market engagement",
    "UK3": "Planned procurement",
    "UK4": "Tender",
    "UK5": "Transparency",
    "UK6": "Contract award",
    "UK7": "Contract details",
    "UK8": "Payments compliance",
    "UK9": "Contract performance",
    "UK10": "Contract change",
    "UK11": "Contract termination",
    "UK12": "Procurement termination",
}

_CENT = Decimal("0.01")


def kpis_required(value_incl_vat, *, exempt: bool) -> int:
    """s.52: a contract worth more than 5,000,000 including VAT needs at least 3 KPIs unless it is exempt
    (framework, concession, light-touch, private utility). Exactly 5,000,000 needs none; no value needs none."""
    if value_incl_vat is None or exempt:
        return 0
    return MIN_KPIS if to_decimal(value_incl_vat, "value_incl_vat") > KPI_THRESHOLD else 0


@dataclass(frozen=True)
class RatingProposal:
    """A proposed s.71 rating and how it was reached."""

    rating: str
    score: Decimal | None
    counted_weight: Decimal
    total_weight: Decimal
    explanation: str

    @property
    def label(self) -> str:
        return RATING_LABELS[self.rating]


def propose_rating(results) -> RatingProposal:
    """Propose a rating from (weight, classification) pairs, one per KPI.

    Points: met 3, slightlyBelow 2, below 1, significantlyBelow 0; the score is their weighted mean, rounded
    half-up to 0.01. "other" or None is not counted. If the counted weight is zero or less than half the total
    weight the rating is Other; else score >= 2.5 Good, >= 1.75 Approaching target, >= 1.0 Requires
    improvement, below that Inadequate.
    """
    total = counted = points = Decimal(0)
    kpis = counted_kpis = 0
    for weight, classification in results:
        weight = to_decimal(weight, "weight")
        if weight < 0:
            raise ValueError(f"KPI weights must be zero or more, not {weight}")
        if classification is not None and classification != "other" and classification not in RATING_POINTS:
            raise ValueError(
                f"unknown classification {classification!r}; expected one of "
                f"{', '.join(RATING_POINTS)}, 'other' or None"
            )
        kpis += 1
        total += weight
        if classification in RATING_POINTS:
            counted_kpis += 1
            counted += weight
            points += weight * RATING_POINTS[classification]

    if counted == 0 or counted * 2 < total:
        if kpis == 0:
            why = "no KPIs were given"
        elif counted == 0:
            why = f"none of the {_plural(kpis, 'KPI')} has a result to score"
        else:
            why = (f"only {counted_kpis} of {_plural(kpis, 'KPI')} has a result to score, weight "
                   f"{number_text(counted)} of {number_text(total)}, which is less than half the total weight")
        return RatingProposal("other", None, counted, total, f"Other: {why}.")
    score = (points / counted).quantize(_CENT, rounding=ROUND_HALF_UP)
    rating = next((name for floor, name in RATING_BANDS if score >= floor), "inadequate")
    band = {
        "good": "2.50 or more",
        "approaching": "1.75 to 2.49",
        "requires_improvement": "1.00 to 1.74",
        "inadequate": "below 1.00",
    }[rating]
    return RatingProposal(
        rating, score, counted, total,
        f"{RATING_LABELS[rating]}: weighted score {score} out of 3 ({band}) from {counted_kpis} of "
        f"{_plural(kpis, 'KPI')} with a result, weight {number_text(counted)} of {number_text(total)}.",
    )


def assessment_due(
    *,
    start: date | None,
    last_assessed: date | None,
    today: date,
    terminated_on: date | None = None,
    assessed_since_termination: bool = False,
    expired: bool = False,
) -> str | None:
    """s.71: why a KPI performance assessment is due, or None if none is.

    Due on termination until an assessment has been made since; otherwise due once 12 calendar months have
    passed since the last assessment (or the start, if never assessed). A terminated contract assessed since
    termination needs no more assessments. ``expired``: the contract came to its end date rather than being
    terminated early (only the wording differs).
    """
    if terminated_on is not None:
        if assessed_since_termination:
            return None
        how = "ended" if expired else "was terminated"
        return f"on termination: the contract {how} on {long_date(terminated_on)} and not assessed since"
    if last_assessed is not None:
        due = add_months(last_assessed, 12)
        if due <= today:
            return f"12 months since the last assessment on {long_date(last_assessed)} (due {long_date(due)})"
        return None
    if start is not None:
        due = add_months(start, 12)
        if due <= today:
            return f"12 months since the contract started on {long_date(start)} with no assessment (due {long_date(due)})"
    return None


@dataclass(frozen=True)
class ChangeVerdict:
    """Whether a contract change (with its linked changes) needs a contract change notice (UK10)."""

    required: bool
    value_change: Decimal
    value_pct: Decimal
    value_limit_pct: Decimal
    term_change_days: int
    term_pct: Decimal | None
    reasons: list[str] = field(default_factory=list)


def _days(value) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    days = to_decimal(value, "term change")
    if days != days.to_integral_value():
        raise ValueError(f"term changes must be whole days, not {value!r}")
    return int(days)


def change_notice_required(
    *, original_value, original_term_days: int | None, kind: str, value_changes, term_changes=()
) -> ChangeVerdict:
    """s.74-75: a change notice is needed unless the aggregated changes move the value by no more than 10%
    (goods, services, mixed) or 15% (works) of the original value, and the term by no more than 10%.

    Linked changes are aggregated by summing their deltas; the movement is the size of the sum. Exactly at a
    limit needs no notice. The term test applies only when the original term (days) is known and positive.
    """
    if kind not in VALUE_LIMIT_PCT:
        raise ValueError(f"kind must be one of {', '.join(CHANGE_KINDS)}, not {kind!r}")
    if original_value is None:
        raise ValueError("original_value is required to test a change")
    original = to_decimal(original_value, "original_value")
    if original <= 0:
        raise ValueError(f"original_value must be more than zero, not {original}")
    if original_term_days is not None:
        original_term_days = _days(original_term_days)
        if original_term_days < 0:
            raise ValueError(f"original_term_days must be zero or more, not {original_term_days}")

    value_change = sum((to_decimal(v, "value change") for v in value_changes), Decimal(0))
    term_change = sum(_days(d) for d in term_changes)
    value_limit = VALUE_LIMIT_PCT[kind]
    value_pct = (value_change * 100 / original).quantize(_CENT, rounding=ROUND_HALF_UP)
    term_known = bool(original_term_days)
    term_pct = None
    if term_known:
        term_pct = (Decimal(term_change) * 100 / original_term_days).quantize(_CENT, rounding=ROUND_HALF_UP)

    value_text = f"{_signed_money(value_change)} ({value_pct:+}% of {number_text(original)})"
    limit_text = f"the {percent_text(value_limit)}% limit for {'works' if kind == 'works' else 'goods and services'}"
    reasons = []
    # Compare exact amounts, not the rounded percentage: +200,001 on 2,000,000 is 10.00005%, over 10%.
    value_over = abs(value_change) * 100 > value_limit * original
    term_over = term_known and abs(term_change) * 100 > TERM_LIMIT_PCT * original_term_days
    if value_over:
        excess = abs(value_change) - value_limit * original / 100
        reasons.append(f"The value changes by {value_text}, £{number_text(excess)} more than {limit_text} allows.")
    if term_over:
        reasons.append(
            f"The term changes by {term_change:+d} days ({term_pct:+}% of {original_term_days:,} days), "
            f"more than the {percent_text(TERM_LIMIT_PCT)}% limit."
        )
    if not reasons:
        if term_known:
            term_text = (f"the term changes by {term_change:+d} days ({term_pct:+}% of {original_term_days:,} days), "
                         f"within the {percent_text(TERM_LIMIT_PCT)}% limit")
        elif term_change:
            term_text = f"the term changes by {term_change:+d} days, not tested as the original term is unknown"
        else:
            term_text = "the term is unchanged"
        reasons.append(f"No notice needed: the value changes by {value_text}, within {limit_text}; {term_text}.")
    return ChangeVerdict(
        required=bool(value_over or term_over),
        value_change=value_change,
        value_pct=value_pct,
        value_limit_pct=value_limit,
        term_change_days=term_change,
        term_pct=term_pct,
        reasons=reasons,
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _signed_money(value: Decimal) -> str:
    return f"{'-' if value < 0 else '+'}£{number_text(abs(value))}"
