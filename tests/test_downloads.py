"""The one table download (core.downloads): missing stays empty, formulas are defused, JSON keeps the rows;
and a page's CSV goes through it (a measure's name typed as a formula comes out defused)."""

import csv
import io
import json

import pytest
from django.test import Client

from commissioner.benchmarking import services
from commissioner.core.downloads import table_response


def test_csv_and_json_of_one_table():
    rows = [["=SUM(A1)", -5, None, "@x"], {"a": "-12.5", "b": 0, "c": "plain", "d": "+1"}]
    response = table_response("t", "csv", ["a", "b", "c", "d"], rows, meta={"peer": "national", "n": 2},
                              meta_columns=True)
    assert response["Content-Disposition"] == 'attachment; filename="t.csv"'
    got = list(csv.reader(io.StringIO(response.content.decode())))
    assert got == [["a", "b", "c", "d", "peer", "n"], ["'=SUM(A1)", "-5", "", "'@x", "national", "2"],
                   ["-12.5", "0", "plain", "+1", "national", "2"]]
    data = json.loads(table_response("t", "json", ["a", "b"], [["=x", None]], meta={"table": "t"}).content)
    assert data == {"table": "t", "rows": [{"a": "=x", "b": None}]}  # JSON is data, not a spreadsheet


@pytest.mark.django_db
def test_a_page_csv_defuses_a_formula_in_a_name():
    services.define_measure(data={"code": "F1", "name": "=HYPERLINK(\"http://x\")", "synthetic": True})
    rows = list(csv.reader(io.StringIO(Client().get("/benchmarking/?format=csv").content.decode())))
    assert ["F1", "'=HYPERLINK(\"http://x\")"] == rows[1][:2]
