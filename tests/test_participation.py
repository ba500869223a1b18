"""Participatory budgeting and priority setting (issue 6, section 2): exercises, every class of bad ballot, one
vote per code or email address, receipts, no link between verification and ballot, results equal to methods.pb
(on the demo file and on real pabulib files), .pb import/export round trips, the checker's invalid example and a
META with wrong counts, priority setting, the rate limit, tenancy, API, CLI and the demo."""

import csv
import io
import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import models as dj_models
from django.test import Client

from commissioner.methods import pabulib
from commissioner.methods import pb as rules
from commissioner.orgs.models import AuditEvent
from commissioner.orgs.services import council_organisation
from commissioner.participation import queries, services
from commissioner.participation.models import Ballot, BallotAttempt, EmailVoter, Exercise, Project, VoterCode
from conftest import SHARED
from helpers import ROLES, client_for, statuses

PABULIB = SHARED / "pabulib"
API = "/api/v1/participation"
BASE = {"kind": "budget", "title": "Merton parks fund", "budget": "10000", "ballot_type": "approval",
        "min_choices": "1", "max_choices": "2", "opens_on": "2026-01-01", "closes_on": "2030-12-31",
        "rule": "greedy", "tie_break": "cost,id", "verification": "code"}
INSIDE = datetime(2027, 5, 1, 12, 0, tzinfo=services.LONDON)


def _exercise(users, open_=True, **changes):
    ex = services.create_exercise(actor=users["admin"], owner=users["merton"], data={**BASE, **changes})
    kind = changes.get("kind", "budget")
    for i, (title, cost) in enumerate([("Benches", "4000"), ("Trees", "5000"), ("Play area", "6000")], 1):
        data = {"title": title, "code": f"p{i}", "description": f"{title} for the park"}
        if kind == "budget":
            data["cost"] = cost
        services.add_project(actor=users["admin"], exercise=ex, data=data)
    if open_:
        ex = services.change_status(actor=users["admin"], exercise=ex, action="open")
    return ex


@pytest.fixture
def pb(users):
    ex = _exercise(users)
    codes = services.generate_codes(actor=users["admin"], exercise=ex, count=5)
    return dict(users, ex=ex, codes=codes)


def _cast(ex, code, nonce=None, **kwargs):
    kwargs.setdefault("now", INSIDE)
    return services.cast_ballot(exercise=ex, code=code, nonce=nonce or services.new_nonce(), **kwargs)


def _refused(ex, code, **kwargs):
    with pytest.raises(services.BallotRefused) as caught:
        _cast(ex, code, **kwargs)
    return caught.value


# Ballots -------------------------------------------------------------------------------------------

def test_a_ballot_is_recorded_and_its_receipt_shows_its_content(pb):
    receipt, created = _cast(pb["ex"], pb["codes"][0], choices=["p1", "p3"])
    assert created and len(receipt) == 19 and receipt.count("-") == 3
    ballot = Ballot.objects.get(exercise=pb["ex"])
    assert ballot.choices == ["p1", "p3"] and ballot.points is None and ballot.source == "cast"
    assert receipt not in json.dumps([ballot.receipt_digest, ballot.choices])  # only a hash of the receipt
    assert queries.ballot_for_receipt(pb["ex"], receipt.lower().replace("-", " ")) == ballot
    assert VoterCode.objects.filter(exercise=pb["ex"], used=True).count() == 1
    text = Client().get(f"/participate/{pb['ex'].pk}/receipt/", {"receipt": receipt}).content.decode()
    assert "This ballot is in the ballot box" in text and "p1. Benches" in text and "p3. Play area" in text
    text = Client().get(f"/participate/{pb['ex'].pk}/receipt/", {"receipt": "AAAA-BBBB-CCCC-DDDD"}).content.decode()
    assert "No ballot with this receipt in this exercise" in text


@pytest.mark.parametrize("kwargs, field, message", [
    ({"choices": ["p1", "p9"]}, "choices", "Your ballot names a project that is not in this exercise: p9"),
    ({"choices": ["p1", "p2", "p3"]}, "choices", "Choose at most 2 projects (you chose 3)"),
    ({"choices": []}, "choices", "Choose at least 1 project (you chose 0)"),
    ({"choices": ["p1", "p1"]}, "choices", "Your ballot names a project more than once"),
])
def test_bad_approval_ballots_are_refused_and_nothing_is_saved(pb, kwargs, field, message):
    error = _refused(pb["ex"], pb["codes"][0], **kwargs)
    assert (field, message) in error.errors
    assert not Ballot.objects.exists() and not VoterCode.objects.filter(used=True).exists()


def test_votes_outside_the_dates_and_when_not_open_are_refused(pb):
    early = datetime(2025, 12, 31, 23, 0, tzinfo=services.LONDON)
    error = _refused(pb["ex"], pb["codes"][0], choices=["p1"], now=early)
    assert error.closed and error.errors == [("choices", "Voting opens on 1 January 2026: come back then")]
    late = datetime(2031, 1, 1, 0, 0, tzinfo=services.LONDON)
    error = _refused(pb["ex"], pb["codes"][0], choices=["p1"], now=late)
    assert error.errors == [("choices", "Voting closed at the end of 31 December 2030")]
    last_minute = datetime(2030, 12, 31, 23, 59, tzinfo=services.LONDON)
    assert _cast(pb["ex"], pb["codes"][0], choices=["p1"], now=last_minute)[1]
    services.change_status(actor=pb["admin"], exercise=pb["ex"], action="close")
    pb["ex"].refresh_from_db()
    error = _refused(pb["ex"], pb["codes"][1], choices=["p1"])
    assert error.errors == [("choices", "Voting is not open: this exercise is closed")]
    assert Ballot.objects.count() == 1


def test_eligibility_by_declared_area_and_age(users):
    ex = _exercise(users, eligible_areas="Wimbledon, Mitcham", minimum_age="16")
    code = services.generate_codes(actor=users["admin"], exercise=ex, count=1)[0]
    error = _refused(ex, code, choices=["p1"], area="Croydon", age="15")
    assert ("area", "Only residents of Wimbledon, Mitcham may vote in this exercise") in error.errors
    assert ("age", "You must be 16 or older to vote in this exercise") in error.errors
    error = _refused(ex, code, choices=["p1"], area="", age="")
    assert ("area", "Choose the area you live in") in error.errors and ("age", "Enter your age in years") in error.errors
    assert _cast(ex, code, choices=["p1"], area="mitcham", age="16")[1]
    assert Ballot.objects.get(exercise=ex).area == "Mitcham"


def test_cumulative_points_over_the_total_are_refused(users):
    ex = _exercise(users, ballot_type="cumulative", points_total="10", max_choices="")
    codes = services.generate_codes(actor=users["admin"], exercise=ex, count=2)
    error = _refused(ex, codes[0], points={"p1": "6", "p2": "5"})
    assert error.errors == [("choices", "You gave 11 points: you have 10 to share out")]
    error = _refused(ex, codes[0], points={"p1": "-1", "zz": "2"})
    assert ("choices", "Your ballot names a project that is not in this exercise: zz") in error.errors
    assert ("points-p1", "Points for p1 must be a whole number, 0 or more, not '-1'") in error.errors
    assert _cast(ex, codes[0], points={"p1": "6", "p3": "4", "p2": ""})[1]
    assert Ballot.objects.get(exercise=ex).points == ["6", "4"]
    assert Ballot.objects.get(exercise=ex).choices == ["p1", "p3"]


def test_ordinal_ranks_must_be_once_each_without_gaps(users):
    ex = _exercise(users, ballot_type="ordinal", max_choices="2", min_choices="")
    code = services.generate_codes(actor=users["admin"], exercise=ex, count=1)[0]
    assert ("choices", "Rank 1 is given to 2 projects: give each rank once") in _refused(
        ex, code, ranks={"p1": "1", "p2": "1"}).errors
    assert ("choices", "Use ranks 1, 2, 3 ... without gaps (you gave 1, 3)") in _refused(
        ex, code, ranks={"p1": "1", "p2": "3"}).errors
    assert ("choices", "Rank at most 2 projects (you chose 3)") in _refused(
        ex, code, ranks={"p1": "1", "p2": "2", "p3": "3"}).errors
    assert _cast(ex, code, ranks={"p3": "1", "p1": "2"})[1]
    assert Ballot.objects.get(exercise=ex).choices == ["p3", "p1"]


def test_choose_one(users):
    ex = _exercise(users, ballot_type="choose-1")
    code = services.generate_codes(actor=users["admin"], exercise=ex, count=1)[0]
    assert _refused(ex, code, choices=["p1", "p2"]).errors == [("choices", "Choose only one project (you chose 2)")]
    assert _refused(ex, code, choices=[]).errors == [("choices", "Choose one project")]
    assert _cast(ex, code, choices=["p2"])[1]


# One vote per code, per email address; double submissions ------------------------------------------

def test_a_code_votes_once_and_unknown_codes_are_refused(pb):
    assert _cast(pb["ex"], pb["codes"][0], choices=["p1"])[1]
    error = _refused(pb["ex"], pb["codes"][0], choices=["p2"])
    assert error.duplicate and error.errors == [("code", ("This code has already been used to vote: each resident "
                                                         "votes once"))]
    error = _refused(pb["ex"], "ZZZZ-ZZZZ-ZZZZ", choices=["p2"])
    assert not error.duplicate and "not one we issued for this exercise" in error.errors[0][1]
    other = _exercise(pb, title="Another fund")
    assert "not one we issued" in _refused(other, pb["codes"][1], choices=["p1"]).errors[0][1]  # codes per exercise
    assert Ballot.objects.count() == 1


def test_a_double_click_is_idempotent(pb):
    nonce = services.new_nonce()
    first = _cast(pb["ex"], pb["codes"][0], nonce=nonce, choices=["p1"])
    again = _cast(pb["ex"], pb["codes"][0], nonce=nonce, choices=["p1"])
    assert first[1] is True and again == (first[0], False)
    assert Ballot.objects.count() == 1
    # the same form sent again with another (unused) code is refused: that code can still vote on a new form
    error = _refused(pb["ex"], pb["codes"][1], nonce=nonce, choices=["p2"])
    assert error.errors == [("code", ("This form has already been used to vote: open the voting page again to vote "
                                     "with another code"))]
    assert not VoterCode.objects.get(digest=services.code_digest(pb["ex"], pb["codes"][1])).used


def test_double_click_through_the_page_shows_the_same_receipt(pb):
    client = Client()
    page = client.get(f"/participate/{pb['ex'].pk}/vote/")
    assert page.status_code == 200
    nonce = page.context["form"]["nonce"].value()
    data = {"nonce": nonce, "choices": ["p2"], "code": pb["codes"][2].lower()}
    one = client.post(f"/participate/{pb['ex'].pk}/vote/", data)
    two = client.post(f"/participate/{pb['ex'].pk}/vote/", data)
    assert one.status_code == two.status_code == 200
    assert one.context["receipt"] == two.context["receipt"]
    assert "already been sent" in two.content.decode() and "Your vote is recorded" in one.content.decode()
    assert Ballot.objects.count() == 1


def test_vote_page_shows_refusals_on_their_fields(pb):
    client = Client()
    nonce = client.get(f"/participate/{pb['ex'].pk}/vote/").context["form"]["nonce"].value()
    response = client.post(f"/participate/{pb['ex'].pk}/vote/", {"nonce": nonce, "choices": ["p1", "p2", "p3"],
                                                                 "code": ""})
    assert response.status_code == 400
    text = response.content.decode()
    assert "There is a problem" in text and "Choose at most 2 projects (you chose 3)" in text
    assert 'href="#id_choices_0"' in text and 'id="id_choices_0"' in text
    assert _cast(pb["ex"], pb["codes"][0], choices=["p1"])[1]
    response = client.post(f"/participate/{pb['ex'].pk}/vote/", {"nonce": nonce, "choices": ["p1"],
                                                                 "code": pb["codes"][0]})
    assert response.status_code == 400 and "This code has already been used to vote" in response.content.decode()


def test_email_verification_one_vote_per_address(users, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ex = _exercise(users, verification="email")
    services.request_email_code(exercise=ex, email="Resident@Example.org", now=INSIDE)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["Resident@Example.org"]
    code = next(line.strip() for line in mail.outbox[0].body.splitlines() if line.startswith("    "))
    voter = EmailVoter.objects.get(exercise=ex)
    stored = json.dumps([voter.address_digest, voter.token_digest])
    assert "example.org" not in stored.lower() and code not in stored
    assert _cast(ex, code, choices=["p1"])[1]
    with pytest.raises(services.BallotRefused) as caught:
        services.request_email_code(exercise=ex, email="resident@example.org ", now=INSIDE)
    assert caught.value.duplicate
    assert caught.value.errors == [("email", ("This email address has already been used to vote in this exercise: "
                                             "each resident votes once"))]
    with pytest.raises(services.BallotRefused, match="Enter an email address in the correct format"):
        services.request_email_code(exercise=ex, email="not an address", now=INSIDE)
    assert len(mail.outbox) == 1 and Ballot.objects.count() == 1


def test_an_emailed_code_expires(users, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ex = _exercise(users, verification="email")
    services.request_email_code(exercise=ex, email="a@example.org", now=INSIDE)
    code = next(line.strip() for line in mail.outbox[0].body.splitlines() if line.startswith("    "))
    later = INSIDE + timedelta(hours=services.EMAIL_CODE_HOURS, minutes=1)
    assert "expired" in _refused(ex, code, choices=["p1"], now=later).errors[0][1]


def test_asking_again_soon_neither_floods_the_address_nor_cancels_its_code(users, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ex = _exercise(users, verification="email")
    services.request_email_code(exercise=ex, email="a@example.org", now=INSIDE)
    code = next(line.strip() for line in mail.outbox[0].body.splitlines() if line.startswith("    "))
    soon = INSIDE + timedelta(seconds=services.EMAIL_CODE_COOLDOWN - 1)
    with pytest.raises(services.BallotRefused, match="We sent a code to this address a few minutes ago"):
        services.request_email_code(exercise=ex, email="A@example.org", now=soon)
    assert len(mail.outbox) == 1
    assert _cast(ex, code, choices=["p1"], now=soon)[1]  # the first code still works
    # After the cooldown a new code may be sent (for an address that has not voted).
    services.request_email_code(exercise=ex, email="b@example.org", now=INSIDE)
    services.request_email_code(exercise=ex, email="b@example.org",
                                now=INSIDE + timedelta(seconds=services.EMAIL_CODE_COOLDOWN))
    assert len(mail.outbox) == 3


def test_nothing_links_a_ballot_to_its_verification(pb, settings):
    """The models hold no foreign key, shared id or timestamp between ballots and codes/addresses."""
    for model in (Ballot, VoterCode, EmailVoter):
        relations = {f.related_model for f in model._meta.get_fields() if f.is_relation and f.concrete}
        assert relations == {Exercise}, model
    for model in (Ballot, VoterCode):
        assert not [f.name for f in model._meta.get_fields() if isinstance(f, dj_models.DateTimeField)], model
    assert isinstance(Ballot._meta.pk, dj_models.UUIDField)  # ids do not follow the order of voting
    before = AuditEvent.objects.count()
    receipts = [_cast(pb["ex"], c, choices=["p1"])[0] for c in pb["codes"][:3]]
    ballot_ids = {str(b.pk) for b in Ballot.objects.all()}
    code_rows = list(VoterCode.objects.filter(used=True).values())
    assert len(code_rows) == 3
    text = json.dumps(code_rows, default=str)
    assert not any(i in text for i in ballot_ids) and not any(r in text for r in receipts)
    events = list(AuditEvent.objects.order_by("id")[before:])
    assert [e.action for e in events] == ["ballot-cast"] * 3
    assert all(e.model == "participation.Exercise" and e.after == {"exercise": pb["ex"].pk} for e in events)
    assert not any(i in json.dumps([e.object_pk, e.object_repr, e.after]) for e in events for i in ballot_ids)


# Rate limit -----------------------------------------------------------------------------------------

def test_ballots_are_rate_limited_per_address(pb, settings):
    settings.PARTICIPATION_RATE_LIMIT = 3
    client = Client(REMOTE_ADDR="203.0.113.9")
    url = f"/participate/{pb['ex'].pk}/vote/"
    for _ in range(3):
        assert client.post(url, {"nonce": services.new_nonce(), "choices": ["p1"], "code": "WRONG"}).status_code == 400
    response = client.post(url, {"nonce": services.new_nonce(), "choices": ["p1"], "code": pb["codes"][0]})
    assert response.status_code == 429 and int(response["Retry-After"]) > 3500
    assert "Too many ballots from your connection" in response.content.decode()
    assert not Ballot.objects.exists()
    assert Client(REMOTE_ADDR="203.0.113.10").post(url, {"nonce": services.new_nonce(), "choices": ["p1"],
                                                         "code": pb["codes"][0]}).status_code == 200
    assert "203.0.113" not in json.dumps(list(BallotAttempt.objects.values("address_digest")))


# Exercises and projects ----------------------------------------------------------------------------

@pytest.mark.parametrize("changes, field, message", [
    ({"title": ""}, "title", "Enter the title"),
    ({"budget": "-5"}, "budget", "Budget (£) must be 0.01 or more, not -5"),
    ({"budget": "lots"}, "budget", "Budget (£) must be a number, not 'lots'"),
    ({"min_choices": "3", "max_choices": "2"}, "min_choices", "Fewest choices (3) must not be more than most choices"),
    ({"ballot_type": "cumulative", "points_total": ""}, "points_total", "Enter the points each voter shares out"),
    ({"opens_on": "2026-02-01", "closes_on": "2026-01-01"}, "closes_on", "must not be before the date it opens"),
    ({"rule": "greedy-threshold", "threshold": ""}, "threshold", "Enter the minimum support"),
    ({"minimum_age": "130"}, "minimum_age", "Minimum age must be from 0 to 120"),
    ({"ballot_type": "weights"}, "ballot_type", "A weights ballot does not suit this exercise"),
])
def test_bad_exercise_settings_are_refused(users, changes, field, message):
    with pytest.raises(services.ParticipationInputError) as caught:
        services.create_exercise(actor=users["admin"], owner=users["merton"], data={**BASE, **changes})
    assert caught.value.field == field and message in caught.value.message
    assert not Exercise.objects.exists()


def test_every_bad_setting_of_an_exercise_is_named_at_once(users):
    """Walk-through: an empty form said only "Enter the title"; then only "Enter the date voting opens"."""
    data = {**BASE, "title": "", "budget": "", "opens_on": "", "closes_on": "", "minimum_age": "130"}
    with pytest.raises(services.ParticipationInputError) as caught:
        services.create_exercise(actor=users["admin"], owner=users["merton"], data=data)
    assert caught.value.errors == [
        ("title", "Enter the title"), ("budget", "Enter the budget (£)"), ("opens_on", "Enter the date voting opens"),
        ("closes_on", "Enter the date voting closes"), ("minimum_age", "Minimum age must be from 0 to 120")]
    assert caught.value.field == "title"
    response = client_for(users, "commissioner").post(f"/participate/councils/{users['merton'].slug}/new/",
                                                      {"kind": "budget", "ballot_type": "approval", "rule": "greedy",
                                                       "tie_break": "cost,id", "verification": "code"})
    assert response.status_code == 400
    text = response.content.decode()
    for message in ("Enter the title", "Enter the budget (£)", "Enter the date voting opens",
                    "Enter the date voting closes"):
        assert text.count(message) == 2, message  # in the error summary and on its field
    assert not Exercise.objects.exists()


def test_exercise_through_the_pages_and_html_is_escaped(users):
    client = client_for(users, "commissioner")
    slug = users["merton"].slug
    data = {**BASE, "opens_on_day": "1", "opens_on_month": "1", "opens_on_year": "2026", "closes_on_day": "31",
            "closes_on_month": "12", "closes_on_year": "2030", "title": "<b>Parks</b> fund"}
    response = client.post(f"/participate/councils/{slug}/new/", data)
    assert response.status_code == 302
    ex = Exercise.objects.get()
    assert ex.status == "draft" and ex.is_private and ex.budget == Decimal(10000)
    url = f"/participate/{ex.pk}/"
    assert client.post(f"{url}projects/", {"project-title": "Pond", "project-cost": "£20,000"}).status_code == 400
    response = client.post(f"{url}projects/", {"project-title": "Pond", "project-cost": "£2,000",
                                               "project-description": "<script>alert('x')</script> & more"})
    assert response.status_code == 302
    assert Project.objects.get().code == "1"
    text = client.get(url).content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in text and "<script>alert" not in text
    assert "&lt;b&gt;Parks&lt;/b&gt; fund" in text
    assert client.post(f"{url}status/", {"action": "publish"}).status_code == 400
    assert client.post(f"{url}status/", {"action": "open"}).status_code == 302
    ex.refresh_from_db()
    assert ex.status == "open" and not ex.is_private
    assert "Pond" in Client().get(url).content.decode()  # public once open
    assert AuditEvent.objects.filter(model="participation.Exercise", action="exercise-open").count() == 1


def test_cost_over_the_budget_and_duplicate_projects_are_refused(users):
    ex = _exercise(users, open_=False)
    with pytest.raises(services.ParticipationInputError, match="more than the whole budget"):
        services.add_project(actor=users["admin"], exercise=ex, data={"title": "Lido", "cost": "10000.01"})
    with pytest.raises(services.ParticipationInputError, match="already has a project called 'Trees'"):
        services.add_project(actor=users["admin"], exercise=ex, data={"title": "trees", "cost": "1"})
    with pytest.raises(services.ParticipationInputError, match="already has a project with id p1"):
        services.add_project(actor=users["admin"], exercise=ex, data={"title": "New", "code": "p1", "cost": "1"})


def test_codes_are_downloaded_once_and_only_their_hashes_kept(users):
    ex = _exercise(users, open_=False)
    response = client_for(users, "admin").post(f"/participate/{ex.pk}/codes/", {"codes-count": "25"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["code", "exercise", "vote_at", "synthetic"] and len(rows) == 26
    codes = [r[0] for r in rows[1:]]
    assert len(set(codes)) == 25 and all(len(c) == 14 for c in codes)
    digests = set(VoterCode.objects.filter(exercise=ex).values_list("digest", flat=True))
    assert digests == {services.code_digest(ex, c) for c in codes}
    assert not any(c in json.dumps(list(digests)) for c in codes)
    response = client_for(users, "admin").post(f"/participate/{ex.pk}/codes/", {"codes-count": "0"})
    assert response.status_code == 400 and "Number of codes must be 1 or more" in response.content.decode()


# Results ---------------------------------------------------------------------------------------------

def _demo_exercise(users):
    return services.import_pb(actor=users["admin"], owner=users["merton"], data=services.DEMO_FILE.read_bytes(),
                              name=services.DEMO_FILE.name, synthetic=True)


def test_results_on_the_demo_file_equal_methods_pb(users):
    ex = _demo_exercise(users)
    assert ex.status == "closed" and ex.ballots.count() == 60 and ex.projects.count() == 8
    pbf = pabulib.load(services.DEMO_FILE)
    expected = rules.greedy(rules.prepare(pbf.budget, pbf.costs(), pbf.ballots()))
    data = queries.results(ex)
    assert data["outcome"].funded == expected.funded == ["3", "2", "6", "1", "4"]
    assert set(expected.funded) == set(pbf.selected())
    assert data["funded_cost"] == 97000 and data["remaining"] == 3000
    by = {r["code"]: r for r in data["rows"]}
    assert by["7"]["explanation"] == ("6. 15 votes: not funded, cost 15000 is more than the 3000 left "
                                      "(tied on 15 votes with 4; order by lower cost, then lower id)")
    # the tie-break is a setting: higher cost first funds 7 instead of 4
    services.update_exercise(actor=users["admin"], exercise=ex, data={"rule": "greedy", "tie_break": "-cost,id"})
    ex.refresh_from_db()
    assert set(queries.results(ex)["outcome"].funded) == {"3", "2", "6", "1", "7"}
    # Equal Shares (completed by raising the per-voter budget) from methods.pb, through the same page
    services.update_exercise(actor=users["admin"], exercise=ex, data={"rule": "mes-add1", "tie_break": "cost,id"})
    ex.refresh_from_db()
    mes = rules.equal_shares(rules.prepare(pbf.budget, pbf.costs(), pbf.ballots()), utility="cost",
                             completion="add1")
    assert queries.results(ex)["outcome"].funded == mes.funded


def test_results_page_tenancy_downloads_and_chart(users):
    ex = _demo_exercise(users)
    url = f"/participate/{ex.pk}/results/"
    expected = statuses(404, 200, 200, 200, 404, 200)  # closed: the council's members only
    for role in ROLES:
        assert client_for(users, role).get(url).status_code == expected[role], role
    services.change_status(actor=users["admin"], exercise=ex, action="publish")
    for role in ROLES:
        assert client_for(users, role).get(url).status_code == 200, role
    response = Client().get(url)
    text = response.content.decode()
    assert "Synthetic demo data" in text and "<svg" in text and 'id="results-table"' in text
    # the page: whole pounds and the place in the count in words (walk-through: "6. ... cost 15000 ... 3000 left")
    assert ("6th in order of support, with 15 votes: not funded, cost £15,000 is more than the £3,000 left (tied on "
            "15 votes with project 4; order by lower cost, then lower id)") in text
    assert "15000" not in text and "15,000.00" not in text and "GBP" not in text
    rows = list(csv.reader(io.StringIO(Client().get(url, {"format": "csv"}).content.decode())))
    # the download keeps the exact amounts and wording of methods.pb
    assert rows[6][7] == ("6. 15 votes: not funded, cost 15000 is more than the 3000 left (tied on 15 votes with 4; "
                          "order by lower cost, then lower id)")
    assert rows[0] == ["project_id", "project", "cost", "votes", "points", "funded", "status", "explanation", "rule",
                       "tie_break", "synthetic"]
    assert rows[1][:6] == ["3", "Skate park extension", "35000.00", "26", "", "True"] and rows[1][-1] == "True"
    data = json.loads(Client().get(url, {"format": "json"}).content)
    assert data["synthetic"] is True and sum(r["funded"] for r in data["rows"]) == 5


@pytest.mark.parametrize("name, official_tie_break", [
    ("Poland_Wroclaw_2018_Rejon_nr_11_250.pb", None),  # choose-1, greedy-no-skip, age and sex columns
    ("Poland_Katowice_2023_Podlesie.pb", None),  # cumulative, greedy-threshold (points)
    ("Poland_Krakow_2022_Czyzyny.pb", "-cost,id"),  # ordinal, CRLF; official outcome hangs on an exact tie
    ("Netherlands_Assen_2024.pb", None),  # approval, Equal Shares with add1, CRLF
])
def test_real_pabulib_file_round_trip_and_official_outcome(users, name, official_tie_break):
    path = PABULIB / "small" / name
    raw = path.read_bytes()
    ex = services.import_pb(actor=users["admin"], owner=users["merton"], data=raw, name=name)
    original = pabulib.loads(raw)
    assert ex.ballots.count() == len(original.votes) and ex.projects.count() == len(original.projects)
    exported = queries.pb_text(ex)
    assert pabulib.loads(exported) == original
    # the count of the imported exercise by the file's own rule gives the official `selected` column (Kraków:
    # 24 and 26 tie on 40 points and only one fits; the file states no tie-break, the official outcome funds
    # 26, which is what breaking ties by higher cost gives; see tests/test_methods_pb.py)
    if official_tie_break:
        services.update_exercise(actor=users["admin"], exercise=ex, data={"rule": ex.rule,
                                                                          "tie_break": official_tie_break})
        ex.refresh_from_db()
    assert set(queries.results(ex)["outcome"].funded) == set(original.selected())


def test_the_checker_invalid_example_gives_its_errors_with_lines_and_saves_nothing(users):
    raw = (PABULIB / "checker_examples" / "example_invalid.pb").read_bytes()
    with pytest.raises(services.ParticipationInputError) as caught:
        services.import_pb(actor=users["admin"], owner=users["merton"], data=raw, name="example_invalid.pb")
    found = {(p["section"], p["line"], p["field"]) for p in caught.value.problems}
    assert found == {("META", 20, "currency"), ("VOTES", 29, "voter_id"), ("VOTES", 29, "sex"), ("VOTES", 30, "sex")}
    assert not Exercise.objects.exists() and not Ballot.objects.exists()
    client = client_for(users, "admin")
    response = client.post(f"/participate/councils/{users['merton'].slug}/import/",
                           {"file": SimpleUploadedFile("example_invalid.pb", raw)})
    assert response.status_code == 400
    text = response.content.decode()
    assert "4 problem(s) in the .pb file; nothing was saved" in text
    assert "currency &#x27;non_existing&#x27; is not an ISO 4217 code" in text
    assert "voter_id &#x27;290,67&#x27; contains a comma" in text
    assert not Exercise.objects.exists()


def test_a_meta_with_wrong_counts_is_refused(users):
    raw = services.DEMO_FILE.read_text().replace("num_votes;60", "num_votes;61").replace("num_projects;8",
                                                                                         "num_projects;9")
    with pytest.raises(services.ParticipationInputError) as caught:
        services.import_pb(actor=users["admin"], owner=users["merton"], data=raw.encode(), name="bad.pb")
    reasons = [p["reason"] for p in caught.value.problems]
    assert "num_projects is 9 but the file has 8 projects" in reasons
    assert "num_votes is 61 but the file has 60 votes" in reasons
    assert not Exercise.objects.exists()


@pytest.mark.parametrize("old, new, reason", [
    ("v2;", "v1;", "duplicate voter_id v1 (first on line 31)"),
    ("v1;", "v1;9,", "voter v1: unknown project id(s) 9"),
    ("v1;", "v1;1,2,3,4,", "more than max_length 3"),
])
def test_a_pb_file_with_bad_votes_is_refused(users, old, new, reason):
    text = services.DEMO_FILE.read_text()
    raw = text.replace(f"\n{old}", f"\n{new}", 1)
    assert raw != text
    with pytest.raises(services.ParticipationInputError) as caught:
        services.import_pb(actor=users["admin"], owner=users["merton"], data=raw.encode(), name="bad.pb")
    assert any(reason in p["reason"] and p["section"] == "VOTES" and p["line"] for p in caught.value.problems), \
        caught.value.problems
    assert not Exercise.objects.exists()


def test_import_page_and_tenancy(users):
    raw = services.DEMO_FILE.read_bytes()
    slug = users["merton"].slug
    expected = statuses(302, 302, 302, 403, 403, 302)
    for role in ROLES:
        response = client_for(users, role).post(f"/participate/councils/{slug}/import/",
                                                {"file": SimpleUploadedFile("demo.pb", raw)})
        assert response.status_code == expected[role], role
        if role == "anonymous":
            assert "/sign-in/" in response["Location"]
    assert Exercise.objects.filter(owner=users["merton"]).count() == 3
    assert AuditEvent.objects.filter(action="refused", organisation=users["merton"]).count() == 2


def test_export_of_an_exercise_run_here(pb):
    for code, choice in zip(pb["codes"][:3], (["p1"], ["p1", "p2"], ["p3"]), strict=True):
        _cast(pb["ex"], code, choices=choice)
    services.change_status(actor=pb["admin"], exercise=pb["ex"], action="close")
    pb["ex"].refresh_from_db()
    text = queries.pb_text(pb["ex"])
    parsed = pabulib.loads(text)
    assert parsed.meta["num_votes"] == "3" and parsed.meta["vote_type"] == "approval"
    assert parsed.meta["date_begin"] == "01.01.2026" and parsed.meta["date_end"] == "31.12.2030"
    assert parsed.meta["budget"] == "10000" and parsed.meta["max_length"] == "2"
    assert {p: parsed.projects[p].fields["votes"] for p in parsed.projects} == {"p1": "2", "p2": "1", "p3": "1"}
    assert parsed.selected() == ["p1", "p2"]  # greedy: p1 (2 votes), then p2 (tied with p3 on 1 vote, cheaper)
    assert sorted(v.vote for v in parsed.votes) == [("p1",), ("p1", "p2"), ("p3",)]
    url = f"/participate/{pb['ex'].pk}/export.pb"
    assert Client().get(url).status_code == 404  # closed, not published
    assert client_for(pb, "viewer").get(url).content.decode() == text


# Priority setting -----------------------------------------------------------------------------------

def test_priority_setting_borda_and_priorities_for(users):
    ex = _exercise(users, kind="priorities", service_area="Adult social care", ballot_type="ordinal",
                   max_choices="3", budget="")
    assert ex.budget is None and Project.objects.filter(exercise=ex, cost__isnull=True).count() == 3
    codes = services.generate_codes(actor=users["admin"], exercise=ex, count=3)
    _cast(ex, codes[0], ranks={"p2": "1", "p1": "2"})
    _cast(ex, codes[1], ranks={"p1": "1"})
    _cast(ex, codes[2], ranks={"p3": "1", "p2": "2", "p1": "3"})
    assert queries.priorities_for(users["merton"], "adult social care") is None  # still open
    services.change_status(actor=users["admin"], exercise=ex, action="close")
    found = queries.priorities_for(users["merton"], " Adult Social Care ")
    assert found["exercise"] == ex and found["published"] is False and found["ballots"] == 3
    assert [(r["code"], r["total"], r["rank"]) for r in found["rows"]] == [("p1", 2 + 3 + 1, 1), ("p2", 3 + 2, 2),
                                                                          ("p3", 3, 3)]
    assert queries.priorities_for(users["other_org"], "Adult social care") is None
    text = client_for(users, "viewer").get(f"/participate/{ex.pk}/results/").content.decode()
    assert "p1. Benches" in text
    # walk-through: the method in plain words on the page, not a repository path residents cannot open
    assert ("Each ballot ranked the priorities: a first choice scores 3 points, a second 2, and so on; a priority "
            "left out scores 0.") in text and "docs/" not in text and ".md" not in text
    rows = list(csv.reader(io.StringIO(client_for(users, "viewer").get(f"/participate/{ex.pk}/results/",
                                                                        {"format": "csv"}).content.decode())))
    assert rows[1][:5] == ["1", "p1", "Benches", "6.0", "6.0"]
    assert client_for(users, "viewer").get(f"/participate/{ex.pk}/export.pb").status_code == 404


def test_priority_setting_by_weights(users):
    ex = _exercise(users, kind="priorities", service_area="Libraries", ballot_type="weights", max_points="5",
                   budget="")
    codes = services.generate_codes(actor=users["admin"], exercise=ex, count=2)
    assert _refused(ex, codes[0], points={"p1": "6"}).errors == [("points-p1", "The weight for p1 is 6: at most 5")]
    _cast(ex, codes[0], points={"p1": "5", "p2": "1"})
    _cast(ex, codes[1], points={"p2": "4", "p3": "2"})
    services.change_status(actor=users["admin"], exercise=ex, action="close")
    rows = queries.priorities_for(users["merton"], "Libraries")["rows"]
    assert [(r["code"], r["score"]) for r in rows] == [("p1", 2.5), ("p2", 2.5), ("p3", 1.0)]
    assert rows[0]["tied"] and rows[0]["rank"] == rows[1]["rank"] == 1


# Tenancy ---------------------------------------------------------------------------------------------

def test_tenancy_matrix_for_a_draft_and_its_writes(users):
    ex = _exercise(users, open_=False)
    url = f"/participate/{ex.pk}/"
    pages = {url: statuses(404, 200, 200, 200, 404, 200),
             f"{url}vote/": statuses(404, 200, 200, 200, 404, 200),
             f"{url}results/": statuses(404, 404, 404, 404, 404, 404),
             f"/participate/councils/{users['merton'].slug}/": statuses(200, 200, 200, 200, 200, 200),
             "/participate/": statuses(200, 200, 200, 200, 200, 200)}
    for page, expected in pages.items():
        for role in ROLES:
            assert client_for(users, role).get(page).status_code == expected[role], (page, role)
    listed = {role: "Merton parks fund" in client_for(users, role).get("/participate/").content.decode()
              for role in ROLES}
    assert listed == statuses(False, True, True, True, False, True)
    writes = statuses(302, 302, 302, 403, 404, 302)
    for role in ROLES:
        response = client_for(users, role).post(f"{url}projects/", {"project-title": f"Pond {role}",
                                                                    "project-cost": "100"})
        assert response.status_code == writes[role], role
    assert sorted(Project.objects.filter(title__startswith="Pond").values_list("title", flat=True)) == [
        "Pond admin", "Pond commissioner", "Pond superuser"]
    creates = statuses(302, 302, 302, 403, 403, 302)
    for role in ROLES:
        data = {**BASE, "title": f"New {role}", "opens_on_day": "1", "opens_on_month": "1", "opens_on_year": "2026",
                "closes_on_day": "2", "closes_on_month": "1", "closes_on_year": "2026"}
        response = client_for(users, role).post(f"/participate/councils/{users['merton'].slug}/new/", data)
        assert response.status_code == creates[role], role
    assert Exercise.objects.filter(title__startswith="New ").count() == 3


def test_tenancy_of_an_open_exercise_and_status_changes(pb):
    url = f"/participate/{pb['ex'].pk}/"
    for role in ROLES:
        assert client_for(pb, role).get(url).status_code == 200, role
        assert client_for(pb, role).get(f"{url}results/").status_code == 404, role  # not before closing
    expected = statuses(302, 302, 302, 403, 403, 302)
    for role in ("anonymous", "viewer", "other"):
        assert client_for(pb, role).post(f"{url}status/", {"action": "close"}).status_code == expected[role], role
    pb["ex"].refresh_from_db()
    assert pb["ex"].status == "open"
    assert client_for(pb, "commissioner").post(f"{url}status/", {"action": "close"}).status_code == 302
    pb["ex"].refresh_from_db()
    assert pb["ex"].status == "closed"


# API -------------------------------------------------------------------------------------------------

def test_api_tenancy_ballots_and_results(pb):
    ex = pb["ex"]
    draft = _exercise(pb, open_=False, title="Draft fund")
    for role in ROLES:
        ids = {e["id"] for e in client_for(pb, role).get(f"{API}/exercises").json()}
        assert ex.pk in ids and (draft.pk in ids) == (role in ("admin", "commissioner", "viewer", "superuser")), role
        assert client_for(pb, role).get(f"{API}/exercises/{draft.pk}").status_code == (
            404 if role in ("anonymous", "other") else 200)
    detail = Client().get(f"{API}/exercises/{ex.pk}").json()
    assert [p["id"] for p in detail["projects"]] == ["p1", "p2", "p3"] and detail["projects"][0]["cost"] == "4000.00"
    client = Client(enforce_csrf_checks=True)
    client.get(f"/participate/{ex.pk}/vote/")
    token = client.cookies["csrftoken"].value
    post = {"path": f"{API}/exercises/{ex.pk}/ballots", "content_type": "application/json"}
    assert client.post(**post, data={"code": pb["codes"][0], "nonce": "n" * 20, "choices": ["p1"]}).status_code == 403
    headers = {"HTTP_X_CSRFTOKEN": token}
    bad = client.post(**post, data={"code": pb["codes"][0], "nonce": "n" * 20, "choices": ["p1", "p9"]}, **headers)
    assert bad.status_code == 422 and bad["Content-Type"] == "application/problem+json"
    assert bad.json()["errors"][0]["detail"] == "Your ballot names a project that is not in this exercise: p9"
    ok = client.post(**post, data={"code": pb["codes"][0], "nonce": "n" * 20, "choices": ["p1"]}, **headers)
    assert ok.status_code == 201 and ok.json()["created"] is True
    again = client.post(**post, data={"code": pb["codes"][0], "nonce": "n" * 20, "choices": ["p1"]}, **headers)
    assert again.status_code == 200 and again.json()["receipt"] == ok.json()["receipt"]
    dup = client.post(**post, data={"code": pb["codes"][0], "nonce": "m" * 20, "choices": ["p2"]}, **headers)
    assert dup.status_code == 409 and "already been used" in dup.json()["detail"]
    receipt = ok.json()["receipt"]
    assert Client().get(f"{API}/exercises/{ex.pk}/receipts/{receipt}").json() == {"counted": True,
                                                                                "choices": ["p1"], "points": None}
    assert Client().get(f"{API}/exercises/{ex.pk}/receipts/XXXX").status_code == 404
    assert Client().get(f"{API}/exercises/{ex.pk}/results").status_code == 404
    services.change_status(actor=pb["admin"], exercise=ex, action="close")
    assert client_for(pb, "viewer").get(f"{API}/exercises/{ex.pk}/results").json()["rows"][0] == {
        "project_id": "p1", "title": "Benches", "cost": "4000.00", "votes": 1, "points": None, "funded": True,
        "status": "funded", "explanation": "1. 1 votes: funded, cost 4000 within the 10000 left", "rank": None,
        "score": None, "mean": None}
    assert client_for(pb, "other").get(f"{API}/exercises/{ex.pk}/results").status_code == 404


def test_api_priorities_for_a_service_area(users):
    ex = _exercise(users, kind="priorities", service_area="Adult social care", ballot_type="ordinal", budget="")
    code = services.generate_codes(actor=users["admin"], exercise=ex, count=1)[0]
    _cast(ex, code, ranks={"p3": "1"})
    services.change_status(actor=users["admin"], exercise=ex, action="close")
    url = f"{API}/councils/{users['merton'].slug}/priorities"
    for role in ROLES:
        status = client_for(users, role).get(url, {"service_area": "adult social care"}).status_code
        assert status == statuses(404, 200, 200, 200, 404, 200)[role], role
    data = client_for(users, "viewer").get(url, {"service_area": "adult social care"}).json()
    assert data["rows"][0]["project_id"] == "p3" and data["rows"][0]["score"] == 3.0


# CLI and demo ----------------------------------------------------------------------------------------

def test_cli_import_and_export(users, tmp_path, capsys):
    path = PABULIB / "small" / "Poland_Wroclaw_2018_Rejon_nr_11_250.pb"
    call_command("participation", "import", str(path), "--council", users["merton"].slug)
    ex = Exercise.objects.get(source="pb")
    assert ex.rule == "greedy-no-skip" and ex.ballot_type == "choose-1" and ex.ballots.count() == 1956
    out = tmp_path / "out.pb"
    call_command("participation", "export", str(ex.pk), str(out))
    assert pabulib.load(out) == pabulib.load(path)
    bad = tmp_path / "bad.pb"
    bad.write_bytes((PABULIB / "checker_examples" / "example_invalid.pb").read_bytes())
    with pytest.raises(Exception, match="4 problem"):
        call_command("participation", "import", str(bad), "--council", users["merton"].slug)
    assert "META line 20, currency: currency 'non_existing' is not an ISO 4217 code" in capsys.readouterr().err
    assert Exercise.objects.count() == 1


def test_demo_is_deterministic_synthetic_and_idempotent(db):
    council_organisation("DNC")
    line = services.demo()
    assert "DEMO-VOTE-0001" in line
    again = services.demo()
    assert again == line
    exercises = Exercise.objects.filter(owner__la_code="DNC")
    assert exercises.count() == 3 and all(e.synthetic for e in exercises)
    open_ex = exercises.get(status="open")
    assert queries.demo_codes(open_ex)[:2] == ["DEMO-VOTE-0001", "DEMO-VOTE-0002"]
    _receipt, _ = services.cast_ballot(exercise=open_ex, code="demo-vote-0001", nonce=services.new_nonce(),
                                      choices=["P1", "P4"], age="40")
    assert queries.demo_codes(open_ex)[0] == "DEMO-VOTE-0002"
    published = exercises.get(source="pb")
    assert published.status == "published" and set(queries.results(published)["outcome"].funded) == {"1", "2", "3",
                                                                                                     "4", "6"}
    pri = exercises.get(kind="priorities")
    found = queries.priorities_for(pri.owner, "Adult social care")
    assert found["synthetic"] and found["ballots"] == 120
    assert [r["code"] for r in found["rows"]] == ["B", "A", "C", "F", "D", "E"]
    assert [r["code"] for r in found["rows"]] == [r["code"] for r in queries.priorities_for(
        pri.owner, "adult social care")["rows"]]
    assert "Synthetic demo data" in Client().get(f"/participate/{pri.pk}/results/").content.decode()
    assert date(2031, 1, 1) > open_ex.last_day


def test_email_verification_through_the_pages_and_a_ranking_ballot(users, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ex = _exercise(users, verification="email", ballot_type="ordinal", max_choices="2", min_choices="",
                   opens_on="2020-01-01", closes_on="2099-12-31")
    client = Client()
    url = f"/participate/{ex.pk}/"
    page = client.get(f"{url}vote/").content.decode()
    assert "Email me a code" in page and 'id="id_rank-p1"' in page and "The code we emailed you" in page
    response = client.post(f"{url}email/", {"email": "bad"})
    assert response.status_code == 400 and "Enter an email address in the correct format" in response.content.decode()
    response = client.post(f"{url}email/", {"email": "voter@example.org"})
    assert response.status_code == 200 and "We have sent a one-time code" in response.content.decode()
    code = next(line.strip() for line in mail.outbox[0].body.splitlines() if line.startswith("    "))
    assert f"{settings.REMINDER_BASE_URL}/participate/{ex.pk}/vote/?code={code}" in mail.outbox[0].body
    form = client.get(f"{url}vote/", {"code": code}).context["form"]
    assert form["code"].value() == code
    response = client.post(f"{url}vote/", {"nonce": form["nonce"].value(), "rank-p2": "1", "rank-p3": "2",
                                           "code": code})
    assert response.status_code == 200 and "Your vote is recorded" in response.content.decode()
    assert Ballot.objects.get(exercise=ex).choices == ["p2", "p3"]
    response = client.post(f"{url}email/", {"email": "VOTER@example.org"})
    assert response.status_code == 400 and "already been used to vote" in response.content.decode()


# Walk-through fixes (money, explanations, labels, ballots) ------------------------------------------------

def test_page_wording_of_the_count_and_the_exact_default_of_methods_pb():
    election = rules.prepare(Decimal(100000), {"1": 60000, "2": Decimal("35000.40"), "3": 50000},
                             [("1", "2"), ("1", "3"), ("2", "3"), ("1",)])
    exact = rules.greedy(election)
    assert exact.projects["2"].explanation == ("2. 2 votes: funded, cost 35000.40 within the 40000 left (tied on 2 "
                                              "votes with 3; order by lower cost, then lower id)")
    ex = Exercise(title="Fund", budget=Decimal(100000), currency="GBP")
    page = rules.greedy(election, wording=queries.page_wording(ex))
    assert page.funded == exact.funded == ["1", "2"]
    assert page.projects["1"].explanation == ("1st in order of support, with 3 votes: funded, cost £60,000 within "
                                              "the £100,000 left")
    assert page.projects["3"].explanation == (
        "3rd in order of support, with 2 votes: not funded, cost £50,000 is more than the £5,000 left (tied on 2 "
        "votes with project 2; order by lower cost, then lower id)")  # £4,999.60 to the pound
    assert [queries.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"]
    mes = rules.equal_shares(election, utility="cost", completion=None, wording=queries.page_wording(ex))
    assert "who had £" in mes.projects[mes.funded[0]].explanation and ".00" not in mes.projects[mes.funded[0]].explanation


def test_results_and_exercise_pages_show_whole_pounds(users):
    ex = _demo_exercise(users)
    services.change_status(actor=users["admin"], exercise=ex, action="publish")
    text = Client().get(f"/participate/{ex.pk}/results/").content.decode()
    assert "£100,000</dd>" in text and "5 projects costing £97,000; £3,000 left" in text
    assert ">£35,000</td>" in text and "100,000.00" not in text and "35,000.00" not in text
    assert "1st in order of support, with 26 votes: funded, cost £35,000 within the £100,000 left" in text
    assert ">3. 22 votes" not in text and "3. Skate park extension" in text  # "3." is the project id only
    page = Client().get(f"/participate/{ex.pk}/").content.decode()
    assert "£100,000</dd>" in page and ">£35,000</td>" in page and ".00" not in page


def test_synthetic_is_labelled_once_and_the_council_page_has_no_council_column(users):
    demo = _demo_exercise(users)
    services.change_status(actor=users["admin"], exercise=demo, action="publish")
    plain = _exercise(users, title="Merton tree fund")
    Exercise.objects.filter(pk=plain.pk).update(synthetic=True)
    for url in ("/participate/", "/participate/councils/merton/"):
        text = Client().get(url).content.decode()
        assert "(synthetic)" not in text
        assert text.count('<strong class="govuk-tag govuk-tag--grey">Synthetic</strong>') == 1, url  # the tree fund
        assert "Synthetic demo: Doncaster community projects 2025" in text
    assert '<th scope="col" class="govuk-table__header">Council</th>' in Client().get("/participate/").content.decode()
    council = Client().get("/participate/councils/merton/").content.decode()
    assert '<th scope="col" class="govuk-table__header">Council</th>' not in council and "Merton tree fund" in council


def test_the_receipt_shows_a_rank_only_for_ranked_ballots(users):
    approval = _exercise(users)
    ranked = _exercise(users, title="Ranked fund", ballot_type="ordinal", max_choices="2", min_choices="")
    receipts = {}
    for ex, kwargs in ((approval, {"choices": ["p1", "p3"]}), (ranked, {"ranks": {"p3": "1", "p1": "2"}})):
        code = services.generate_codes(actor=users["admin"], exercise=ex, count=1)[0]
        receipts[ex.pk] = _cast(ex, code, **kwargs)[0]
    text = Client().get(f"/participate/{approval.pk}/receipt/", {"receipt": receipts[approval.pk]}).content.decode()
    assert "p1. Benches" in text and ">Order<" not in text and ">Rank<" not in text
    text = Client().get(f"/participate/{ranked.pk}/receipt/", {"receipt": receipts[ranked.pk]}).content.decode()
    assert ">Rank</th>" in text and ">Order<" not in text
    assert text.index("p3. Play area") < text.index("p1. Benches")


def test_the_vote_page_shows_each_projects_description_and_area(users):
    ex = _exercise(users, open_=False)
    services.add_project(actor=users["admin"], exercise=ex, data={
        "title": "Pond", "code": "p4", "cost": "1000", "area": "Mitcham <b>", "description": "A <script>pond</script>"})
    ex = services.change_status(actor=users["admin"], exercise=ex, action="open")
    text = Client().get(f"/participate/{ex.pk}/vote/").content.decode()
    assert ('aria-describedby="id_choices_0-hint"' in text
            and '<div id="id_choices_0-hint" class="govuk-hint govuk-checkboxes__hint">Benches for the park</div>'
            in text)
    assert "A &lt;script&gt;pond&lt;/script&gt; Area: Mitcham &lt;b&gt;." in text and "<script>pond" not in text
    ranked = _exercise(users, title="Ranked fund", ballot_type="ordinal", max_choices="2", min_choices="")
    text = Client().get(f"/participate/{ranked.pk}/vote/").content.decode()
    assert '<div id="id_rank-p2_helptext" class="govuk-hint">Trees for the park</div>' in text
    assert 'aria-describedby="id_rank-p2_helptext"' in text


def test_an_empty_ballot_names_every_problem_at_once(users):
    ex = _exercise(users, minimum_age="16")
    error = _refused(ex, "")
    assert error.errors == [("choices", "Choose at least 1 project (you chose 0)"), ("age", "Enter your age in years"),
                            ("code", "Enter your voting code")]
    error = _refused(ex, "ZZZZ-ZZZZ-ZZZZ", choices=["p1", "p2", "p3"], age="30")
    assert [f for f, _ in error.errors] == ["choices", "code"] and "not one we issued" in error.errors[1][1]
    client = Client()
    nonce = client.get(f"/participate/{ex.pk}/vote/").context["form"]["nonce"].value()
    response = client.post(f"/participate/{ex.pk}/vote/", {"nonce": nonce})
    assert response.status_code == 400
    text = response.content.decode()
    for anchor, message in (("id_choices_0", "Choose at least 1 project (you chose 0)"),
                            ("id_age", "Enter your age in years"), ("id_code", "Enter your voting code")):
        assert f'href="#{anchor}"' in text and message in text
    assert not Ballot.objects.exists() and not VoterCode.objects.filter(used=True).exists()


def test_no_participation_page_points_residents_to_repository_files(users):
    pri = _exercise(users, kind="priorities", service_area="Libraries", ballot_type="weights", max_points="5",
                    budget="")
    services.change_status(actor=users["admin"], exercise=pri, action="close")
    services.change_status(actor=users["admin"], exercise=pri, action="publish")
    demo = _demo_exercise(users)
    services.change_status(actor=users["admin"], exercise=demo, action="publish")
    urls = ["/participate/", "/participate/councils/merton/", f"/participate/{pri.pk}/",
            f"/participate/{pri.pk}/results/", f"/participate/{pri.pk}/receipt/", f"/participate/{demo.pk}/",
            f"/participate/{demo.pk}/results/"]
    for url in urls:
        for role in ("anonymous", "admin"):
            response = client_for(users, role).get(url)
            text = response.content.decode()
            assert response.status_code == 200 and "docs/" not in text and ".md" not in text, (url, role)
    text = Client().get(f"/participate/{pri.pk}/results/").content.decode()
    assert ("Each ballot gave every priority a weight from 0 to 5 (a priority left blank counts as 0). A "
            "priority&#x27;s score is its average weight over all the ballots") in text
