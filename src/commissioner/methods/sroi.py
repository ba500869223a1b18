"""Social Return on Investment (A Guide to SROI, Cabinet Office 2009/2012), pure functions.

For each outcome: quantity x financial proxy = gross value; impact = gross x (1 - deadweight) x
(1 - displacement) x (1 - attribution); in each year after the first the impact falls by the drop-off
share; the value lasts ``years`` (the benefit period). Each year is discounted at 3.5% (year 1 once).
Ratio = PV / inputs; net = (PV - inputs) / inputs; payback in months = inputs / (first-year impact / 12).
Shares are fractions from 0 to 1. See docs/methods.md, "Social return".
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

RATE = 0.035
SHARES = ("deadweight", "displacement", "attribution", "drop_off")
MAX_YEARS = 100


class SroiError(ValueError):
    def __init__(self, field, message):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def _number(value, field, *, low=None, high=None) -> float:
    if isinstance(value, bool) or value is None:
        raise SroiError(field, f"must be a number, not {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise SroiError(field, f"must be a number, not {value!r}") from None
    if not math.isfinite(out):
        raise SroiError(field, "must be a finite number")
    if low is not None and out < low or high is not None and out > high:
        raise SroiError(field, f"must be between {low:g} and {high:g}, not {out:g}"
                        if high is not None else f"must be {low:g} or more, not {out:g}")
    return out


@dataclass(frozen=True)
class Outcome:
    name: str
    quantity: float
    proxy: float  # value of one unit of the outcome, in pounds
    deadweight: float = 0.0
    displacement: float = 0.0
    attribution: float = 0.0
    drop_off: float = 0.0
    years: int = 1

    def checked(self) -> "Outcome":
        for key in SHARES:
            _number(getattr(self, key), f"{self.name}: {key.replace('_', '-')}", low=0, high=1)
        _number(self.quantity, f"{self.name}: quantity", low=0)
        _number(self.proxy, f"{self.name}: financial proxy")
        if isinstance(self.years, bool) or not isinstance(self.years, int) or not 1 <= self.years <= MAX_YEARS:
            raise SroiError(f"{self.name}: benefit period", f"must be a whole number of years from 1 to {MAX_YEARS}")
        return self

    def first_year(self) -> float:
        return (self.quantity * self.proxy * (1 - self.deadweight) * (1 - self.displacement)
                * (1 - self.attribution))

    def impacts(self) -> list[float]:
        """The impact in each year of the benefit period (year 1 first)."""
        first = self.first_year()
        return [first * (1 - self.drop_off) ** i for i in range(self.years)]


class SroiResult(NamedTuple):
    yearly: list  # total impact per year (year 1 first)
    present_value: float
    inputs: float
    ratio: float | None  # None when inputs are 0
    net_ratio: float | None
    payback_months: float | None  # None when the first year has no positive impact or inputs are 0


def sroi(outcomes: Sequence[Outcome], inputs: float, rate: float = RATE) -> SroiResult:
    inputs = _number(inputs, "inputs", low=0)
    rate = _number(rate, "discount rate", low=-0.5, high=1)
    checked = [o.checked() for o in outcomes]
    years = max((o.years for o in checked), default=0)
    yearly = [0.0] * years
    for o in checked:
        for i, value in enumerate(o.impacts()):
            yearly[i] += value
    pv = math.fsum(v / (1 + rate) ** (i + 1) for i, v in enumerate(yearly))
    first = yearly[0] if yearly else 0.0
    return SroiResult(yearly, pv, inputs, pv / inputs if inputs else None,
                      (pv - inputs) / inputs if inputs else None,
                      inputs / (first / 12) if inputs and first > 0 else None)


def switching_value(outcomes: Sequence[Outcome], inputs: float, index: int, key: str, rate: float = RATE,
                    target: float = 1.0) -> float | None:
    """The value of one assumption (``key`` of ``outcomes[index]``: quantity, proxy, deadweight,
    displacement, attribution or drop_off) at which the SROI ratio equals ``target`` (1:1 by default),
    the others unchanged; None when no value in the assumption's range gets there."""
    from dataclasses import replace

    if key not in SHARES + ("quantity", "proxy"):
        raise SroiError("assumption", f"unknown assumption {key!r}")
    base = outcomes[index]

    def gap(x):
        changed = list(outcomes)
        changed[index] = replace(base, **{key: x})
        return sroi(changed, inputs, rate).present_value - target * inputs

    if key in SHARES:
        low, high = 0.0, 1.0
    else:
        low, high = 0.0, max(abs(getattr(base, key)) * 1000, 1.0)
    a, b = low, high
    fa, fb = gap(a), gap(b)
    if fa == 0:
        return a
    if (fa > 0) == (fb > 0):
        return None
    for _ in range(200):
        mid = (a + b) / 2
        fm = gap(mid)
        if (fm > 0) == (fa > 0):
            a, fa = mid, fm
        else:
            b = mid
        if b - a < 1e-12:
            break
    return (a + b) / 2


def fte(full_time: float, part_time: float, part_share: float = 0.5, years: float = 1) -> float:
    """Full-time equivalents: 10 full-time and 5 half-time staff = 12.5 FTE; for 2 years, 25 FTE-years."""
    return (_number(full_time, "full-time", low=0) + _number(part_time, "part-time", low=0)
            * _number(part_share, "part-time share", low=0, high=1)) * _number(years, "years", low=0)


def shared_benefit(value: float, contracts: int) -> float:
    """A benefit shared by several contracts is attributed equally: one third each for three."""
    if isinstance(contracts, bool) or not isinstance(contracts, int) or contracts < 1:
        raise SroiError("contracts", "must be a whole number of 1 or more")
    return _number(value, "value") / contracts
