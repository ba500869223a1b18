"""Proportionate supplier financial risk (Cabinet Office economic and financial standing guidance, 2021,
updated 2024; Procurement Act 2023 s.22), pure functions.

Two things are kept apart:

- **exposure**: how large the contract is against the supplier (annual contract value / annual turnover,
  per lot when the contract is lotted) and how critical the service is;
- **financial health**: operating margin, acid ratio ((current assets - stock) / current liabilities),
  gearing (borrowing / shareholder funds), net assets, interest cover (operating profit / interest) and
  the trend of turnover and operating profit over the years given. Size is not a health indicator:
  a large firm losing money with high gearing is weak whatever its turnover.

Mitigations (parent company guarantee, performance bond, step-in rights, lotting, payment profile,
shorter term) then move the result. The rating is low / medium / high with a plain-English reason for
every factor and what would move it. A supplier not required to have audited accounts that has none is
not failed for it: its health is "not assessed" and the rating rests on exposure and any other evidence.

The legacy rule (turnover at least 2x the annual contract value) is worked out beside it, for comparison
only. See docs/methods.md, "Supplier financial risk".
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

LEVELS = ("low", "medium", "high")
CRITICALITY = ("low", "medium", "high")
MITIGATIONS = {
    "parent_company_guarantee": "a parent company guarantee",
    "performance_bond": "a performance bond",
    "step_in_rights": "step-in rights",
    "lotting": "lotting the contract",
    "payment_profile": "paying in arrears or by milestone",
    "shorter_term": "a shorter initial term",
}
# Exposure: annual value / turnover below the first figure is low, below the second medium, else high.
EXPOSURE_BANDS = (0.3, 1.0)
LEGACY_MULTIPLE = 2
CREDIT_BANDS = ((20, "very high risk"), (29, "high risk"), (50, "moderate risk"), (70, "low risk"),
                (100, "very low risk"))


class RiskError(ValueError):
    def __init__(self, field, message):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def _number(value, field, *, optional=False):
    if value is None or value == "":
        if optional:
            return None
        raise RiskError(field, "is needed")
    if isinstance(value, bool):
        raise RiskError(field, f"must be a number, not {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise RiskError(field, f"must be a number, not {value!r}") from None
    if not math.isfinite(out):
        raise RiskError(field, "must be a finite number")
    return out


@dataclass(frozen=True)
class Accounts:
    """One year's accounts (pounds). Any figure may be None (not given)."""

    year: int
    turnover: float | None = None
    operating_profit: float | None = None
    profit_after_tax: float | None = None
    current_assets: float | None = None
    stock: float | None = None
    current_liabilities: float | None = None
    borrowing: float | None = None
    shareholder_funds: float | None = None
    net_assets: float | None = None
    interest: float | None = None
    cash: float | None = None

    def get(self, name):
        return _number(getattr(self, name), f"{self.year} {name.replace('_', ' ')}", optional=True)


def credit_band(score) -> str:
    """Creditsafe-style bands on 0-100: 0-20 very high risk, 21-29 high, 30-50 moderate, 51-70 low,
    71-100 very low."""
    s = _number(score, "credit score")
    if not 0 <= s <= 100:
        raise RiskError("credit score", "must be from 0 to 100")
    return next(label for top, label in CREDIT_BANDS if s <= top)


def acid_ratio(current_assets, stock, current_liabilities) -> float | None:
    """(current assets - stock) / current liabilities; None with no liabilities (nothing to cover: not a
    division by zero, and not a concern)."""
    if not current_liabilities:
        return None
    return (current_assets - (stock or 0)) / current_liabilities


def gearing(borrowing, shareholder_funds) -> float | None:
    """Borrowing / shareholder funds; None when shareholder funds are 0 or negative (see net assets)."""
    if shareholder_funds is None or shareholder_funds <= 0:
        return None
    return (borrowing or 0) / shareholder_funds


def pass_two_of_three(profit_after_tax, current_assets, stock, current_liabilities, borrowing,
                      shareholder_funds) -> tuple[bool, list[bool]]:
    """A simple published rule (a college's "pass 2 of 3"): profit after tax > 0; acid ratio >= 1;
    gearing <= 100%. No current liabilities passes the acid test."""
    acid = acid_ratio(current_assets, stock, current_liabilities)
    gear = gearing(borrowing, shareholder_funds)
    tests = [profit_after_tax > 0, acid is None or acid >= 1, gear is not None and gear <= 1]
    return sum(tests) >= 2, tests


@dataclass
class Factor:
    name: str
    status: str  # good / concern / serious / info / missing
    explanation: str


@dataclass
class Assessment:
    rating: str  # low / medium / high
    exposure: str  # low / medium / high
    exposure_ratio: float | None
    health: str  # strong / adequate / weak / not assessed
    factors: list = field(default_factory=list)
    mitigations: list = field(default_factory=list)  # explanations of what each mitigation did
    moves: list = field(default_factory=list)  # what evidence or mitigation would move the rating
    legacy: dict = field(default_factory=dict)


def _pct(x):
    return f"{x * 100:.0f}%"


def _money(x):
    return f"£{x:,.0f}"


def _health(years: Sequence[Accounts]) -> tuple[str, list[Factor]]:
    latest = years[-1]
    factors = []
    concerns = serious = 0

    def add(name, status, text):
        nonlocal concerns, serious
        concerns += status == "concern"
        serious += status == "serious"
        factors.append(Factor(name, status, text))

    turnover, op = latest.get("turnover"), latest.get("operating_profit")
    if turnover and op is not None:
        margin = op / turnover
        if margin < 0:
            add("Operating margin", "serious", f"An operating loss: margin {_pct(margin)} in {latest.year}.")
        elif margin < 0.02:
            add("Operating margin", "concern", f"A thin operating margin of {_pct(margin)} in {latest.year}.")
        else:
            add("Operating margin", "good", f"Operating margin {_pct(margin)} in {latest.year}.")
    else:
        factors.append(Factor("Operating margin", "missing", "Turnover or operating profit not given."))
    ca, liabilities = latest.get("current_assets"), latest.get("current_liabilities")
    if ca is not None and liabilities is not None:
        acid = acid_ratio(ca, latest.get("stock"), liabilities)
        if acid is None:
            add("Acid ratio", "good", "No current liabilities: nothing falls due that the firm must cover.")
        elif acid < 0.5:
            add("Acid ratio", "serious", f"Acid ratio {acid:.2f}: liquid assets cover only half of what falls due.")
        elif acid < 1:
            add("Acid ratio", "concern", f"Acid ratio {acid:.2f}: liquid assets do not cover current liabilities.")
        else:
            add("Acid ratio", "good", f"Acid ratio {acid:.2f}: liquid assets cover current liabilities.")
    else:
        factors.append(Factor("Acid ratio", "missing", "Current assets or current liabilities not given."))
    funds, borrowing = latest.get("shareholder_funds"), latest.get("borrowing")
    if funds is not None:
        gear = gearing(borrowing, funds)
        if gear is None:
            add("Gearing", "serious", "Shareholder funds are nil or negative: the firm owes more than it owns.")
        elif gear > 2:
            add("Gearing", "serious", f"Gearing {_pct(gear)}: borrowing is more than twice shareholder funds.")
        elif gear > 1:
            add("Gearing", "concern", f"Gearing {_pct(gear)}: borrowing exceeds shareholder funds.")
        else:
            add("Gearing", "good", f"Gearing {_pct(gear)}.")
    else:
        factors.append(Factor("Gearing", "missing", "Shareholder funds not given."))
    net_assets = latest.get("net_assets")
    if net_assets is not None:
        if net_assets < 0:
            add("Net assets", "serious", f"Net liabilities of {_money(-net_assets)}.")
        else:
            add("Net assets", "good", f"Net assets of {_money(net_assets)}.")
    interest = latest.get("interest")
    if interest and op is not None:
        cover = op / interest
        if cover < 1.5:
            add("Interest cover", "concern" if cover >= 1 else "serious",
                f"Interest cover {cover:.1f}: operating profit {'barely covers' if cover >= 1 else 'does not cover'} "
                "interest.")
        else:
            add("Interest cover", "good", f"Interest cover {cover:.1f}.")
    if len(years) >= 2:
        first = years[0]
        t0, t1 = first.get("turnover"), latest.get("turnover")
        p0, p1 = first.get("operating_profit"), latest.get("operating_profit")
        span = f"{first.year} to {latest.year}"
        if t0 and t1 is not None and t1 < t0 * 0.8:
            add("Trend", "concern", f"Turnover fell by {_pct(1 - t1 / t0)} from {span}.")
        elif p0 is not None and p1 is not None and p0 > 0 and p1 < 0:
            add("Trend", "concern", f"From an operating profit to a loss from {span}.")
        else:
            add("Trend", "good", f"Turnover and profit stable or growing from {span}.")
    if serious >= 2 or (serious and concerns):
        return "weak", factors
    return ("adequate" if serious or concerns else "strong"), factors


def assess(*, annual_value, accounts: Sequence[Accounts] = (), criticality="medium", mitigations=(), lots=1,
           audited_accounts_required=True, credit_score=None) -> Assessment:
    """Rate the financial risk of awarding this contract (annual value in pounds) to this supplier."""
    value = _number(annual_value, "annual contract value")
    if value <= 0:
        raise RiskError("annual contract value", "must be more than 0")
    if criticality not in CRITICALITY:
        raise RiskError("criticality", "choose low, medium or high")
    unknown = [m for m in mitigations if m not in MITIGATIONS]
    if unknown:
        raise RiskError("mitigations", f"unknown: {', '.join(map(str, unknown))}")
    if isinstance(lots, bool) or not isinstance(lots, int) or lots < 1:
        raise RiskError("lots", "must be a whole number of 1 or more")
    if len(accounts) > 3:
        raise RiskError("accounts", "give at most three years")
    years = sorted(accounts, key=lambda a: a.year)
    if len({a.year for a in years}) != len(years):
        raise RiskError("accounts", "each year may be given once")
    mitigations = list(dict.fromkeys(mitigations))
    per_lot = value / lots if "lotting" in mitigations else value
    turnover = years[-1].get("turnover") if years else None
    if turnover is not None and turnover < 0:
        raise RiskError(f"{years[-1].year} turnover", "must be 0 or more")

    result = Assessment(rating="medium", exposure="medium", exposure_ratio=None, health="not assessed")
    # exposure
    if turnover == 0:  # given, and nil: the contract would be the whole of the firm's business, and more
        level = 2
        text = "Turnover is nil: the contract would be more than the whole of the supplier's business."
    elif turnover:
        ratio = per_lot / turnover
        result.exposure_ratio = ratio
        level = 0 if ratio < EXPOSURE_BANDS[0] else 1 if ratio < EXPOSURE_BANDS[1] else 2
        text = (f"The contract ({_money(per_lot)} a year{' per lot' if per_lot != value else ''}) is "
                f"{_pct(ratio)} of the supplier's turnover ({_money(turnover)}).")
    else:
        level = 1
        text = "No turnover given: exposure cannot be measured and is taken as medium."
    if criticality == "high" and level < 2:
        level += 1
        text += " The service is critical, which raises the exposure one level."
    elif criticality == "low" and level > 0:
        level -= 1
        text += " The service is not critical, which lowers the exposure one level."
    result.exposure = LEVELS[level]
    result.factors.append(Factor("Exposure", ("good", "concern", "serious")[level], text))

    # health
    if years:
        result.health, health_factors = _health(years)
        result.factors.extend(health_factors)
    elif audited_accounts_required:
        result.health = "weak"
        result.factors.append(Factor("Accounts", "serious", "No accounts given, though the supplier is required to "
                                                            "publish audited accounts: ask for them."))
    else:
        result.factors.append(Factor("Accounts", "info", "No accounts given; the supplier is not required to have "
                                                         "audited accounts, so this is not a fail. Management "
                                                         "accounts, a bank reference or a credit score can show its "
                                                         "health."))
    if credit_score is not None:
        band = credit_band(credit_score)
        status = "serious" if band in ("very high risk", "high risk") else "concern" if band == "moderate risk" \
            else "good"
        result.factors.append(Factor("Credit score", status,
                                     f"Credit score {_number(credit_score, 'credit score'):g}: {band}."))
        if status == "serious" and result.health in ("strong", "adequate", "not assessed"):
            result.health = "weak" if result.health != "strong" else "adequate"

    # combine: weak health raises the exposure level by one; strong health cannot lower it
    rating = level + (1 if result.health == "weak" else 0)
    # mitigations
    if "parent_company_guarantee" in mitigations and result.health == "weak":
        rating -= 1
        result.mitigations.append("A parent company guarantee stands behind the supplier's weak finances: "
                                  "one level lower (check the guarantor's own accounts).")
    exposure_mitigations = [m for m in mitigations if m in ("performance_bond", "step_in_rights", "payment_profile",
                                                            "shorter_term")]
    if exposure_mitigations and rating > 0:
        cut = 1 if len(exposure_mitigations) < 3 else 2
        rating -= cut
        result.mitigations.append(
            f"With {', '.join(MITIGATIONS[m] for m in exposure_mitigations)}, the council stands to lose less: "
            f"{'one level' if cut == 1 else 'two levels'} lower.")
    if "lotting" in mitigations and lots > 1:
        result.mitigations.append(f"Lotting into {lots} lots: exposure measured on one lot.")
    floor = 1 if result.health == "weak" and "parent_company_guarantee" not in mitigations else 0
    rating = max(floor, min(2, rating))
    result.rating = LEVELS[rating]

    # what would move it
    if result.rating != "low":
        if result.health == "not assessed":
            result.moves.append("Management accounts, a bank reference or a credit score showing sound finances.")
        if result.health == "weak" and "parent_company_guarantee" not in mitigations:
            result.moves.append("A parent company guarantee from a financially sound parent.")
        missing = [m for m in ("performance_bond", "payment_profile", "step_in_rights", "shorter_term")
                   if m not in mitigations]
        if missing and not (floor and rating == 1):
            result.moves.append(f"A proportionate mitigation: {', '.join(MITIGATIONS[m] for m in missing)}.")
        if result.exposure != "low" and "lotting" not in mitigations:
            result.moves.append("Lotting the contract, so that each lot is a smaller share of turnover.")
        if floor:
            result.moves.append("Better financial health (a return to operating profit, lower gearing): size alone "
                                "does not lower this rating, nor do mitigations other than a guarantee.")
    # the legacy rule, for comparison
    if turnover:
        passes = turnover >= LEGACY_MULTIPLE * value
        result.legacy = {"passes": passes, "rule": "turnover at least 2x the annual contract value",
                         "explanation": f"Turnover {_money(turnover)} is {turnover / value:.2f}x the annual value "
                                        f"{_money(value)}: the legacy rule would {'accept' if passes else 'reject'} "
                                        "this supplier."}
    else:
        given = "Turnover is nil" if turnover == 0 else "No turnover given"
        result.legacy = {"passes": False, "rule": "turnover at least 2x the annual contract value",
                         "explanation": f"{given}: the legacy rule would reject this supplier."}
    return result
