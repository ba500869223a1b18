"""Market analysis from council spend (pure functions, no Django).

Concentration is measured on each supplier's net spend in a category (payments less credit notes).
A supplier whose net spend is zero or negative has no share of the market: it is left out of the
shares (and reported as left out by the caller), so shares always lie between 0 and 1.

* ``top_n_share``: the share of the ``n`` largest suppliers (CR5 with n=5).
* ``hhi``: the Herfindahl-Hirschman index on the 0-10,000 scale (shares in percent, squared and summed).
  The CMA/DoJ reading: below 1,500 unconcentrated, 1,500-2,500 moderately, above 2,500 highly concentrated.
* ``local_rule``: a supplier is local when its postcode area (the letters of the outward code) is the
  council's own area or one that borders it, as listed by the caller.
"""

import re
from collections.abc import Iterable, Mapping

HHI_MODERATE = 1500
HHI_HIGH = 2500


def _positive(values: Iterable[float]) -> list[float]:
    return [float(v) for v in values if v is not None and float(v) > 0]


def shares(values: Iterable[float]) -> list[float]:
    """Each positive value as a share of their total, largest first; [] when there is none."""
    kept = sorted(_positive(values), reverse=True)
    total = sum(kept)
    return [v / total for v in kept] if total > 0 else []


def top_n_share(values: Iterable[float], n: int = 5) -> float | None:
    """Share of the n largest suppliers (0-1); None when there is no positive spend."""
    if n < 1:
        raise ValueError("n must be at least 1")
    s = shares(values)
    return sum(s[:n]) if s else None


def hhi(values: Iterable[float]) -> float | None:
    """Herfindahl-Hirschman index, 0-10,000; None when there is no positive spend."""
    s = shares(values)
    return sum((100 * x) ** 2 for x in s) if s else None


def hhi_band(index: float | None) -> str:
    """'unconcentrated', 'moderate' or 'high' (CMA/DoJ thresholds); 'missing' for None."""
    if index is None:
        return "missing"
    if index < HHI_MODERATE:
        return "unconcentrated"
    return "moderate" if index <= HHI_HIGH else "high"


def share_by(totals: Mapping[str, float]) -> dict[str, float | None]:
    """Each key's share of the sum of the (positive) totals; None for every key when the sum is not positive."""
    total = sum(v for v in totals.values() if v and v > 0)
    return {k: (max(v, 0) / total if total > 0 else None) for k, v in totals.items()}


def new_entrants(first_year_of: Mapping[str, int], years: Iterable[int]) -> dict[int, int | None]:
    """Suppliers paid for the first time in each year. The first year of the data is None (every
    supplier would look new), never a count."""
    years = sorted(set(years))
    out: dict[int, int | None] = {}
    for i, y in enumerate(years):
        out[y] = None if i == 0 else sum(1 for first in first_year_of.values() if first == y)
    return out


_POSTCODE = re.compile(r"^\s*([A-Z]{1,2})[0-9][0-9A-Z]?\s*([0-9][A-Z]{2})?\s*$", re.IGNORECASE)


def postcode_area(postcode: str | None) -> str | None:
    """The postcode area ('M' for 'M32 0TH', 'BB' for 'BB5 1LA'); None when it is not a UK postcode."""
    if not postcode:
        return None
    m = _POSTCODE.match(str(postcode).upper())
    return m.group(1) if m else None


_IN_TEXT = re.compile(r"\b([A-Z]{1,2}[0-9][0-9A-Z]?)\s*([0-9][A-Z]{2})\b")


def find_postcode(text: str | None) -> str | None:
    """The last full UK postcode in a free-text address ('..., Oakham, England, LE15 8JD' -> 'LE15 8JD')."""
    if not text:
        return None
    found = _IN_TEXT.findall(str(text).upper())
    return f"{found[-1][0]} {found[-1][1]}" if found else None


def is_local(postcode: str | None, home_areas: Iterable[str]) -> bool | None:
    """True when the postcode's area is one of the council's home or neighbouring areas; None when unknown."""
    area = postcode_area(postcode)
    if area is None:
        return None
    return area in {a.upper() for a in home_areas}
