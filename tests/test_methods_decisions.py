"""Decision methods (issue 5): the worked examples of methods.md sections 1 (Green Book), 2 (SROI) and 3
(supplier financial risk), and the bad inputs they must survive. Pure functions: no database."""

import math

import pytest

from commissioner.methods import appraisal as ap
from commissioner.methods import sroi as sr
from commissioner.methods import supplier_risk as risk

# -- Green Book ---------------------------------------------------------------------------------------


def test_discount_factors_worked_example():
    factors = ap.discount_factors(31)
    assert round(factors[10], 4) == 0.7089 and round(factors[30], 4) == 0.3563 and round(factors[31], 4) == 0.3459
    assert factors[31] == pytest.approx(factors[30] / 1.03)
    assert factors[0] == 1.0 and ap.discount_factor(1) == pytest.approx(1 / 1.035)


def test_declining_schedule_over_long_horizons():
    f = ap.discount_factors(320)
    assert f[76] == pytest.approx(f[75] / 1.025) and f[126] == pytest.approx(f[125] / 1.02)
    assert f[201] == pytest.approx(f[200] / 1.015) and f[301] == pytest.approx(f[300] / 1.01)
    assert ap.discount_factor(10, ap.HEALTH_SCHEDULE) == pytest.approx(1.015 ** -10)


def test_npsv_and_bcr_worked_example():
    result = ap.appraise(benefits=[0] + [150_000] * 10, costs=[1_000_000])
    assert round(result.pv_benefits, 2) == 1_247_490.80
    assert round(result.npsv, 2) == 247_490.80 and round(result.bcr, 4) == 1.2475


def test_negative_and_zero_costs_and_missing_years():
    saving = ap.appraise(benefits=[0, 100], costs=[-50])
    assert saving.bcr is None and saving.npsv == pytest.approx(100 / 1.035 + 50)
    assert ap.appraise(benefits=[None, 100, None, 100], costs=[]).pv_costs == 0
    assert ap.present_value([0] * 100 + [1]) == pytest.approx(ap.discount_factor(100))


@pytest.mark.parametrize("flows, message", [
    (["lots"], "must be a number"), ([math.inf], "finite"), ([True], "must be a number"),
    ([1] * 1002, "at most 1000 years"),
])
def test_bad_flows(flows, message):
    with pytest.raises(ap.AppraisalError, match=message):
        ap.present_value(flows)


def test_absurd_rates_are_refused():
    with pytest.raises(ap.AppraisalError, match="between -50% and 100%"):
        ap.discount_factors(5, ((math.inf, 5.0),))


def test_optimism_bias_mixed_project():
    uplift = ap.optimism_bias({"non_standard_buildings": 0.3, "standard_buildings": 0.7})
    assert uplift.capex == pytest.approx(32.1) and uplift.duration == pytest.approx(14.5)
    assert ap.optimism_bias({"outsourcing": 1}).opex == 41 and ap.optimism_bias({"outsourcing": 1}, "lower").opex == 0
    # shares need not sum to 1: 3 and 7 are 30% and 70%
    assert ap.optimism_bias({"non_standard_buildings": 3, "standard_buildings": 7}).capex == pytest.approx(32.1)
    assert ap.uplifted([100, 200], 32.1) == pytest.approx([132.1, 264.2])
    for bad in ({}, {"castle": 1}, {"outsourcing": -1}, {"outsourcing": 0}):
        with pytest.raises(ap.AppraisalError):
            ap.optimism_bias(bad)


def test_mcda_weights_that_do_not_sum_to_one_are_normalised_and_said():
    w = ap.normalise_weights({"cost": 40, "quality": 30, "social_value": 20, "risk": 10})
    assert w.normalised and w.weights["cost"] == pytest.approx(0.4) and "added up to 100" in w.note
    assert not ap.normalise_weights({"cost": 0.5, "quality": 0.5}).normalised
    scores = ap.mcda({"in-house": {"cost": 60, "quality": 80}, "VCSE": {"cost": 80, "quality": 70}},
                     {"cost": 1, "quality": 1})
    assert scores == {"in-house": pytest.approx(70), "VCSE": pytest.approx(75)}
    with pytest.raises(ap.AppraisalError, match="at least one weight"):
        ap.normalise_weights({"cost": 0})


def test_switching_value_of_an_input():
    # option A: benefits b a year for 10 years against a cost of 1,000,000; where does its NPSV reach 0?
    annuity = sum(ap.discount_factors(10)[1:])

    def npsv(b):
        return ap.appraise([0] + [b] * 10, [1_000_000]).npsv

    value = ap.switching_value(npsv, 150_000, 0, 1_000_000)
    assert value == pytest.approx(1_000_000 / annuity, abs=0.001) and round(value, 2) == 120_241.37
    assert ap.switching_value(npsv, 150_000, 140_000, 160_000) is None


def test_monte_carlo_is_reproducible_and_plausible():
    options = {"in-house": {"benefits": (900, 1000, 1100), "costs": (800, 900, 1000)},
               "VCSE": {"benefits": (950, 1050, 1300), "costs": (850, 900, 950)},
               "do minimum": {"benefits": (0, 0, 0), "costs": (0, 0, 0)}}
    first = ap.monte_carlo(options, draws=20_000, seed=7)
    assert first == ap.monte_carlo(options, draws=20_000, seed=7)
    assert sum(first["probability"].values()) == pytest.approx(1)
    assert first["probability"]["VCSE"] > first["probability"]["in-house"] > 0
    # means of triangular distributions: (low + likely + high) / 3
    assert first["mean_npsv"]["VCSE"] == pytest.approx((950 + 1050 + 1300) / 3 - 900, abs=3)
    with pytest.raises(ap.AppraisalError, match="low <= likely <= high"):
        ap.monte_carlo({"x": {"benefits": (3, 2, 1)}})


# -- SROI ---------------------------------------------------------------------------------------------

EXAMPLE = sr.Outcome("jobs", quantity=100, proxy=1000, deadweight=0.2, displacement=0.1, attribution=0.25,
                     drop_off=0.1, years=3)


def test_sroi_worked_example():
    result = sr.sroi([EXAMPLE], 100_000)
    assert [round(v, 2) for v in result.yearly] == [54_000, 48_600, 43_740]
    assert round(result.present_value, 2) == 136_993.51
    assert round(result.ratio, 4) == 1.3699 and round(result.net_ratio, 4) == 0.3699
    assert round(result.payback_months, 2) == 22.22
    dw = sr.switching_value([EXAMPLE], 100_000, 0, "deadweight")
    assert round(dw, 3) == 0.416
    assert sr.sroi([sr.Outcome(**{**EXAMPLE.__dict__, "deadweight": dw})], 100_000).ratio == pytest.approx(1.0)


@pytest.mark.parametrize("change, message", [
    ({"deadweight": 1.2}, "deadweight: must be between 0 and 1"), ({"attribution": -0.1}, "attribution"),
    ({"drop_off": "a lot"}, "must be a number"), ({"years": 0}, "benefit period"), ({"quantity": -5}, "quantity"),
])
def test_sroi_bad_inputs(change, message):
    with pytest.raises(sr.SroiError, match=message):
        sr.sroi([sr.Outcome(**{**EXAMPLE.__dict__, **change})], 100_000)


def test_sroi_zero_inputs_and_counting_conventions():
    result = sr.sroi([EXAMPLE], 0)
    assert result.ratio is None and result.payback_months is None and result.present_value > 0
    assert sr.fte(10, 5) == 12.5 and sr.fte(10, 5, years=2) == 25
    assert sr.shared_benefit(900, 3) == 300


# -- supplier financial risk --------------------------------------------------------------------------

def test_pass_two_of_three_worked_example():
    passed, tests = risk.pass_two_of_three(100_000, 500, 50, 400, 300, 250)
    assert tests == [True, True, False] and passed
    assert round(risk.acid_ratio(500, 50, 400), 3) == 1.125 and risk.gearing(300, 250) == 1.2


def test_credit_bands():
    assert risk.credit_band(50) == "moderate risk" and risk.credit_band(51) == "low risk"
    assert [risk.credit_band(s) for s in (0, 20, 21, 29, 30, 70, 71, 100)] == [
        "very high risk", "very high risk", "high risk", "high risk", "moderate risk", "low risk", "very low risk",
        "very low risk"]
    with pytest.raises(risk.RiskError):
        risk.credit_band(101)


def sme(year, turnover=1_000_000):
    return risk.Accounts(year=year, turnover=turnover, operating_profit=turnover * 0.08, profit_after_tax=60_000,
                         current_assets=400_000, stock=20_000, current_liabilities=250_000, borrowing=50_000,
                         shareholder_funds=300_000, net_assets=300_000, interest=2_000, cash=150_000)


def test_small_stable_profitable_sme_is_acceptable_with_a_proportionate_mitigation():
    accounts = [sme(2022, 950_000), sme(2023, 980_000), sme(2024)]
    bare = risk.assess(annual_value=600_000, accounts=accounts)
    assert bare.exposure == "medium" and bare.health == "strong" and bare.rating == "medium"
    assert round(bare.exposure_ratio, 2) == 0.6
    assert not bare.legacy["passes"] and "1.67x" in bare.legacy["explanation"]
    assert any("paying in arrears" in m for m in bare.moves)
    mitigated = risk.assess(annual_value=600_000, accounts=accounts, mitigations=["payment_profile"])
    assert mitigated.rating == "low" and not mitigated.legacy["passes"]
    assert mitigated.mitigations and "paying in arrears" in mitigated.mitigations[0]


def test_large_firm_with_losses_and_high_gearing_is_not_rescued_by_size():
    big = risk.Accounts(year=2024, turnover=2_000_000_000, operating_profit=-60_000_000, profit_after_tax=-80_000_000,
                        current_assets=500_000_000, stock=100_000_000, current_liabilities=600_000_000,
                        borrowing=900_000_000, shareholder_funds=300_000_000, net_assets=300_000_000,
                        interest=40_000_000)
    result = risk.assess(annual_value=600_000, accounts=[big], mitigations=["performance_bond", "payment_profile"])
    assert result.exposure == "low" and result.health == "weak" and result.rating == "medium"
    assert result.legacy["passes"]  # the legacy rule only looks at size
    statuses = {f.name: f.status for f in result.factors}
    assert statuses["Operating margin"] == "serious" and statuses["Gearing"] == "serious"
    assert any("size alone" in m for m in result.moves)
    critical = risk.assess(annual_value=600_000, accounts=[big], criticality="high")
    assert critical.rating == "high"
    guaranteed = risk.assess(annual_value=600_000, accounts=[big], mitigations=["parent_company_guarantee"])
    assert guaranteed.rating == "low"


def test_missing_accounts_of_a_firm_not_required_to_have_audited_accounts_is_not_a_fail():
    result = risk.assess(annual_value=40_000, accounts=[], audited_accounts_required=False)
    assert result.health == "not assessed" and result.rating == "medium"
    assert any(f.name == "Accounts" and "not a fail" in f.explanation for f in result.factors)
    assert risk.assess(annual_value=40_000, audited_accounts_required=False, credit_score=80,
                       mitigations=["payment_profile"]).rating == "low"
    required = risk.assess(annual_value=40_000, accounts=[], audited_accounts_required=True)
    assert required.health == "weak" and required.rating == "high"


def test_zero_liabilities_do_not_divide_by_zero_and_bad_input_is_named():
    a = risk.Accounts(year=2024, turnover=100_000, operating_profit=10_000, current_assets=5_000,
                      current_liabilities=0, shareholder_funds=10_000, borrowing=0)
    result = risk.assess(annual_value=10_000, accounts=[a])
    assert {f.name: f.status for f in result.factors}["Acid ratio"] == "good"
    assert risk.acid_ratio(5, 0, 0) is None
    for kwargs, message in (({"annual_value": 0}, "more than 0"), ({"annual_value": "lots"}, "must be a number"),
                            ({"annual_value": 1, "criticality": "extreme"}, "criticality"),
                            ({"annual_value": 1, "mitigations": ["prayer"]}, "unknown: prayer"),
                            ({"annual_value": 1, "accounts": [sme(2020), sme(2021), sme(2022), sme(2023)]},
                             "at most three years"),
                            ({"annual_value": 1, "accounts": [sme(2020), sme(2020)]}, "each year may be given once"),
                            ({"annual_value": 1, "accounts": [risk.Accounts(2024, turnover="x")]}, "2024 turnover")):
        with pytest.raises(risk.RiskError, match=message):
            risk.assess(**kwargs)


def test_lotting_measures_exposure_on_one_lot():
    result = risk.assess(annual_value=600_000, accounts=[sme(2024)], mitigations=["lotting"], lots=3)
    assert round(result.exposure_ratio, 2) == 0.2 and result.exposure == "low" and result.rating == "low"


# Evidence for business as usual (docs/appraisal.md) ---------------------------------------------------

def test_quality_score_is_the_share_of_current_returns_met():
    from commissioner.methods.options_appraisal import quality_score

    assert quality_score({"met": 6, "slightly_below": 2, "below": 1, "significantly_below": 1}) == 60.0
    assert quality_score({"met": 2, "below": 1}) == 66.7
    assert quality_score({"met": 0, "significantly_below": 3}) == 0.0
    assert quality_score({}) is None
    assert quality_score({"met": 0, "below": 0}) is None


def test_cost_score_is_the_share_of_comparable_contracts_that_cost_more():
    from commissioner.methods.options_appraisal import cost_score

    # £20 an hour against 18, 20, 22, 25, 30: three cost more, one the same -> (3 + 0.5) / 5 = 70%.
    assert cost_score(20, [18, 20, 22, 25, 30]) == 70.0
    assert cost_score(10, [18, 20, 22]) == 100.0
    assert cost_score(40, [18, 20, 22]) == 0.0
    assert cost_score(20, [18, 22]) is None  # too few comparables to say
    assert cost_score(None, [18, 20, 22]) is None
    assert cost_score(20, [18, None, 22, 25]) == 66.7  # missing unit costs are left out


def test_option_warnings_name_short_flows_negative_costs_and_no_benefits():
    from commissioner.methods.options_appraisal import evaluate, warnings_for

    short = {"costs": [1_000_000, 150_000, 150_000], "benefits": []}
    assert warnings_for(short, horizon=100) == [
        "Costs are given for years 0 to 2 only: years 3 to 100 are counted as £0.",
        "No benefits are given: its net present social value is minus its costs."]
    savings = {"costs": [0, 0, -5], "benefits": []}
    assert warnings_for(savings, horizon=2)[1:] == [
        "Costs are negative in year 2: they are counted as savings. Check that they are not benefits.",
        "Its costs add up to £0 or less: the benefit-cost ratio is not meaningful."]
    full = {"costs": [10, 10], "benefits": [0, 15]}
    assert warnings_for(full, horizon=1) == []
    # A recommendation resting on such figures says so.
    opts = [{"name": n, "costs": o["costs"], "benefits": o["benefits"], "ob_shares": {}, "scores": {},
             "cost_range": (90, 130), "benefit_range": (70, 110)} for n, o in (("Savings", savings), ("Full", full))]
    result = evaluate(opts, horizon=1, draws=1000)
    assert result["options"][0]["warnings"] and result["preferred"] == 0
    assert "Check its figures first: No benefits are given" in result["recommendation"]
    assert "Costs are negative in year 2" in result["recommendation"]
