"""Market concentration and local-supplier rules (methods/market.py), worked by hand."""

import pytest

from commissioner.methods import market


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
