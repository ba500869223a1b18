"""An options appraisal evaluated from plain values: no Django, no I/O (methods.appraisal does the sums).

``evaluate`` takes the options as dicts (yearly costs and benefits, optimism bias project types and cost shares,
MCDA scores, low/high ranges) and returns every figure the page, the API, the downloads and the PDF show, with the
recommendation and the switching values that would change it.
"""

import math

from commissioner.methods import appraisal as m

CRITERIA = (
    ("cost", "Cost"),
    ("quality", "Quality and outcomes"),
    ("social_value", "Social value"),
    ("risk", "Risk"),
    ("local_value", "Local value"),
)
CRITERION_NAMES = tuple(c for c, _ in CRITERIA)
DEFAULT_WEIGHTS = {"cost": 0.3, "quality": 0.3, "social_value": 0.15, "risk": 0.15, "local_value": 0.1}
DISCOUNTING = {"standard": "Green Book declining schedule (3.5% to year 30, then 3.0%, 2.5%, ...)",
               "health": "Health effects: 1.5% a year", "custom": "A single rate chosen by the council"}


def schedule_for(discounting, rate=None):
    if discounting == "health":
        return m.HEALTH_SCHEDULE
    if discounting == "custom":
        return ((math.inf, float(rate)),)
    return m.STPR_SCHEDULE


def _uplift(shares, bound):
    if not shares:
        return 0.0
    u = m.optimism_bias(shares, bound)
    # One stream of costs: capital types add their capex uplift, outsourcing its opex uplift, by cost share.
    return u.capex + u.opex


def _pv(option, schedule, cost_factor=1.0, benefit_factor=1.0):
    r = m.appraise(option["benefits"], m.uplifted(option["costs"], option["uplift"]), schedule)
    return r.pv_benefits * benefit_factor, r.pv_costs * cost_factor


def _ordered(values):
    """The index of the best and of the runner-up (first of equals wins)."""
    order = sorted(range(len(values)), key=lambda i: (-values[i], i))
    return order[0], (order[1] if len(order) > 1 else None)


def _pct(x):
    return f"{x:+.1f}%"


def _money(x):
    return f"-£{abs(x):,.0f}" if x < 0 else f"£{x:,.0f}"


def _years(years):
    """'2', '2 and 3' or '3 to 100'."""
    years = sorted(years)
    if len(years) == 1:
        return str(years[0])
    if years == list(range(years[0], years[-1] + 1)) and len(years) > 2:
        return f"{years[0]} to {years[-1]}"
    return ", ".join(map(str, years[:-1])) + f" and {years[-1]}"


def warnings_for(option, horizon=None):
    """What a reader should check about an option's figures, in plain words: years after the last one given
    (counted as £0), no benefits at all, negative costs (savings) and costs that add up to £0 or less."""
    out = []
    costs, benefits = option["costs"], option["benefits"]
    for name, flows in (("costs", costs), ("benefits", benefits)):
        if horizon is not None and flows and len(flows) < horizon + 1:
            out.append(f"{name.capitalize()} are given for years 0 to {len(flows) - 1} only: years "
                       f"{_years(range(len(flows), horizon + 1))} are counted as £0.")
    if not any(v for v in benefits if v is not None):
        out.append("No benefits are given: its net present social value is minus its costs.")
    negative = [i for i, v in enumerate(costs) if v is not None and v < 0]
    if negative:
        out.append(f"Costs are negative in year {_years(negative)}: they are counted as savings. Check that they "
                   "are not benefits.")
    if sum(v for v in costs if v is not None) <= 0:
        out.append("Its costs add up to £0 or less: the benefit-cost ratio is not meaningful.")
    return out


def evaluate(options, *, bound="upper", discounting="standard", rate=None, weights=None, draws=10_000, seed=2026,
             horizon=None):
    """Every result of the appraisal. ``options``: a list of dicts with ``name``, ``costs`` and ``benefits``
    (yearly, year 0 first, None for a missing year), ``ob_shares`` ({project type: cost share}), ``scores``
    ({criterion: 0-100 or None}), ``cost_range`` and ``benefit_range`` ((low %, high %) of the likely value).
    With ``horizon`` (years after year 0), each option's ``warnings`` also name the years it leaves out."""
    schedule = schedule_for(discounting, rate)
    w = m.normalise_weights(weights or DEFAULT_WEIGHTS)
    rows = []
    for o in options:
        missing = [i for i, v in enumerate(o["costs"]) if v is None] + \
                  [i for i, v in enumerate(o["benefits"]) if v is None]
        uplift = _uplift(o.get("ob_shares") or {}, bound)
        row = {**o, "uplift": uplift, "missing_years": sorted(set(missing)), "warnings": warnings_for(o, horizon)}
        raw = m.appraise(o["benefits"], o["costs"], schedule)
        res = m.appraise(o["benefits"], m.uplifted(o["costs"], uplift), schedule)
        row.update(pv_benefits=res.pv_benefits, pv_costs=res.pv_costs, pv_costs_before_ob=raw.pv_costs,
                   npsv=res.npsv, bcr=res.bcr,
                   years=max(len(o["costs"]), len(o["benefits"]), 1) - 1)
        rows.append(row)
    out = {"options": rows, "weights": w.weights, "weights_normalised": w.normalised, "weights_note": w.note,
           "bound": bound, "discounting": discounting, "rate": rate, "criteria": CRITERIA}
    if not rows:
        out.update(preferred=None, runner_up=None, mcda={}, monte_carlo=None, switching=[],
                   recommendation="No options yet: add business as usual and at least one alternative.",
                   changes=[])
        return out
    # Multi-criteria: missing scores count as 0 (and the page says which are missing).
    scores = {str(i): {c: (r["scores"].get(c) or 0) for c in CRITERION_NAMES} for i, r in enumerate(rows)}
    weighted = m.mcda(scores, w.weights)
    for i, r in enumerate(rows):
        r["mcda"] = weighted[str(i)]
        r["missing_scores"] = [c for c in CRITERION_NAMES if r["scores"].get(c) is None]
    # Monte Carlo on the present values, each between low % and high % of the likely value.
    spec = {}
    for i, r in enumerate(rows):
        def tri(value, pct):
            a, b = value * pct[0] / 100, value * pct[1] / 100
            return (min(a, value, b), value, max(a, value, b))
        spec[str(i)] = {"benefits": tri(r["pv_benefits"], r["benefit_range"]),
                        "costs": tri(r["pv_costs"], r["cost_range"])}
    mc = m.monte_carlo(spec, draws=draws, seed=seed)
    for i, r in enumerate(rows):
        k = str(i)
        r.update(probability_best=mc["probability"][k], mean_npsv=mc["mean_npsv"][k], p10=mc["p10"][k],
                 p90=mc["p90"][k])
    npsvs = [r["npsv"] for r in rows]
    best, second = _ordered(npsvs)
    mcda_best, _ = _ordered([r["mcda"] for r in rows])
    out.update(preferred=best, runner_up=second, mcda_best=mcda_best,
               monte_carlo={"draws": mc["draws"], "seed": mc["seed"]})
    out["switching"] = _switching(rows, best, second, schedule, discounting)
    out["recommendation"], out["changes"] = _recommend(rows, best, second, mcda_best, out["switching"])
    return out


def _switching(rows, best, second, schedule, discounting):
    """How far each main input must move before the preferred option stops having the highest NPSV."""
    if second is None:
        return []
    p, r = rows[best], rows[second]
    others = [x for i, x in enumerate(rows) if i != best]
    out = []

    def add(option, what, base, value, unit="factor"):
        if value is None:
            out.append({"option": option["name"], "input": what, "base": base, "switching_value": None,
                        "change": None, "unit": unit})
        else:
            change = (value / base - 1) * 100 if unit == "factor" else (value - base) * 100
            out.append({"option": option["name"], "input": what, "base": base, "switching_value": value,
                        "change": change, "unit": unit})

    def best_other():
        return max(x["npsv"] for x in others)

    # the preferred option's costs and benefits (scaled), against the best of the others
    add(p, "Present value of costs", 1.0, m.switching_value(
        lambda k: p["pv_benefits"] - p["pv_costs"] * k - best_other(), 1.0, 0.0, 100.0))
    add(p, "Present value of benefits", 1.0, m.switching_value(
        lambda k: p["pv_benefits"] * k - p["pv_costs"] - best_other(), 1.0, -100.0, 100.0))
    # the runner-up's costs and benefits, against the preferred option
    add(r, "Present value of costs", 1.0, m.switching_value(
        lambda k: p["npsv"] - (r["pv_benefits"] - r["pv_costs"] * k), 1.0, -100.0, 100.0))
    add(r, "Present value of benefits", 1.0, m.switching_value(
        lambda k: p["npsv"] - (r["pv_benefits"] * k - r["pv_costs"]), 1.0, -100.0, 100.0))
    if discounting != "custom":
        base = 0.035 if discounting == "standard" else 0.015

        def gap(rate):
            s = ((math.inf, rate),)
            pb, pc = _pv(p, s)
            return (pb - pc) - max(b - c for b, c in (_pv(x, s) for x in others))

        add(p, "Discount rate (one rate for every year)", base, m.switching_value(gap, base, 0.0, 0.3,
                                                                                   tolerance=1e-7), unit="rate")
    return out


def _recommend(rows, best, second, mcda_best, switching):
    p = rows[best]
    bcr = f"a benefit-cost ratio of {p['bcr']:.2f}" if p["bcr"] is not None else \
        "no meaningful benefit-cost ratio (its costs' present value is 0 or less)"
    text = (f"Recommended: {p['name']}. It has the highest net present social value, {_money(p['npsv'])}, "
            f"with {bcr}; it was best in {p['probability_best']:.0%} of the Monte Carlo draws.")
    if p["npsv"] < 0:
        text += " Every option costs more than it returns in money terms: this is the least costly."
    if p["warnings"]:
        text += " Check its figures first: " + " ".join(p["warnings"])
    if second is None:
        text += " It is the only option: add business as usual and the alternatives to compare them."
        return text, []
    if mcda_best != best:
        text += (f" The weighted scores put {rows[mcda_best]['name']} first: the council should weigh what they "
                 "capture that the money values do not.")
    changes = []
    for s in switching:
        if s["switching_value"] is None:
            changes.append(f"No change in {s['input'].lower()} of {s['option']} within the range tried would "
                           "change the recommendation.")
        elif s["unit"] == "rate":
            changes.append(f"A single discount rate of {s['switching_value']:.2%} (instead of "
                           f"{s['base']:.1%}) would change the recommendation.")
        else:
            changes.append(f"If the {s['input'].lower()} of {s['option']} moved by {_pct(s['change'])}, "
                           "the recommendation would change.")
    return text, changes


# Evidence for business as usual: suggested MCDA scores from performance and benchmarking ----------------

MIN_COMPARABLE_UNIT_COSTS = 3  # fewer comparable contracts than this: no cost score is suggested


def quality_score(counts):
    """A suggested 'quality and outcomes' score (0-100) from the current KPI returns of the contracts now
    delivering the service: the share classified met, as a percentage to one decimal place. ``counts`` maps
    met / slightly_below / below / significantly_below to numbers of returns. None when there are no returns."""
    total = sum(int(counts.get(k) or 0) for k in ("met", "slightly_below", "below", "significantly_below"))
    if total <= 0:
        return None
    return round(100 * int(counts.get("met") or 0) / total, 1)


def cost_score(unit_cost, comparables, minimum=MIN_COMPARABLE_UNIT_COSTS):
    """A suggested 'cost' score (0-100) from a unit cost against the unit costs of comparable contracts (same
    CPV division and unit, the contract itself left out): the share of them that cost more, counting equal
    ones as half (a percentile rank where cheaper is better), to one decimal place. None without a unit cost
    or with fewer than ``minimum`` comparables."""
    others = [float(c) for c in comparables if c is not None]
    if unit_cost is None or len(others) < minimum:
        return None
    unit_cost = float(unit_cost)
    dearer = sum(1 for c in others if c > unit_cost)
    equal = sum(1 for c in others if c == unit_cost)
    return round(100 * (dearer + equal / 2) / len(others), 1)
