"""`commissioner export ocds|csv`: the public view by default, a user's view with --as."""

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from commissioner.ocds.models import Release
from commissioner.ocds.services import import_ocds
from commissioner.register.models import Contract, ContractSupplier, Provider, Supplier

COLUMNS = ["ocid", "buyer", "title", "status", "value", "currency", "suppliers", "start_date", "end_date"]
LGR = "ocds-b5fd17-09a309a3-8541-48b9-91c4-411c52e5bd34"


def export(fmt, *args):
    out = io.StringIO()
    call_command("commissioner_export", fmt, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def csv_rows(text):
    return list(csv.reader(io.StringIO(text)))


def register():
    """What the register says of each contract: the fields a reader of it sees."""
    return {c.ocid: (c.status, c.value, c.title, c.buyer_name, c.buyer_id,
                     sorted(link.supplier.key for link in c.contract_suppliers.all()))
            for c in Contract.objects.prefetch_related("contract_suppliers__supplier")}


def test_csv_export_of_the_sample(db):
    text = export("csv")
    rows = csv_rows(text)
    assert len(rows) == 191
    header = rows[0]
    assert set(COLUMNS) <= set(header)
    by_ocid = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert len(by_ocid) == 190
    lgr = by_ocid[LGR]
    contract = Contract.objects.get(ocid=LGR)
    assert (lgr["title"], lgr["value"], lgr["currency"]) == ("Business Case for LGR", "109320.00", "GBP")
    assert lgr["buyer"] == contract.buyer_name and lgr["status"] == contract.status
    names = "; ".join(link.supplier.provider.name for link in contract.contract_suppliers.all())
    assert lgr["suppliers"] == names and names
    assert (lgr["source"], lgr["private"]) == ("ocds", "no")
    assert [row[0] for row in rows[1:]] == sorted(by_ocid)  # stable order, by ocid


def test_csv_export_is_the_public_view_unless_as_a_user(db, users, private_contract):
    public = csv_rows(export("csv"))
    assert len(public) == 191
    assert private_contract.ocid not in {row[0] for row in public}
    mine = csv_rows(export("csv", "--as", "merton-viewer"))
    assert len(mine) == 192
    row = next(r for r in mine if r[0] == private_contract.ocid)
    assert dict(zip(mine[0], row, strict=True))["title"] == "In-house reablement service"
    assert dict(zip(mine[0], row, strict=True))["private"] == "yes"
    assert len(csv_rows(export("csv", "--as", "leeds-admin"))) == 191
    assert len(csv_rows(export("csv", "--as", "root"))) == 192
    with pytest.raises(CommandError, match="no user 'nobody'"):
        export("csv", "--as", "nobody")


def test_csv_export_to_a_file(db, tmp_path):
    path = tmp_path / "register.csv"
    err = io.StringIO()
    call_command("commissioner_export", "csv", str(path), stdout=io.StringIO(), stderr=err)
    assert len(csv_rows(path.read_text(encoding="utf-8"))) == 191
    assert f"wrote {path} (csv, public view)" in err.getvalue()


def test_ocds_export_round_trip(db, tmp_path):
    """Export, empty the register, import the export: the register reads the same."""
    before = register()
    assert len(before) == 190
    path = tmp_path / "export.json"
    call_command("commissioner_export", "ocds", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    package = json.loads(path.read_bytes())
    assert package["version"] == "1.1"
    assert len(package["releases"]) == 200
    assert len({r["ocid"] for r in package["releases"]}) == 190
    ContractSupplier.objects.all().delete()
    Contract.objects.all().delete()
    Release.objects.all().delete()
    Supplier.objects.all().delete()
    Provider.objects.all().delete()
    s = import_ocds([path])
    assert (s.read, s.releases_new, s.contracts_created, s.rejected) == (200, 200, 190, [])
    assert register() == before


def test_ocds_export_to_standard_output(db):
    package = json.loads(export("ocds"))
    assert len(package["releases"]) == 200
    assert package["publisher"] == {"name": "Commissioner export"}
    lgr = [r for r in package["releases"] if r["ocid"] == LGR]
    assert sorted(r["date"] for r in lgr) == ["2025-03-11T10:01:01Z", "2025-03-11T10:07:26Z"]


def test_ocds_export_leaves_out_what_the_view_cannot_see(db, users):
    # Make one contract with releases private to Merton (as a council's own data would be).
    Contract.objects.filter(ocid=LGR).update(is_private=True, owner=users["merton"])
    public = json.loads(export("ocds"))
    assert len(public["releases"]) == 198
    assert LGR not in {r["ocid"] for r in public["releases"]}
    mine = json.loads(export("ocds", "--as", "merton-viewer"))
    assert len(mine["releases"]) == 200
    assert len(json.loads(export("ocds", "--as", "leeds-admin"))["releases"]) == 198
    assert LGR not in {row[0] for row in csv_rows(export("csv"))}
