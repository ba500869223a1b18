"""ocds/single.py gives, for one release alone, exactly what ocdsmerge gives: tested on every real
release we have, and on each case where it must hand the release to ocdsmerge."""

import copy
import json
import warnings

import orjson
import pytest
from ocdsmerge.merge import CompiledRelease

from commissioner.ocds.schema import merger
from commissioner.ocds.services import compile_history
from commissioner.ocds.single import compile_single
from conftest import ROOT, shared


def ocdsmerge_alone(release):
    compiled = CompiledRelease(merge_rules=merger().merge_rules)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled.append(release)
    return compiled.asdict()


def real_releases():
    """Every release in the real OCDS files: the Contracts Finder samples (ours and shared), the
    Bluetail notices, the fictional example and the standard's merging examples."""
    folders = [ROOT / "data" / "samples", shared("ocds_contracts_finder"), shared("ocds_reference", "sample-data"),
               shared("ocds_reference", "standard-1.1.5", "docs", "examples", "merging")]
    out = []
    for folder in folders:
        for path in sorted(folder.rglob("*.json")):
            if "bods" in path.parts:
                continue
            data = json.loads(path.read_text(encoding="utf-8-sig"))
            if "releases" in data:
                out += [(path.name, r) for r in data["releases"] if "ocid" in r]
            elif "records" in data:
                out += [(path.name, r) for rec in data["records"] for r in rec.get("releases", [])
                        if "ocid" in r and "url" not in r]
            elif "ocid" in data and "date" in data:
                out.append((path.name, data))
    return out


REAL = real_releases()


def test_every_real_release_compiles_to_exactly_what_ocdsmerge_gives():
    assert len(REAL) >= 600
    taken = 0
    for name, release in REAL:
        fast = compile_single(copy.deepcopy(release))
        if fast is None:
            continue
        taken += 1
        assert orjson.dumps(fast) == orjson.dumps(ocdsmerge_alone(release)), (name, release.get("id"))
    # Most real releases take the short way (the rest have duplicate ids, nulls, ...): the test above is
    # not vacuous.
    assert taken >= 0.7 * len(REAL)


def test_compile_history_of_one_release_is_ocdsmerges():
    for name, release in REAL[:250]:
        compiled, history = compile_history([release])
        assert compiled == ocdsmerge_alone(release), name
        assert history == [(release, [])]


BASE = {"ocid": "ocds-x-1", "id": "r1", "date": "2025-01-01T00:00:00Z", "tag": ["award"],
        "parties": [{"name": "A", "id": "P1", "roles": ["buyer"]}], "tender": {"title": "T"}}


@pytest.mark.parametrize("change", [
    pytest.param(lambda r: r["tender"].update(value=None), id="null value"),
    pytest.param(lambda r: r["parties"].append({"name": "B", "id": "P1"}), id="duplicate id"),
    pytest.param(lambda r: r["parties"].append({"name": "B"}), id="object without id"),
    pytest.param(lambda r: r["parties"].append({"name": "B", "id": 1.5}), id="float id"),
    pytest.param(lambda r: r["parties"].append({"name": "B", "id": None}), id="null id"),
    pytest.param(lambda r: r["parties"].append("B"), id="mixed array"),
    pytest.param(lambda r: r.update(awards=["x", {"id": "1"}]), id="mixed array, object later"),
])
def test_cases_left_to_ocdsmerge(change):
    release = copy.deepcopy(BASE)
    change(release)
    assert compile_single(release) is None
    compiled, _ = compile_history([release])
    assert compiled == ocdsmerge_alone(release)


@pytest.mark.parametrize("change", [
    pytest.param(lambda r: r["tender"].update(items=[], x={}), id="empty array and object"),
    pytest.param(lambda r: r["tender"].update(lots=[{"id": "L1", "details": {}}]), id="object left empty"),
    pytest.param(lambda r: r.update(planning={"budget": {"amount": {}}}), id="nested objects left empty"),
    pytest.param(lambda r: r["parties"].append({"name": "B", "id": 2, "roles": []}), id="integer id, id last"),
    pytest.param(lambda r: r["parties"][0].update(additionalIdentifiers=[]), id="wholeListMerge empty"),
    pytest.param(lambda r: r["tender"].update(coveredBy=[None, "x"]), id="null in a list of strings"),
    pytest.param(lambda r: r["tender"].update(x=[[{"a": 1}], [2]]), id="list of lists"),
    pytest.param(lambda r: r.pop("tag"), id="no tag"),
])
def test_cases_compiled_without_ocdsmerge_are_the_same(change):
    release = copy.deepcopy(BASE)
    change(release)
    fast = compile_single(copy.deepcopy(release))
    assert fast is not None
    assert orjson.dumps(fast) == orjson.dumps(ocdsmerge_alone(release))
