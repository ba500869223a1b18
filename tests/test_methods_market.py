"""Market concentration and local-supplier rules (methods/market.py), worked by hand."""

import pytest

from commissioner.methods import market
from commissioner.register.cpv import DIVISIONS  # pure data, no Django


def test_hhi_and_top5_worked_example():
    # Seven suppliers, £100 in all: 40, 20, 10, 10, 10, 5, 5.
    spend = [40, 20, 10, 10, 10, 5, 5]
    # Top five: 40 + 20 + 10 + 10 + 10 = 90 of 100.
    assert market.top_n_share(spend, 5) == pytest.approx(0.90)
    # HHI: 40^2 + 20^2 + 3 x 10^2 + 2 x 5^2 = 1600 + 400 + 300 + 50 = 2350.
    assert market.hhi(spend) == pytest.approx(2350)
    assert market.hhi_band(2350) == "moderate"


def test_three_suppliers_and_a_monopoly():
    assert market.hhi([50, 30, 20]) == pytest.approx(3800)  # 2500 + 900 + 400
    assert market.top_n_share([50, 30, 20]) == pytest.approx(1.0)
    assert market.hhi([123.45]) == pytest.approx(10000)
    assert market.hhi_band(10000) == "high"
    assert market.hhi_band(1499.9) == "unconcentrated"
    assert market.hhi_band(None) == "missing"


def test_order_does_not_matter_and_credits_have_no_share():
    assert market.hhi([20, 50, 30]) == market.hhi([50, 30, 20])
    # A supplier with net credits (negative) or nothing has no share: 60 and 40 remain.
    assert market.hhi([60, 40, 0, -10]) == pytest.approx(5200)
    assert market.top_n_share([60, 40, 0, -10], 1) == pytest.approx(0.6)


def test_no_positive_spend_is_missing_not_zero():
    assert market.hhi([]) is None
    assert market.hhi([-5, 0]) is None
    assert market.top_n_share([], 5) is None
    with pytest.raises(ValueError):
        market.top_n_share([1], 0)


def test_share_by_type():
    out = market.share_by({"SME": 30.0, "Large": 70.0, "Unknown": -5.0})
    assert out == {"SME": pytest.approx(0.3), "Large": pytest.approx(0.7), "Unknown": 0}
    assert market.share_by({"SME": 0.0}) == {"SME": None}


def test_new_entrants_first_year_is_missing():
    first = {"a": 2023, "b": 2023, "c": 2024, "d": 2025, "e": 2025}
    assert market.new_entrants(first, [2025, 2023, 2024]) == {2023: None, 2024: 1, 2025: 2}


@pytest.mark.parametrize(("postcode", "area"), [
    ("M32 0TH", "M"), ("bb5 1la", "BB"), ("WA14 1AA", "WA"), ("SW1A 2AA", "SW"), ("M1", "M"),
    ("", None), (None, None), ("not a postcode", None), ("12345", None)])
def test_postcode_area(postcode, area):
    assert market.postcode_area(postcode) == area


def test_local_rule():
    trafford = ("M", "WA", "SK", "WN", "BL", "OL")
    assert market.is_local("M33 7ZZ", trafford) is True
    assert market.is_local("LS1 4DY", trafford) is False
    assert market.is_local(None, trafford) is None


def test_postcode_found_in_a_street_address():
    assert market.find_postcode("15 Ullswater Avenue, Edith Weston, Oakham, England, LE15 8JD") == "LE15 8JD"
    assert market.find_postcode("Unit 1, Trafford Park, Manchester M17 1AB") == "M17 1AB"
    assert market.find_postcode("No postcode here") is None
    assert market.find_postcode(None) is None


# Spend categories -> CPV divisions (suggestions from keywords). The strings are real categories from the
# Trafford 2026-27 file (the ProClass label's top level) and the Hyndburn files (cost centres).


@pytest.mark.parametrize(("category", "division", "keyword"), [
    # Trafford
    ("SOCIAL CARE", "85", "social care"), ("SOCIAL CARE SERVICES", "85", "social care"), ("SC", "85", "sc"),
    ("HWY", "45", "hwy"), ("FACILITIES MGT", "79", "facilities mgt"), ("FM", "79", "fm"),
    ("CLEANING & JANATORIAL", "90", "janatorial"), ("Interpretation & Translation", "79", "interpretation"),
    ("Sports Equipment", "37", "sports equipment"), ("UTILITIES", "65", "utilities"), ("EDUCATION", "80", "education"),
    ("HORTICULTURAL", "77", "horticultural"), ("BUILDING MATERIALS", "44", "building materials"),
    ("MAIL SERVICES", "64", "mail services"), ("Taxi Services", "60", "taxi"), ("CONSTRUCTION", "45", "construction"),
    ("HEALTH & SAFETY", "71", "health safety"),
    # Hyndburn
    ("CAE - Waste Services", "90", "waste"), ("CAC - Parks & Cemeteries", "77", "parks cemeteries"),
    ("Parks & Open Spaces", "77", "open spaces"), ("HOUSING BENEFIT ADMINISTRATION", "75", "housing benefit"),
    ("Housing Advice", "85", "housing advice"), ("VEHICLE MAINT SUPERVISION", "50", "vehicle maint"),
    ("Corporate R & M (Holding A/C)", "50", "r m"), ("ACCRINGTON CREMATORIUM", "98", "crematorium"),
    ("DISABLED FACILITIES GENERAL", "45", "disabled facilities"), ("NORTHGATE SOFTWARE", "48", "software"),
    ("AAB - Benefits & Customer Contact", "75", "customer contact"), ("Highways General", "45", "highways"),
])
def test_suggested_divisions_for_real_categories(category, division, keyword):
    assert market.suggest_division(category) == (division, keyword)


@pytest.mark.parametrize("category", ["", "   ", None, "Not stated", "Scaitcliffe House", "COVID 19", "UNDERSPENDS",
                                      "P & CG", "Walls Pos"])
def test_no_suggestion_rather_than_a_guess(category):
    assert market.suggest_division(category) is None


def test_whole_words_only_and_the_longest_phrase_wins():
    assert market.suggest_division("Scaitcliffe House") is None  # 'sc' is a word only in Trafford's "SC"
    assert market.suggest_division("Grounds Maintenance")[0] == "77"  # not 50 for "maintenance"
    assert market.suggest_division("Public Transport") == ("60", "public transport")
    assert all(code in DIVISIONS for _, code in market.CPV_KEYWORDS)


def test_category_key():
    assert market.category_key("ACCOUNTANCY") == market.category_key("Accountancy") == "accountancy"
    assert market.category_key("P & CG") == market.category_key("p and cg") == "p and cg"
    assert market.category_key("Cctv'S") == market.category_key("CCTV'S") == "cctv s"
    assert market.category_key("  Burton Chambers  - Luf ") == "burton chambers luf"
    assert market.category_key("") == market.category_key(None) == ""
