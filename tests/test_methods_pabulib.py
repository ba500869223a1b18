"""methods.pabulib: reading, checking and writing .pb files, on the real pabulib files and on broken copies.

The real files live in ../shared/data/pabulib (internal tests only: they are never copied into the repo).
"""

from decimal import Decimal

import pytest

from commissioner.methods import pabulib
from conftest import SHARED

PABULIB = SHARED / "pabulib"
needs_files = pytest.mark.skipif(not PABULIB.exists(), reason=f"the pabulib files are not at {PABULIB}")

REAL = sorted(PABULIB.glob("small/*.pb")) + sorted(PABULIB.glob("large/*.pb"))
VALID = [*REAL, PABULIB / "checker_examples" / "example_valid.pb"]

SMALL = """META
key;value
description;Test PB
country;United Kingdom
unit;Merton
instance;2026
num_projects;3
num_votes;3
budget;1000
vote_type;approval
rule;greedy
date_begin;01.05.2026
date_end;31.05.2026
max_length;2
currency;GBP
PROJECTS
project_id;cost;votes;name;selected
a;600;2;"Benches; and bins";1
b;500;2;"The ""big"" park";0
c;300;1;Library;1
VOTES
voter_id;vote;age;sex
v1;a,b;34;F
v2;a,c;51;M
v3;b;19;O
"""


def test_small_file_parses_to_real_values():
    pb = pabulib.loads(SMALL)
    assert pb.budget == 1000
    assert pb.vote_type == "approval" and pb.rule == "greedy"
    assert list(pb.projects) == ["a", "b", "c"]
    assert pb.projects["a"].cost == 600
    assert pb.projects["a"].fields["name"] == "Benches; and bins"
    assert pb.projects["b"].fields["name"] == 'The "big" park'
    assert pb.selected() == ["a", "c"]
    assert [v.voter_id for v in pb.votes] == ["v1", "v2", "v3"]
    assert pb.votes[1].vote == ("a", "c")
    assert pb.votes[1].fields == {"age": "51", "sex": "M"}
    assert pb.ballots() == [("a", "b"), ("a", "c"), ("b",)]
    assert pb.points() is None


def test_crlf_bom_and_comma_decimals():
    text = SMALL.replace("a;600;", "a;600,50;").replace("budget;1000", "budget;1000,5")
    data = ("\ufeff" + text.replace("\n", "\r\n")).encode("utf-8")
    pb = pabulib.loads(data)
    assert pb.projects["a"].cost == Decimal("600.50")
    assert pb.budget == Decimal("1000.5")
    assert pb.meta["description"] == "Test PB"
    assert pb.votes[2].fields["sex"] == "O"
    assert pabulib.loads(pabulib.dumps(pb, newline="\r\n")) == pb


@needs_files
@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_every_real_file_is_valid_and_round_trips(path):
    data = path.read_bytes()
    pb = pabulib.loads(data)
    assert len(pb.projects) == int(pb.meta["num_projects"])
    assert len(pb.votes) == int(pb.meta["num_votes"])
    again = pabulib.loads(pabulib.dumps(pb))
    assert again == pb
    # and a second write is byte-identical to the first
    assert pabulib.dumps(again) == pabulib.dumps(pb)


@needs_files
def test_real_files_values():
    krakow = pabulib.load(PABULIB / "small" / "Poland_Krakow_2022_Czyzyny.pb")
    assert krakow.vote_type == "ordinal"
    assert krakow.votes[0].voter_id == "E1186207"
    assert krakow.votes[0].vote == ("6", "2", "1") and krakow.votes[0].points == (3, 2, 1)
    assert krakow.projects["24"].fields["name"] == '"Szopka Czyżyńska"'
    assert krakow.budget == 1548961
    katowice = pabulib.load(PABULIB / "small" / "Poland_Katowice_2023_Podlesie.pb")
    assert katowice.projects["L22/01/X"].cost == 245000
    assert katowice.meta["min_project_score_threshold"] == "50"
    assert sum(len(v.vote) for v in katowice.votes) == 640 + 571 + 383 + 207 + 141 + 84 + 75 + 53
    warsaw = pabulib.load(PABULIB / "large" / "Poland_Warszawa_2026.pb")
    assert len(warsaw.votes) == 61668 and len(warsaw.projects) == 83
    assert warsaw.projects["93"].fields["latitude"] == ""  # missing stays missing
    assert len(warsaw.selected()) == 17
    assen = pabulib.load(PABULIB / "small" / "Netherlands_Assen_2024.pb")
    assert assen.votes[0].voter_id == "vote01006bcf-62b6-435d-a0de-2966c3e75249"
    assert assen.rule == "equalshares/add1"
    amsterdam = pabulib.load(PABULIB / "large" / "Netherlands_Amsterdam_252.pb")
    assert amsterdam.selected() is None
    assert amsterdam.meta["budget_per_neighborhood"] == "150000,100000,250000"


@needs_files
def test_checker_invalid_example_names_its_injected_errors():
    problems = pabulib.check_file(PABULIB / "checker_examples" / "example_invalid.pb")
    text = [str(p) for p in problems]
    assert "META line 20, currency: currency 'non_existing' is not an ISO 4217 code" in text
    assert "VOTES line 29, voter_id: voter_id '290,67' contains a comma" in text
    assert "VOTES line 29, sex: voter 290,67: sex 'X' is not M, F or O" in text
    assert "VOTES line 30, sex: voter 360: sex 'Z' is not M, F or O" in text
    assert len(problems) == 4
    with pytest.raises(pabulib.PbFileError) as caught:
        pabulib.load(PABULIB / "checker_examples" / "example_invalid.pb")
    assert "non_existing" in str(caught.value) and "290,67" in str(caught.value)


def _problems(text):
    return [str(p) for p in pabulib.check(text)]


# line numbers in SMALL: 7 num_projects, 8 num_votes, 9 budget, 10 vote_type, 12-13 dates, 14 max_length,
# 18-20 projects a, b, c; 23-25 votes v1, v2, v3
BAD = [
    ("num_votes", ("num_votes;3", "num_votes;4"), "META, num_votes: num_votes is 4 but the file has 3 votes"),
    (
        "num_projects",
        ("num_projects;3", "num_projects;2"),
        "META, num_projects: num_projects is 2 but the file has 3 projects",
    ),
    ("unknown project", ("v3;b;", "v3;b,zz;"), "VOTES line 25, vote: voter v3: unknown project id(s) zz"),
    ("duplicate voter", ("v3;b;", "v1;b;"), "VOTES line 25, voter_id: duplicate voter_id v1 (first on line 23)"),
    (
        "duplicate project",
        ("c;300;1;Library;1", "a;300;1;Library;1"),
        "PROJECTS line 20, project_id: duplicate project_id a (first on line 18)",
    ),
    ("missing budget", ("budget;1000\n", ""), "META, budget: required key budget is missing or empty"),
    ("missing vote_type", ("vote_type;approval\n", ""), "META, vote_type: required key vote_type is missing or empty"),
    (
        "bad vote_type",
        ("vote_type;approval", "vote_type;borda"),
        "META line 10, vote_type: unknown vote_type 'borda' (one of approval, ordinal, cumulative, choose-1, scoring)",
    ),
    ("cost not a number", ("c;300;1", "c;lots;1"), "PROJECTS line 20, cost: project c: cost 'lots' is not a number"),
    ("cost not positive", ("c;300;1", "c;-300;1"), "PROJECTS line 20, cost: project c: cost -300 is not positive"),
    ("cost zero", ("c;300;1", "c;0;1"), "PROJECTS line 20, cost: project c: cost 0 is not positive"),
    ("too many choices", ("v3;b;", "v3;b,a,c;"), "VOTES line 25, vote: voter v3: 3 choices, more than max_length 2"),
    (
        "too few choices",
        ("max_length;2", "min_length;2"),
        "VOTES line 25, vote: voter v3: 1 choices, fewer than min_length 2",
    ),
    ("repeated choice", ("v3;b;", "v3;b,b;"), "VOTES line 25, vote: voter v3: project(s) b voted for more than once"),
    (
        "selected over budget",
        ('b;500;2;"The ""big"" park";0', "b;500;2;Park;1"),
        "PROJECTS, selected: the selected projects cost 1400, more than the budget 1000",
    ),
    ("budget not a number", ("budget;1000", "budget;a lot"), "META line 9, budget: budget 'a lot' is not a number"),
    (
        "bad date",
        ("date_end;31.05.2026", "date_end;2026-05-31"),
        "META line 13, date_end: date_end '2026-05-31' is not a date as dd.mm.yyyy or yyyy",
    ),
    (
        "dates reversed",
        ("date_end;31.05.2026", "date_end;01.04.2026"),
        "META line 12, date_begin: date_begin is after date_end",
    ),
    ("bad sex", ("v3;b;19;O", "v3;b;19;X"), "VOTES line 25, sex: voter v3: sex 'X' is not M, F or O"),
    (
        "bad age",
        ("v3;b;19;O", "v3;b;nineteen;O"),
        "VOTES line 25, age: voter v3: age 'nineteen' is not a whole number from 0 to 120",
    ),
    ("wrong field count", ("v3;b;19;O", "v3;b;19"), "VOTES line 25: expected 4 fields as in the header, found 3"),
    (
        "votes column wrong",
        ("c;300;1;Library", "c;300;5;Library"),
        "PROJECTS line 20, votes: project c: votes is 5 but 1 votes in VOTES name it",
    ),
    (
        "missing section",
        ("VOTES\nvoter_id;vote;age;sex\nv1;a,b;34;F\nv2;a,c;51;M\nv3;b;19;O\n", ""),
        "VOTES: section VOTES is missing",
    ),
]


@pytest.mark.parametrize(("label", "change", "expected"), BAD, ids=[b[0] for b in BAD])
def test_each_invalid_file_class_gives_a_clear_error(label, change, expected):
    old, new = change
    assert old in SMALL, label
    text = SMALL.replace(old, new, 1)
    assert expected in _problems(text)
    with pytest.raises(pabulib.PbFileError) as caught:
        pabulib.loads(text)
    assert expected in str(caught.value)


CUMULATIVE = """META
key;value
description;Points test
country;United Kingdom
unit;Leeds
instance;2026
num_projects;2
num_votes;2
budget;100
vote_type;cumulative
rule;greedy
date_begin;2026
date_end;2026
min_sum_points;1
max_sum_points;5
PROJECTS
project_id;cost;score
p1;60;6
p2;50;2
VOTES
voter_id;vote;points
1;p1,p2;3,2
2;p1;3
"""


def test_cumulative_points_parse_and_checks():
    pb = pabulib.loads(CUMULATIVE)
    assert pb.points() == [(3, 2), (3,)]
    assert pabulib.loads(pabulib.dumps(pb)) == pb
    assert "VOTES line 22, points: voter 1: 1 points for 2 projects voted for" in _problems(
        CUMULATIVE.replace("1;p1,p2;3,2", "1;p1,p2;5")
    )
    assert "VOTES line 22, points: voter 1: points sum to 6, above max_sum_points 5" in _problems(
        CUMULATIVE.replace("1;p1,p2;3,2", "1;p1,p2;3,3").replace("p2;50;2", "p2;50;3")
    )
    assert "VOTES line 23, points: voter 2: no points for a cumulative vote" in _problems(
        CUMULATIVE.replace("2;p1;3", "2;p1;")
    )
    assert "VOTES line 22, points: voter 1: points '3,x' are not numbers" in _problems(
        CUMULATIVE.replace("1;p1,p2;3,2", "1;p1,p2;3,x")
    )
    assert "PROJECTS line 18, score: project p1: score is 7 but the points in VOTES add up to 6" in _problems(
        CUMULATIVE.replace("p1;60;6", "p1;60;7")
    )


def test_choose_one_allows_exactly_one():
    text = SMALL.replace("vote_type;approval", "vote_type;choose-1").replace("max_length;2\n", "")
    problems = _problems(text)
    # max_length removed: every line after META moves up by one
    assert problems == [
        "VOTES line 22, vote: voter v1: 2 choices, more than max_length 1",
        "VOTES line 23, vote: voter v2: 2 choices, more than max_length 1",
    ]


def test_not_utf8_is_refused():
    problems = pabulib.check(SMALL.encode("cp1252").replace(b"Library", b"Libr\xe9ry"))
    assert [str(p) for p in problems] == ["file: not UTF-8 (byte 338 cannot be decoded)"]


def test_parse_number():
    assert pabulib.parse_number("7200") == 7200 and isinstance(pabulib.parse_number("7200"), int)
    assert pabulib.parse_number("12,5") == Decimal("12.5")
    assert pabulib.parse_number("12.50") == Decimal("12.5")
    for bad in ("", "abc", "nan", "inf"):
        with pytest.raises(ValueError):
            pabulib.parse_number(bad)


def test_ballot_problems_for_one_ballot():
    projects = {"a", "b", "c"}
    assert pabulib.ballot_problems(("a", "b"), None, projects, max_length=2) == []
    assert pabulib.ballot_problems(("a", "b", "c"), None, projects, max_length=2) == [
        ("vote", "3 choices, more than max_length 2")
    ]
    assert pabulib.ballot_problems(("a", "x"), None, projects, "choose-1") == [
        ("vote", "unknown project id(s) x"),
        ("vote", "2 choices, more than max_length 1"),
    ]
    assert pabulib.ballot_problems(("a", "b"), (4, 2), projects, "cumulative", max_sum_points=5, max_points=3) == [
        ("points", "points above max_points 3"),
        ("points", "points sum to 6, above max_sum_points 5"),
    ]
    assert pabulib.ballot_problems((), None, projects, min_length=1) == [("vote", "0 choices, fewer than min_length 1")]


def test_writing_an_invalid_file_is_refused_and_writes_nothing(tmp_path):
    pb = pabulib.loads(SMALL)
    pb.votes.append(pabulib.PbVote("v4", ("a", "nope"), None, {"age": "40", "sex": "F"}))
    target = tmp_path / "out.pb"
    with pytest.raises(pabulib.PbFileError) as caught:
        pabulib.dump(pb, target)
    text = str(caught.value)
    assert "META, num_votes: num_votes is 3 but the file has 4 votes" in text
    assert "VOTES line 26, vote: voter v4: unknown project id(s) nope" in text
    assert not target.exists()
    pb.votes.pop()
    pabulib.dump(pb, target)
    assert pabulib.load(target) == pb
