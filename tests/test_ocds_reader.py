"""The streaming OCDS reader on the real files and on every malformed shape (no database)."""

import io
import json

import pytest

from commissioner.ocds import reader
from conftest import shared

CF = ("ocds_contracts_finder", "cfserver1")
PACKAGE = shared(*CF, "cf_englishdata_release_package.json")
JSONL = shared(*CF, "cf_englishdata_releases.jsonl")
SEARCH_PAGE = shared(*CF, "cf_search_page_2025-01-20_to_2025-01-23.json")
BLUETAIL = shared("ocds_contracts_finder", "bluetail", "ocds")
FICTIONAL = shared("ocds_reference", "sample-data", "fictional-example", "1.1")


def items(path):
    out = list(reader.read(path))
    return [i for i in out if i.error is None], [i for i in out if i.error is not None]


def from_bytes(data, name="test.json"):
    out = list(reader.read_stream(io.BytesIO(data), name))
    return [i for i in out if i.error is None], [i for i in out if i.error is not None]


REL = {"ocid": "ocds-x-1", "id": "1", "date": "2024-01-01T00:00:00Z", "tag": ["tender"]}


# -- the real files ------------------------------------------------------------------------------------

def test_release_package():
    ok, bad = items(PACKAGE)
    assert bad == []
    assert len(ok) == 200
    assert len({i.release["ocid"] for i in ok}) == 190
    first = json.loads(PACKAGE.read_bytes())["releases"][0]
    assert ok[0].release == first
    assert ok[0].position == "value 1, release 0" and ok[199].position == "value 1, release 199"
    assert ok[0].package["publisher"] == {"name": "Contracts Finder (extracted)"}
    assert "releases" not in ok[0].package


def test_json_lines_give_the_same_releases_as_the_package():
    ok, bad = items(JSONL)
    assert bad == []
    assert [i.position for i in ok[:2]] == ["line 1", "line 2"]
    package = [i.release for i in items(PACKAGE)[0]]
    assert [i.release for i in ok] == package


def test_search_page():
    ok, bad = items(SEARCH_PAGE)
    assert bad == []
    assert len(ok) == 100
    assert len({i.release["ocid"] for i in ok}) == 94
    assert ok[0].package["publisher"]["name"] == "Cabinet Office"  # the original package, as published


def test_bluetail_folder_173_packages():
    ok, bad = items(BLUETAIL)
    assert bad == []
    assert len(ok) == 173
    assert len({i.source for i in ok}) == 173  # one release per package file
    assert all(i.package["version"] == "1.1" for i in ok)
    # Files are read in a stable (sorted) order.
    assert [i.source for i in ok] == sorted(i.source for i in ok)


def test_fictional_example_folder_reads_packages_and_records():
    ok, bad = items(FICTIONAL)
    assert bad == []
    # 6 single-release packages, the 6-release package, and two record packages whose records link
    # to their releases by url: from those the compiled release is read (tagged "compiled").
    assert len(ok) == 14
    assert {i.release["ocid"] for i in ok} == {"ocds-213czf-000-00001"}
    ids = sorted({i.release["id"] for i in ok})
    assert ids == [f"ocds-213czf-000-00001-0{n}" for n in (
        "1-planning", "2-tender", "3-tenderAmendment", "4-award", "5-contract", "6-implementation")] + [
        "ocds-213czf-000-00001-2011-01-10T09:30:00Z"]
    compiled = [i for i in ok if i.position == "value 1, record 0, compiledRelease"]
    assert len(compiled) == 2 and compiled[0].release["tag"] == ["compiled"]


# -- shapes --------------------------------------------------------------------------------------------

def test_top_level_array_of_releases():
    ok, bad = from_bytes(json.dumps([REL, REL | {"id": "2"}]).encode())
    assert bad == []
    assert [i.release["id"] for i in ok] == ["1", "2"]
    assert [i.position for i in ok] == ["value 1, item 0", "value 1, item 1"]


def test_concatenated_json_values():
    data = (json.dumps({"releases": [REL]}, indent=1) + "\n" + json.dumps(REL | {"id": "2"}, indent=1)).encode()
    ok, bad = from_bytes(data)
    assert bad == []
    assert [(i.position, i.release["id"]) for i in ok] == [("value 1, release 0", "1"), ("value 2", "2")]
    ok, bad = from_bytes(data + b"\n7\n")
    assert len(ok) == 2
    assert [(i.position, i.error) for i in bad] == [("value 3", ("test.json, value 3: a bare number is not OCDS "
                                                                 "(expected a JSON object)"))]


def test_utf8_byte_order_mark_is_skipped():
    ok, bad = from_bytes(b"\xef\xbb\xbf" + json.dumps({"releases": [REL]}, indent=2).encode())
    assert bad == [] and ok[0].release == REL


def test_record_package_with_linked_releases_uses_the_compiled_release():
    compiled = REL | {"id": "ocds-x-1-2024-01-01T00:00:00Z", "tag": ["compiled"]}
    record = {"ocid": "ocds-x-1", "releases": [{"url": "https://example.org/r1.json", "date": REL["date"],
                                                  "tag": ["tender"]}], "compiledRelease": compiled}
    for data in (json.dumps({"records": [record]}, indent=1), json.dumps(record, indent=1), json.dumps(record)):
        ok, bad = from_bytes(data.encode())
        assert bad == [], data
        assert [i.release for i in ok] == [compiled]
        assert ok[0].position.endswith("compiledRelease")


def test_record_with_embedded_releases_reports_a_broken_one():
    record = {"ocid": "ocds-x-1", "releases": [REL, 7]}
    ok, bad = from_bytes(json.dumps({"records": [record]}).encode())
    assert [i.release for i in ok] == [REL]
    assert bad[0].position == "line 1, record 0, release 1"
    assert "a release must be a JSON object, got a number" in bad[0].error


def test_a_long_first_line_is_still_json_lines():
    big = REL | {"tender": {"description": "x" * 200_000}}
    data = (json.dumps(big) + "\n" + '{"ocid": "ocds-x-2", "id": "1", "da\n' + json.dumps(REL) + "\n").encode()
    ok, bad = from_bytes(data)
    assert [i.position for i in ok] == ["line 1", "line 3"]
    assert [i.position for i in bad] == ["line 2"]


def test_a_broken_first_line_of_json_lines():
    data = b'{"ocid": "ocds-x-1", "id": "1", "date": "2024-0\n' + json.dumps(REL).encode() + b"\n"
    ok, bad = from_bytes(data)
    assert [i.position for i in bad] == ["line 1"] and "malformed JSON" in bad[0].error
    assert [i.release for i in ok] == [REL]


# -- bad input -----------------------------------------------------------------------------------------

def release_ends(raw: bytes):
    """Byte offset after each release of a package, found with the standard library (not ijson)."""
    text = raw.decode("utf-8")
    decoder = json.JSONDecoder()
    pos = text.index("[", text.index('"releases"')) + 1
    ends = []
    while True:
        while text[pos] in " \n\r\t,":
            pos += 1
        if text[pos] == "]":
            return ends
        value, pos = decoder.raw_decode(text, pos)
        ends.append((len(text[:pos].encode("utf-8")), value["ocid"]))


def test_truncated_package_keeps_what_came_before_and_names_the_place(tmp_path):
    raw = PACKAGE.read_bytes()
    cut = raw[: len(raw) // 2]
    path = tmp_path / "cut.json"
    path.write_bytes(cut)
    ends = release_ends(raw)
    complete = [ocid for end, ocid in ends if end <= len(cut)]
    assert 90 < len(complete) < 110
    ok, bad = items(path)
    assert len(ok) == len(complete)
    assert [i.release["ocid"] for i in ok] == complete
    assert len(bad) == 1
    err = bad[0]
    assert err.position == f"byte {len(cut)}"
    assert str(path) in err.error
    assert f"after {len(complete)} releases or records (last ocid {complete[-1]})" in err.error
    assert "malformed or truncated JSON" in err.error


def test_truncated_json_line_rejects_only_that_line(tmp_path):
    lines = JSONL.read_bytes().splitlines(keepends=True)
    lines[56] = lines[56][: len(lines[56]) // 2] + b"\n"
    path = tmp_path / "cut.jsonl"
    path.write_bytes(b"".join(lines))
    ok, bad = items(path)
    assert len(ok) == 199
    assert [i.position for i in bad] == ["line 57"]
    assert bad[0].error.startswith(f"{path}, line 57: malformed JSON")


def test_nan_is_not_json():
    line = json.dumps(REL | {"id": "2"})[:-1] + ', "tender": {"value": {"amount": NaN}}}'
    ok, bad = from_bytes((json.dumps(REL) + "\n" + line + "\n").encode(), "nan.jsonl")
    assert [i.release["id"] for i in ok] == ["1"]
    assert [i.position for i in bad] == ["line 2"]
    # In a package the parser cannot go past it: what came before is kept, the place is named.
    data = ('{"releases": [' + json.dumps(REL) + ", " + line + "]}").encode()
    ok, bad = from_bytes(data, "nan.json")
    assert [i.release["id"] for i in ok] == ["1"]
    assert "after 1 releases or records (last ocid ocds-x-1)" in bad[0].error and "NaN" in bad[0].error


@pytest.mark.parametrize(("data", "position", "message"), [
    (b"", "byte 0", "empty file, no OCDS data"),
    (b"   \n\n", "byte 0", "empty file, no OCDS data"),
    (b"ocid,title\nocds-x-1,Thing\n", "byte 0", "not JSON (starts with b'ocid,title"),
    (b"\xff\xfe{\x00", "byte 0", "(UTF-16? save it as UTF-8)"),
    (b"{}", "line 1", "not OCDS: an object with no ocid, releases or records (keys: none)"),
    (b'{"name": "a spreadsheet", "rows": 3}', "line 1", "not OCDS: an object with no ocid, releases or records"),
    (b'"a string"', "byte 0", "not JSON (starts with b'\"a string\"')"),
    (b'{"releases": {"ocid": "x"}}', "line 1", "'releases' must be an array, got an object"),
    (b'{"records": [{"ocid": "x"}]}', "line 1, record 0", "record has neither releases nor compiledRelease"),
])
def test_not_ocds(data, position, message):
    ok, bad = from_bytes(data)
    assert ok == []
    assert len(bad) == 1
    assert bad[0].position == position
    assert message in bad[0].error
    assert bad[0].error.startswith("test.json")


def test_array_of_numbers_is_three_errors():
    ok, bad = from_bytes(b"[1, 2, 3]")
    assert ok == []
    assert [i.position for i in bad] == ["value 1, item 0", "value 1, item 1", "value 1, item 2"]
    assert all("expected a JSON object, got a number" in i.error for i in bad)


def test_releases_that_are_not_objects():
    ok, bad = from_bytes(json.dumps({"releases": [1, "x", REL]}, indent=1).encode())
    assert [i.release for i in ok] == [REL]
    assert [i.position for i in bad] == ["value 1, release 0", "value 1, release 1"]
    assert "got a string" in bad[1].error


def test_missing_file_and_folder_filter(tmp_path):
    ok, bad = items(tmp_path / "nope.json")
    assert ok == [] and bad[0].error == f"{tmp_path / 'nope.json'}: no such file or folder"
    (tmp_path / "a.json").write_text(json.dumps(REL))
    (tmp_path / "notes.md").write_text("not data")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.jsonl").write_text(json.dumps(REL | {"id": "2"}) + "\n")
    ok, bad = items(tmp_path)
    assert bad == []
    assert [i.release["id"] for i in ok] == ["1", "2"]


def test_whole_numbers_beyond_64_bits(tmp_path):
    """The C parser stops at them; a file is read again with the Python parser, a stream cannot be."""
    huge = REL | {"id": "2", "tender": {"value": {"amount": 10**20, "currency": "GBP"}}}
    data = json.dumps({"releases": [REL, huge, REL | {"id": "3"}]}, indent=1).encode()
    path = tmp_path / "huge.json"
    path.write_bytes(data)
    ok, bad = items(path)
    assert bad == []
    assert [i.release["id"] for i in ok] == ["1", "2", "3"]
    assert ok[1].release["tender"]["value"]["amount"] == 10**20
    assert [i.position for i in ok] == ["value 1, release 0", "value 1, release 1", "value 1, release 2"]

    class Pipe(io.RawIOBase):  # standard input: cannot be read twice
        def __init__(self, data):
            self.data = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, b):
            chunk = self.data.read(len(b))
            b[: len(chunk)] = chunk
            return len(chunk)

    out = list(reader.read_stream(Pipe(data), "<stdin>"))
    assert [i.release["id"] for i in out if i.release] == ["1"]
    assert "integer overflow" in out[-1].error and "(last ocid ocds-x-1)" in out[-1].error
