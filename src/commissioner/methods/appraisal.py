"""Options appraisal by the HM Treasury Green Book (2022): discounting, NPSV, BCR, optimism bias,
multi-criteria scores, switching values and a seeded Monte Carlo run (pure functions, no Django, no I/O).

Years are whole years from 0 (now: not discounted). Flows are sequences indexed by year (year 0 first);
missing years are 0. See docs/methods.md, "Options appraisal", for the rules and worked examples.
"""

import math
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

# The Green Book's declining social time preference rate: (last year the rate applies to, rate).
STPR_SCHEDULE = ((30, 0.035), (75, 0.030), (125, 0.025), (200, 0.020), (300, 0.015), (math.inf, 0.010))
HEALTH_SCHEDULE = ((math.inf, 0.015),)
MAX_YEARS = 1000

# Optimism bias (Green Book supplementary guidance): upper and lower bounds, in % of the estimate.
# capex: capital costs; duration: works duration; opex: operating costs (outsourcing).
OPTIMISM_BIAS = {
    "standard_buildings": {"label": "Standard buildings", "capex": (24, 2), "duration": (4, 1)},
    "non_standard_buildings": {"label": "Non-standard buildings", "capex": (51, 4), "duration": (39, 2)},
    "standard_civil_engineering": {"label": "Standard civil engineering", "capex": (44, 3), "duration": (20, 1)},
    "non_standard_civil_engineering": {"label": "Non-standard civil engineering", "capex": (66, 6),
                                       "duration": (25, 3)},
    "equipment_development": {"label": "Equipment and development", "capex": (200, 10), "duration": (54, 10)},
    "outsourcing": {"label": "Outsourcing", "opex": (41, 0)},
}
BOUNDS = ("upper", "lower")


class AppraisalError(ValueError):
    """Bad input for an appraisal: ``field`` names what was wrong."""

    def __init__(self, field, message):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def _number(value, field) -> float:
    if isinstance(value, bool) or value is None:
        raise AppraisalError(field, f"must be a number, not {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise AppraisalError(field, f"must be a number, not {value!r}") from None
    if not math.isfinite(out):
        raise AppraisalError(field, "must be a finite number")
    return out


def _flows(flows, field) -> list[float]:
    out = [_number(v, f"{field}[{i}]") if v is not None else 0.0 for i, v in enumerate(flows)]
    if len(out) > MAX_YEARS + 1:
        raise AppraisalError(field, f"at most {MAX_YEARS} years")
    return out


def _schedule(schedule):
    last = 0
    for until, rate in schedule:
        if until <= last or not -0.5 < rate < 1:
            raise AppraisalError("rate", f"a discount rate must be between -50% and 100% a year, not {rate!r}, "
                                         "and the schedule's years must rise")
        last = until
    return schedule


def discount_factors(years: int, schedule=STPR_SCHEDULE) -> list[float]:
    """Factors for years 0..years: 1 for year 0, then compounding year by year at the rate of each year
    (the factor for year 31 is the year-30 factor divided by 1.03)."""
    if isinstance(years, bool) or not isinstance(years, int) or not 0 <= years <= MAX_YEARS:
        raise AppraisalError("years", f"must be a whole number from 0 to {MAX_YEARS}")
    schedule = _schedule(schedule)
    factors, factor, band = [1.0], 1.0, 0
    for year in range(1, years + 1):
        while year > schedule[band][0]:
            band += 1
        factor /= 1 + schedule[band][1]
        factors.append(factor)
    return factors


def discount_factor(year: int, schedule=STPR_SCHEDULE) -> float:
    return discount_factors(year, schedule)[-1]


def present_value(flows: Sequence, schedule=STPR_SCHEDULE) -> float:
    values = _flows(flows, "flows")
    factors = discount_factors(max(len(values) - 1, 0), schedule)
    return math.fsum(v * f for v, f in zip(values, factors, strict=False))


class Result(NamedTuple):
    pv_benefits: float
    pv_costs: float
    npsv: float
    bcr: float | None  # None when the costs' present value is 0 or less


def appraise(benefits: Sequence, costs: Sequence, schedule=STPR_SCHEDULE) -> Result:
    """NPSV = PV(benefits) - PV(costs); BCR = PV(benefits) / PV(costs) (None when PV(costs) <= 0: a BCR
    of an option that saves money is not meaningful, the NPSV says it all)."""
    pv_b, pv_c = present_value(benefits, schedule), present_value(costs, schedule)
    return Result(pv_b, pv_c, pv_b - pv_c, pv_b / pv_c if pv_c > 0 else None)


class Uplift(NamedTuple):
    capex: float  # % added to capital costs
    duration: float  # % added to works duration
    opex: float  # % added to operating costs


def optimism_bias(shares: Mapping[str, float], bound: str = "upper") -> Uplift:
    """The optimism bias uplift for a project made of the given types (type -> cost share). Shares are
    normalised to sum to 1; a mixed project weights each type's uplift by its share of the cost."""
    if bound not in BOUNDS:
        raise AppraisalError("bound", "choose upper or lower")
    if not shares:
        raise AppraisalError("shares", "give at least one project type")
    numbers = {}
    for kind, share in shares.items():
        if kind not in OPTIMISM_BIAS:
            raise AppraisalError("shares", f"unknown project type {kind!r}: one of {', '.join(OPTIMISM_BIAS)}")
        numbers[kind] = _number(share, f"shares[{kind}]")
        if numbers[kind] < 0:
            raise AppraisalError("shares", f"the share of {kind} must be 0 or more")
    total = math.fsum(numbers.values())
    if total <= 0:
        raise AppraisalError("shares", "the shares must add up to more than 0")
    i = BOUNDS.index(bound)

    def weighted(key):
        return round(math.fsum(numbers[k] / total * OPTIMISM_BIAS[k].get(key, (0, 0))[i] for k in numbers), 6)

    return Uplift(weighted("capex"), weighted("duration"), weighted("opex"))


def uplifted(flows: Sequence, percent: float) -> list[float]:
    factor = 1 + _number(percent, "uplift") / 100
    return [v * factor for v in _flows(flows, "flows")]


# Multi-criteria analysis ----------------------------------------------------------------------------

class Weights(NamedTuple):
    weights: dict  # criterion -> weight, summing to 1
    normalised: bool  # True when the weights given did not sum to 1 and were scaled
    note: str


def normalise_weights(weights: Mapping[str, float]) -> Weights:
    numbers = {k: _number(v, f"weights[{k}]") for k, v in weights.items()}
    if not numbers:
        raise AppraisalError("weights", "give at least one criterion")
    if any(v < 0 for v in numbers.values()):
        raise AppraisalError("weights", "weights must be 0 or more")
    total = math.fsum(numbers.values())
    if total <= 0:
        raise AppraisalError("weights", "at least one weight must be above 0")
    if math.isclose(total, 1, abs_tol=1e-9):
        return Weights(numbers, False, "")
    return Weights({k: v / total for k, v in numbers.items()}, True,
                   f"The weights added up to {total:g}, not 1: each was divided by {total:g}.")


def mcda(scores: Mapping[str, Mapping[str, float]], weights: Mapping[str, float]) -> dict[str, float]:
    """Weighted score of each option (criterion scores, e.g. 0-100, times normalised weights); an option
    without a score for a criterion gets 0 for it."""
    w = normalise_weights(weights).weights
    return {option: math.fsum(w[c] * _number(s.get(c, 0), f"scores[{option}][{c}]") for c in w)
            for option, s in scores.items()}


# Uncertainty ----------------------------------------------------------------------------------------

def switching_value(outcome: Callable[[float], float], base: float, low: float, high: float, *, tolerance=1e-9,
                    iterations=200) -> float | None:
    """The value of one input, between ``low`` and ``high``, at which ``outcome`` (e.g. the NPSV of the
    preferred option minus the runner-up's) reaches 0, by bisection from ``base``; None when the outcome
    does not change sign in the range."""
    base, low, high = _number(base, "base"), _number(low, "low"), _number(high, "high")
    at_base = outcome(base)
    if at_base == 0:
        return base
    for end in (high, low):
        if (outcome(end) > 0) != (at_base > 0):
            a, b = base, end
            for _ in range(iterations):
                mid = (a + b) / 2
                if (outcome(mid) > 0) == (at_base > 0):
                    a = mid
                else:
                    b = mid
                if abs(b - a) <= tolerance * max(1.0, abs(mid)):
                    break
            return (a + b) / 2
    return None


class Range(NamedTuple):
    low: float
    likely: float
    high: float


def _range(value, field) -> Range:
    low, likely, high = (_number(v, field) for v in value)
    if not low <= likely <= high:
        raise AppraisalError(field, f"needs low <= likely <= high, not {low:g} / {likely:g} / {high:g}")
    return Range(low, likely, high)


def _triangular(rng, r: Range, draws):
    import numpy as np

    if r.low == r.high:
        return np.full(draws, r.low)
    return rng.triangular(r.low, r.likely, r.high, draws)


def monte_carlo(options: Mapping[str, Mapping[str, Sequence]], *, draws=10_000, seed=2026) -> dict:
    """The probability that each option has the highest NPSV when its present values of benefits and costs
    are uncertain: ``options[name] = {"benefits": (low, likely, high), "costs": (low, likely, high)}`` (present
    values), each drawn from a triangular distribution, independently, ``draws`` times with a seeded
    generator (the same seed gives the same answer). Ties go to the option listed first.
    Returns {"probability": {option: p}, "mean_npsv": {...}, "p10": {...}, "p90": {...}, "draws", "seed"}."""
    if isinstance(draws, bool) or not isinstance(draws, int) or not 1 <= draws <= 10_000_000:
        raise AppraisalError("draws", "must be a whole number from 1 to 10,000,000")
    if not options:
        raise AppraisalError("options", "give at least one option")
    import numpy as np  # here, not at the top: every process that loads the URLconf imports this module

    rng = np.random.default_rng(seed)
    names = list(options)
    npsv = np.empty((len(names), draws))
    for i, name in enumerate(names):
        spec = options[name]
        benefits = _range(spec.get("benefits", (0, 0, 0)), f"{name}.benefits")
        costs = _range(spec.get("costs", (0, 0, 0)), f"{name}.costs")
        npsv[i] = _triangular(rng, benefits, draws) - _triangular(rng, costs, draws)
    best = np.argmax(npsv, axis=0)  # first of equal maxima
    counts = np.bincount(best, minlength=len(names))
    return {"probability": {n: float(counts[i]) / draws for i, n in enumerate(names)},
            "mean_npsv": {n: float(npsv[i].mean()) for i, n in enumerate(names)},
            "p10": {n: float(np.percentile(npsv[i], 10)) for i, n in enumerate(names)},
            "p90": {n: float(np.percentile(npsv[i], 90)) for i, n in enumerate(names)},
            "draws": draws, "seed": seed}
