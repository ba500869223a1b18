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


# Spend categories -> CPV divisions ---------------------------------------------------------------
#
# Spend files carry the council's own service or expense categories ("SOCIAL CARE", "HWY",
# "Parks & Open Spaces", "CAE - Waste Services"). A council maps each to a CPV division (the first two
# digits of a CPV code, as the register classifies contracts). ``suggest_division`` offers one from
# keywords for a category not yet mapped; it is a suggestion for a person to confirm, never applied
# on its own. A category with no keyword that fits gets no suggestion (None), never a guess.

_CODE_PREFIX = re.compile(r"^[A-Z]{3}\s+-\s+")  # Hyndburn's cost-centre codes: "CAE - Waste Services"
_NON_WORD = re.compile(r"[^a-z0-9]+")

# (keyword or phrase, CPV division). Matched on whole words of the normalised category; the longest
# matching phrase wins ("grounds maintenance" over "maintenance"), then the first in this list.
CPV_KEYWORDS: tuple[tuple[str, str], ...] = (
    # 85 Health and social work services
    ("social care", "85"), ("social work", "85"), ("sc", "85"), ("adult care", "85"), ("care home", "85"),
    ("domiciliary", "85"), ("homecare", "85"), ("home care", "85"), ("safeguarding", "85"), ("children", "85"),
    ("fostering", "85"), ("public health", "85"), ("health", "85"), ("housing advice", "85"),
    ("homeless", "85"), ("homelessness", "85"), ("resettlement", "85"), ("homes for ukraine", "85"),
    # 33 Medical equipment, pharmaceuticals
    ("medical", "33"), ("pharmaceutical", "33"), ("pharmacy", "33"),
    # 45 Construction work
    ("highways", "45"), ("highway", "45"), ("hwy", "45"), ("footway", "45"), ("construction", "45"),
    ("capital schemes", "45"), ("reroof", "45"), ("building works", "45"), ("disabled facilities", "45"),
    ("dfg", "45"), ("conversion", "45"), ("redevelopment", "45"), ("redevelopmt", "45"),
    # 44 Construction materials
    ("building materials", "44"),
    # 50 Repair and maintenance
    ("repair", "50"), ("repairs", "50"), ("maintenance", "50"), ("maint", "50"), ("r m", "50"),
    ("plumbing", "50"), ("boilers", "50"), ("lift", "50"), ("lifts", "50"),
    # 90 Sewage, refuse, cleaning and environmental services
    ("waste", "90"), ("refuse", "90"), ("recycling", "90"), ("cleansing", "90"), ("cleaning", "90"),
    ("janitorial", "90"), ("janatorial", "90"), ("tipping", "90"), ("pest control", "90"),
    ("asbestos", "90"), ("environment", "90"), ("environmental", "90"), ("environmental services", "90"),
    ("environmental protection", "90"), ("street cleansing", "90"),
    # 77 Horticultural services
    ("horticultural", "77"), ("horticulture", "77"), ("grounds maintenance", "77"), ("parks", "77"),
    ("open spaces", "77"), ("allotments", "77"), ("landscaping", "77"), ("green infrastructure", "77"),
    ("trees", "77"), ("parks and cemeteries", "77"), ("parks cemeteries", "77"),
    # 98 Other community, social and personal services (funeral services)
    ("cemeteries", "98"), ("cemetery", "98"), ("crematorium", "98"), ("bereavement", "98"),
    # 72 IT services; 48 software
    ("ict", "72"), ("it services", "72"), ("computer", "72"), ("computer services", "72"),
    ("tech refresh", "30"), ("software", "48"),
    # 79 Business services
    ("legal", "79"), ("consultancy", "79"), ("consulting", "79"), ("hr", "79"), ("human resources", "79"),
    ("recruitment", "79"), ("agency staff", "79"), ("accountancy", "79"), ("audit", "79"),
    ("internal audit", "79"), ("interpretation", "79"), ("translation", "79"), ("printing", "79"),
    ("graphics", "79"), ("communications", "79"), ("marketing", "79"), ("security", "79"), ("cctv", "79"),
    ("facilities", "79"), ("facilities mgt", "79"), ("facilities management", "79"), ("fm", "79"),
    # 66 Financial and insurance services
    ("insurance", "66"), ("insurances", "66"), ("bank charges", "66"), ("bank", "66"), ("treasury", "66"),
    # 75 Administration services
    ("administration", "75"), ("benefits", "75"), ("housing benefit", "75"), ("local taxation", "75"),
    ("council tax", "75"), ("customer services", "75"), ("customer contact", "75"), ("elections", "75"),
    ("electors", "75"), ("democratic services", "75"), ("member services", "75"), ("licensing", "75"),
    ("licencing", "75"), ("land charges", "75"), ("housing standards", "75"),
    # 71 Architectural, engineering, inspection and planning
    ("planning", "71"), ("building control", "71"), ("development control", "71"), ("engineers", "71"),
    ("engineering", "71"), ("surveying", "71"), ("health safety", "71"), ("health and safety", "71"),
    # 80 Education and training
    ("education", "80"), ("training", "80"), ("schools", "80"), ("school", "80"),
    # 92 Recreational, cultural and sporting services
    ("leisure", "92"), ("sport", "92"), ("sports", "92"), ("art gallery", "92"), ("theatre", "92"),
    ("museum", "92"), ("library", "92"), ("libraries", "92"), ("arts", "92"), ("culture", "92"),
    # 37 Sport goods
    ("sports equipment", "37"),
    # 60 Transport services; 34 vehicles; 09 fuel
    ("transport", "60"), ("public transport", "60"), ("taxi", "60"), ("taxis", "60"),
    ("home to school transport", "60"), ("vehicles", "34"), ("vehicle", "34"), ("fleet", "34"),
    ("vehicle maint", "50"), ("fuel", "09"),
    # 65 Public utilities
    ("utilities", "65"), ("electricity", "65"), ("gas", "65"), ("water", "65"), ("energy", "65"),
    # 64 Postal and telecommunications
    ("mail", "64"), ("mail services", "64"), ("postage", "64"), ("postal", "64"), ("telephones", "64"),
    ("telecommunications", "64"),
    # 55 Catering
    ("catering", "55"), ("food", "15"),
    # 70 Real estate services
    ("property", "70"), ("corporate property", "70"), ("estates", "70"), ("markets", "70"),
    ("market hall", "70"),
)


def category_key(text: str | None) -> str:
    """The key a category is remembered by: lower case, '&' read as 'and', punctuation and repeated
    spaces dropped. "ACCOUNTANCY" and "Accountancy", "P & CG" and "p and cg" are one category."""
    if not text:
        return ""
    t = str(text).replace("&", " and ").lower()
    return " ".join(_NON_WORD.sub(" ", t).split())[:200]


def _words(text: str) -> str:
    t = _CODE_PREFIX.sub("", str(text).strip())
    # '&' is dropped here (not read as 'and') so "R & M" matches "r m" and "Health & Safety" "health safety".
    return " " + " ".join(_NON_WORD.sub(" ", t.lower()).split()) + " "


_KEYWORDS = [(" " + " ".join(_NON_WORD.sub(" ", k).split()) + " ", k, d, i) for i, (k, d) in enumerate(CPV_KEYWORDS)]


def suggest_division(category: str | None) -> tuple[str, str] | None:
    """A CPV division for a spend category from its words: (division, the keyword that matched), or
    None when no keyword fits (blank, "Not stated", place names, project codes). Whole words only, so
    "SC" (Trafford's social care) matches but "Scaitcliffe House" does not; the longest phrase wins."""
    if not category or not str(category).strip():
        return None
    words = _words(category)
    best = None
    for padded, keyword, division, order in _KEYWORDS:
        if padded in words and (best is None or len(padded) > len(best[0])):
            best = (padded, keyword, division, order)
    return (best[2], best[1]) if best else None


# Guessing a spend file's columns from its headers ----------------------------------------------------
#
# For a layout we do not know, the upload page preselects a column for each field from the header's words; the
# user confirms or changes them. Each field has patterns in order of preference (whole words, on the header in
# lower case); a column is given to one field at most, fields taking their turn in the order below, so "Supplier
# Name" goes to the payee before "name" could be read as anything else.
COLUMN_GUESSES = (
    ("amount", (r"net amount", r"amount", r"value", r"total", r"£", r"gross")),
    ("date", (r"payment date", r"date paid", r"paid date", r"transaction date", r"invoice date", r"date")),
    ("supplier_id", (r"vat registration( number| no)?", r"vat (number|no|reg)", r"companies house", r"company (number|no|reg\w*)",
                     r"charity (number|no)", r"supplier (id|number|no|code)", r"creditor (id|number|no)")),
    ("payee", (r"supplier( name)?", r"payee( name)?", r"beneficiary( name)?", r"vendor( name)?", r"creditor( name)?",
               r"merchant( name)?", r"recipient", r"name")),
    ("reference", (r"transaction (number|no|id|ref\w*)", r"invoice (number|no|ref\w*)", r"reference", r"ref( no)?",
                   r"document (number|no)", r"voucher")),
    ("category", (r"expense type", r"expenditure (type|category)", r"category", r"pro ?class( label)?",
                  r"service area", r"subjective\w*", r"account (detail|description|name)", r"expense")),
    ("department", (r"department", r"directorate", r"service", r"cost cent(re|er)( name)?", r"organisational unit",
                    r"division", r"portfolio")),
    ("description", (r"description", r"purpose", r"narrative", r"details?", r"summary")),
)


def _header_words(text: str) -> str:
    text = str(text or "").replace("\ufeff", "")
    text = re.sub(r"([a-z])([A-Z])|([A-Z])([A-Z][a-z])", r"\1\3 \2\4", text)  # PaymentDate, VATNumber: two words
    return " ".join(re.sub(r"[^a-z0-9£]+", " ", text.lower()).split())


def guess_columns(headers) -> dict[str, int]:
    """{field: 1-based column number} guessed from a spend file's header cells; fields with no likely column are
    left out. "Date, Supplier, Amount, Description" -> {"amount": 3, "date": 1, "payee": 2, "description": 4}."""
    names = [_header_words(h) for h in headers]
    taken, out = set(), {}
    for field, patterns in COLUMN_GUESSES:
        for pattern in patterns:
            rx = re.compile(rf"(?:^|\s){pattern}(?:\s|$)" if pattern != "£" else "£")
            found = next((i for i, n in enumerate(names) if i not in taken and n and rx.search(n)), None)
            if found is not None:
                out[field] = found + 1
                taken.add(found)
                break
    return out
