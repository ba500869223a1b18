"""Golden tests of compile/merge against the official OCDS 1.1.5 examples and the fictional example.

What is compared: our compiled release (services.compile_history, which uses ocdsmerge with the
schema built by schema.merger()) against the ``compiledRelease`` of the expected record, whole
and exactly. Nothing is ignored, with one documented exception:

* example02-field: the record ``example02-field-record.json`` was written from a different copy of
  the tender release than ``example02-field-tender.json`` (its embedded copy is dated
  2013-07-17T16:36:56.000Z, not 2013-07-28T09:40:10.000Z, and has no ``tenderPeriod``). So we check
  (1) that compiling the record's own embedded releases gives its compiledRelease exactly, and
  (2) that compiling the input files differs from it in exactly those three places (date, id,
  tender.tenderPeriod), each explained by the input file.

The record files of the fictional example link to their releases by url (``--linked-releases``):
we compare the compiledRelease only, so those urls do not matter.
"""

import json

import pytest

from commissioner.ocds.schema import merger
from commissioner.ocds.services import compile_history
from conftest import shared

MERGING = shared("ocds_reference", "standard-1.1.5", "docs", "examples", "merging")
FICTIONAL = shared("ocds_reference", "sample-data", "fictional-example", "1.1")


def releases(*names, folder=MERGING):
    out = []
    for name in names:
        data = json.loads((folder / name).read_text())
        out += data.get("releases", [data])
    return out


def record(name, folder=MERGING):
    data = json.loads((folder / name).read_text())
    assert len(data["records"]) == 1
    return data["records"][0]


def plain(value):
    return json.loads(json.dumps(value))


def differences(got, expected, path=""):
    """Paths where two JSON values differ."""
    if isinstance(got, dict) and isinstance(expected, dict):
        out = []
        for key in sorted(set(got) | set(expected)):
            out += differences(got.get(key, "<missing>"), expected.get(key, "<missing>"), f"{path}/{key}")
        return out
    if isinstance(got, list) and isinstance(expected, list) and len(got) == len(expected):
        out = []
        for i, (a, b) in enumerate(zip(got, expected, strict=True)):
            out += differences(a, b, f"{path}/{i}")
        return out
    return [] if got == expected else [path]


CASES = [
    (["merge-tender-1.json", "merge-tender-2.json", "merge-tender-3.json", "merge-award-1.json",
      "merge-award-2.json"], "merged.json"),
    (["merge-tender-1.json", "merge-tender-2.json", "merge-tender-3.json", "merge-award-1.json",
      "merge-award-2.json"], "merged-tender.json"),
    (["example02-object-tender.json", "example02-object-tenderAmendment.json"], "example02-object-record.json"),
    (["example03-award.json", "example03-awardAmendment.json"], "example03-record.json"),
]


@pytest.mark.parametrize(("inputs", "expected"), CASES, ids=[c[1] for c in CASES])
def test_compiled_release_matches_the_standard(inputs, expected):
    rels = releases(*inputs)
    want = record(expected)["compiledRelease"]
    compiled, history = compile_history(list(reversed(rels)))  # any order in: sorted by date inside
    assert plain(compiled) == want
    assert [r["id"] for r, _ in history] == [r["id"] for r in sorted(rels, key=lambda r: r["date"])]


def test_merge_example_history():
    """The worked example, in words: later releases win field by field, objects merge by id."""
    compiled, history = compile_history(releases(
        "merge-tender-1.json", "merge-tender-2.json", "merge-tender-3.json", "merge-award-1.json",
        "merge-award-2.json"))
    assert compiled["ocid"] == "ocds-213czf-000-00002"
    assert [len(changes) for _, changes in history] == [0, 1, 7, 7, 7]
    amendment = {path: (old, new) for path, old, new in history[2][1]}
    assert amendment["tender/value/amount"] == (1000, 2000)
    assert amendment["tender/tenderPeriod/endDate"] == ("2016-02-15T18:00:00Z", "2016-02-20T18:00:00Z")
    award2 = {path: (old, new) for path, old, new in history[4][1]}
    assert award2["awards/ocds-213czf-000-00002-award-supplier-two/value/amount"] == (None, 750)
    assert [a["id"] for a in compiled["awards"]] == [
        "ocds-213czf-000-00002-award-supplier-one", "ocds-213czf-000-00002-award-supplier-two"]


def test_example02_field_record_is_consistent_with_its_own_releases():
    rec = record("example02-field-record.json")
    compiled, _ = compile_history(rec["releases"])
    assert plain(compiled) == rec["compiledRelease"]


def test_example02_field_inputs_differ_from_the_record_only_where_the_files_differ():
    rec = record("example02-field-record.json")
    inputs = releases("example02-field-planning.json", "example02-field-tender.json")
    embedded = {r["id"]: r for r in rec["releases"]}
    # The planning release is the same; the tender release in the record is another copy.
    assert embedded["13-9-368828-planning"] == inputs[0]
    tender_in_file, tender_in_record = inputs[1], embedded["13-9-368828-tender"]
    assert differences(tender_in_file, tender_in_record) == ["/date", "/tender/tenderPeriod"]
    assert tender_in_file["date"] == "2013-07-28T09:40:10.000Z"
    assert tender_in_record["date"] == "2013-07-17T16:36:56.000Z"
    compiled, _ = compile_history(inputs)
    assert differences(plain(compiled), rec["compiledRelease"]) == ["/date", "/id", "/tender/tenderPeriod"]
    assert compiled["date"] == "2013-07-28T09:40:10.000Z"
    assert compiled["id"] == "ocds-k50g02-13-9-368828-2013-07-28T09:40:10.000Z"
    assert compiled["tender"]["tenderPeriod"] == {"startDate": "2013-08-01T09:00:00.000Z", "durationInDays": 15}
    # The merge rules themselves agree: rationale set to null in the later release is removed.
    assert "rationale" not in compiled["planning"]
    assert compiled["tender"]["status"] == "active"


def test_fictional_example_six_releases():
    rels = releases(*sorted(p.name for p in FICTIONAL.glob("ocds-213czf-000-00001-0*.json")), folder=FICTIONAL)
    assert len(rels) == 6
    want = record("ocds-213czf-000-00001.json", folder=FICTIONAL / "record")["compiledRelease"]
    compiled, history = compile_history(rels)
    assert plain(compiled) == want
    assert compiled["id"] == "ocds-213czf-000-00001-2011-01-10T09:30:00Z"
    assert [r["tag"][0] for r, _ in history] == [
        "planning", "tender", "tenderAmendment", "award", "contract", "implementation"]
    # The combined package holds the same six releases.
    assert releases("ocds-213czf-000-00001.json", folder=FICTIONAL) == rels


def test_versioned_releases_match_too():
    rels = releases("merge-tender-1.json", "merge-tender-2.json", "merge-tender-3.json", "merge-award-1.json",
                    "merge-award-2.json")
    assert plain(merger().create_versioned_release(rels)) == record("versioned.json")["versionedRelease"]
    rels = releases("ocds-213czf-000-00001.json", folder=FICTIONAL)
    want = record("ocds-213czf-000-00001-withversions.json", folder=FICTIONAL / "record")
    assert plain(merger().create_versioned_release(rels)) == want["versionedRelease"]
    assert plain(merger().create_compiled_release(rels)) == want["compiledRelease"]
