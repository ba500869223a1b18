"""Automatic moderation checks (methods/moderation.py): every hold class, and what they must not flag."""

import pytest

from commissioner.methods import moderation as m


def codes(text, **kw):
    return [h.code for h in m.check(text, **kw)]


@pytest.mark.parametrize("text, code", [
    ("Mr Smith was rude to my mum", "name"),
    ("Ask for Dr. Patel at reception", "name"),
    ("Mrs O'Neill helped a lot", "name"),
    ("Call me on 07700 900123 please", "phone"),
    ("ring 0114 273 4567 any time", "phone"),
    ("or +44 (0)20 7946 0018", "phone"),
    ("email me at jo.bloggs@example.com", "email"),
    ("I live near DN1 3BU", "postcode"),
    ("postcode sw1a1aa", "postcode"),
    ("the carer came to 12 Acacia Avenue late", "address"),
    ("we are at 3a High Street", "address"),
])
def test_personal_data_is_held_with_its_kind(text, code):
    holds = m.check(text)
    assert code in [h.code for h in holds]
    hold = next(h for h in holds if h.code == code)
    assert hold.kind == "personal_data"


def test_reasons_never_quote_what_was_found():
    text = "Mr Smith, 07700 900123, jo@example.com, DN1 3BU, 12 Acacia Avenue"
    holds = m.check(text)
    assert {h.code for h in holds} == {"name", "phone", "email", "postcode", "address"}
    for h in holds:
        for secret in ("Smith", "07700", "jo@", "DN1", "Acacia"):
            assert secret not in h.reason


@pytest.mark.parametrize("text", [
    "The staff were kind and the service was on time every week.",
    "I waited 3 weeks for a call back and 2 hours on the phone.",
    "Mr and Mrs both came; the Dr appointment was fine.",  # titles with no name after them
    "It cost £1,250 for 12 visits in 2024.",
])
def test_ordinary_text_is_not_held(text):
    assert m.check(text) == []


def test_abuse_word_list_with_disguises():
    assert codes("the manager is an idiot") == ["abuse"]
    assert codes("utter 1d10t of a driver") == ["abuse"]
    assert codes("SCUM") == ["abuse"]
    assert codes("Scunthorpe services are good and quick to respond.") == []  # whole words only


def test_block_list_words_and_phrases():
    assert codes("the bin men are lazy louts", blocked_words=["louts"]) == ["blocked_word"]
    assert codes("they are lazy louts", blocked_words=["lazy louts"]) == ["blocked_word"]
    assert codes("they are lazy", blocked_words=["lazy louts"]) == []
    assert [h.kind for h in m.check("louts", blocked_words=["LOUTS"])] == ["blocked"]


def test_spam_links_repetition_capitals_repeated_text():
    assert codes("Great deals at https://cheap.example.net now") == ["link"]
    assert codes("visit www.spam.test today") == ["link"]
    assert codes("buy at cheapmeds.xyz") == ["link"]
    assert codes("bad bad bad bad bad bad service") == ["repetition"]
    assert codes("nooooooooooooo") == ["repetition"]
    assert codes("THIS SERVICE IS THE WORST I HAVE EVER SEEN IN MY WHOLE LIFE") == ["capitals"]
    earlier = ["The service was late again and nobody answered."]
    assert codes("the service was LATE again and nobody answered.", recent_texts=earlier) == ["repeated_text"]
    assert [h.kind for h in m.check("www.x.com", recent_texts=[])] == ["spam"]


def test_email_is_personal_data_not_a_link():
    assert codes("write to jo@example.com") == ["email"]


def test_redact_removes_personal_data_and_keeps_the_rest():
    text = "Mr Smith at 12 Acacia Avenue, DN1 3BU, phone 07700 900123, jo@example.com, was late."
    out = m.redact(text)
    for secret in ("Smith", "Acacia", "DN1", "07700", "jo@example.com"):
        assert secret not in out
    assert out.startswith("Mr [removed]")
    assert out.endswith("was late.")
    assert m.check(out) == []


def test_html_is_just_text():
    assert codes("<script>alert(1)</script> the carers were fine and on time") == []


def test_postcode_parts_and_trend():
    assert m.postcode_area("dn1 3bu") == "DN"
    assert m.postcode_district("DN1 3BU") == "DN1"
    assert m.postcode_district("DN12") == "DN12"
    assert m.postcode_area("not a postcode") == ""
    assert m.trend([("2025 Q1", 4), ("2024 Q4", 2), ("2025 Q1", 5)]) == [
        {"period": "2024 Q4", "count": 1, "average": 2.0}, {"period": "2025 Q1", "count": 2, "average": 4.5}]
    assert m.mean([]) is None
