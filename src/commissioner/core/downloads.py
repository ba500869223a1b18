"""One way to give a table as a download, for every page that offers "Download CSV / JSON".

CSV: a header and one line a row; a missing value is an empty cell (never 0); text cells that a
spreadsheet would run as a formula (=, +, -, @, tab, CR at the start, unless a number) are defused with
a leading apostrophe. ``meta`` scalars can be repeated as extra columns (``meta_columns``), so that a CSV
file still says which peer group or method its figures use. JSON: ``{**meta, rows_key: [row dicts]}``.
"""

import csv
import io

from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse, JsonResponse

from commissioner.register.queries import _safe_cell

FORMATS = ("csv", "json")


def table_response(name, fmt, header, rows, *, meta=None, rows_key="rows", meta_columns=False):
    """``rows`` are sequences in the order of ``header``, or dicts keyed by it."""
    if fmt not in FORMATS:
        raise Http404("Unknown format: use csv or json")
    meta = meta or {}
    rows = [[r.get(k) for k in header] if isinstance(r, dict) else list(r) for r in rows]
    if fmt == "json":
        response = JsonResponse({**meta, rows_key: [dict(zip(header, r, strict=True)) for r in rows]},
                                encoder=DjangoJSONEncoder, json_dumps_params={"indent": 1, "ensure_ascii": False})
    else:
        extra = [k for k, v in meta.items() if isinstance(v, str | int | float | bool)] if meta_columns else []
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(list(header) + extra)
        for r in rows:
            writer.writerow([_cell(v) for v in r] + [_cell(meta[k]) for k in extra])
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _cell(value):
    if value is None:
        return ""
    return _safe_cell(value) if isinstance(value, str) else value
