"""API for market analysis, under /api/v1/market/...: the layouts we read, the councils with spend
data, one council's analysis tables (the same rows as the page's CSV downloads), and loading and
removing a council's spend files.

Reads are public like the published spend they come from (a council's private file is seen only by
its members, through ``visible_to``). An unknown council, council without spend, or category is a 404.

Writes (``POST /market/files``, multipart; ``DELETE /market/files/{id}``) need a session (401
otherwise) and the CSRF token, and go through ``market.services`` like the pages and the CLI: someone
who is not an admin or commissioner of the council gets 403 (recorded in the audit trail); a bad file
422 naming the file, row and column of every problem (nothing is saved); an unknown layout 422 naming
``mapping`` with the file's columns; the same file again or payments already loaded 409.
"""

import json

from django.http import Http404
from ninja import File, Form, Query, Router, Schema, Status, UploadedFile
from ninja.errors import ValidationError
from ninja.security import django_auth
from pydantic import Field

from commissioner.market import layouts, queries, services
from commissioner.market.views import _table_rows

router = Router(tags=["market"])


class LayoutOut(Schema):
    code: str
    label: str
    has_header: bool
    fields: list[str]


class CouncilOut(Schema):
    slug: str
    name: str
    files: int
    payments: int
    first_date: str
    last_date: str
    synthetic: bool


class AnalysisQuery(Schema):
    category: str = Field("", max_length=200, description="A service category from the analysis; blank for all.")


class AnalysisOut(Schema):
    council: str
    category: str
    synthetic: bool
    licence: str
    total: str
    payments: int
    top5_share: float | None = None
    hhi: float | None = None
    concentration: str
    local_rule: dict | None = None
    files: list[dict]
    categories: list[dict]
    divisions: list[dict] = Field(..., description="Spend by CPV division (through the council's category "
                                                   "mappings; 'unmapped' honestly) beside the register's contracts")
    types: list[dict]
    local: list[dict]
    suppliers: list[dict]
    entrants: list[dict]
    grant_years: list[dict] = Field(..., description="360Giving grants to VCSE organisations, per financial year")
    grant_recipients: list[dict]


@router.get("/market/layouts", response=list[LayoutOut], summary="Spend file layouts we recognise")
def list_layouts(request):
    return [{"code": x.code, "label": x.label, "has_header": not x.positional, "fields": sorted(x.columns)}
            for x in layouts.LAYOUTS]


@router.get("/market/councils", response=list[CouncilOut], summary="Councils with spend data")
def list_councils(request):
    out = []
    for c in queries.councils(request.user):
        files = list(queries.files(request.user, c))
        out.append({"slug": c.slug, "name": c.name, "files": len(files), "payments": sum(f.row_count for f in files),
                    "first_date": min(f.first_date for f in files).isoformat(),
                    "last_date": max(f.last_date for f in files).isoformat(),
                    "synthetic": any(f.synthetic for f in files)})
    return out


@router.get("/market/councils/{slug}", response=AnalysisOut, summary="A council's market analysis")
def council_analysis(request, slug: str, filters: Query[AnalysisQuery]):
    council = queries.council_by_slug(slug[:120])
    files = list(queries.files(request.user, council)) if council is not None else []
    if not files:
        raise Http404(f"No spend data for a council '{slug[:120]}'.")
    category = filters.category or queries.ALL
    data = queries.analysis(request.user, council, category)
    if category != queries.ALL and category not in {c["category"] for c in data["categories"]}:
        raise Http404(f"No category '{category[:200]}' in this council's spend.")
    conc = data["concentration"]
    return {"council": council.slug, "category": category, "synthetic": any(f.synthetic for f in files),
            "licence": "Open Government Licence v3.0", "total": str(data["total"]), "payments": data["payments"],
            "top5_share": conc["top5_share"], "hhi": conc["hhi"], "concentration": conc["band"],
            "local_rule": ({k: list(v) for k, v in data["local_rule"].items()} if data["local_rule"] else None),
            **{t: _table_rows(data, t, files) for t in queries.TABLES}}


# Loading and removing files --------------------------------------------------------------------

PROBLEM_RESPONSE = {"content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
UPLOAD_DOC = {"responses": {
    409: {"description": "Conflict: the same file is already loaded, or it repeats payments already loaded.",
          **PROBLEM_RESPONSE},
    422: {"description": "A bad file (every problem by row and column; nothing saved), an unknown layout "
                         "(send `mapping`), an unknown council.", **PROBLEM_RESPONSE},
}}
MAX_PROBLEMS = 200


class FileOut(Schema):
    id: int
    council: str
    name: str
    layout: str
    encoding: str
    has_header: bool
    months: list[str]
    first_date: str
    last_date: str
    rows: int
    redacted: int
    total: str
    matched: int | None = Field(None, description="Payments matched to register providers (on loading only).")
    matched_by: dict | None = Field(None, description="How many matched by identifier and by name.")
    private: bool
    synthetic: bool
    loaded_at: str
    message: str = ""


class UploadIn(Schema):
    council: str = Field(..., max_length=120, description="The council's slug (as in /market/{slug}/).")
    mapping: str = Field("", max_length=5000,
                         description="For a layout we do not know: JSON {field: header name or 1-based column "
                                     "number}; fields payee, date, amount (required), category, department, "
                                     "description, reference, supplier_id.")
    private: bool = Field(False, description="Keep the file private to the council (not published).")
    confirm_other_council: bool = Field(False, description="Load a file that looks like another council's (its "
                                                           "layout is that council's, or it names another council); "
                                                           "without it such a file is refused with 409.")


class RemovedOut(Schema):
    id: int
    name: str
    council: str
    payments_removed: int
    message: str


def _file_out(f, result=None):
    return {"id": f.pk, "council": f.council.slug, "name": f.name, "layout": f.layout, "encoding": f.encoding,
            "has_header": f.has_header, "months": f.months, "first_date": f.first_date.isoformat(),
            "last_date": f.last_date.isoformat(), "rows": f.row_count, "redacted": f.redacted_count,
            "total": str(f.total), "private": f.is_private, "synthetic": f.synthetic,
            "loaded_at": f.loaded_at.isoformat(),
            "matched": result.matched if result else None, "matched_by": result.matched_by if result else None,
            "message": result.message if result else ""}


def _invalid(name, message, code="invalid"):
    return ValidationError([{"loc": ("form", name), "msg": message, "type": code}])


def _problem(request, status, detail, errors, **extra):
    from commissioner.api import INVALID_PARAMETERS, problem  # not at import time: commissioner.api imports us

    response = problem(request, status, detail, errors=errors,
                       **({"type": INVALID_PARAMETERS, "title": "Invalid request parameters"} if status == 422 else {}))
    if extra:
        body = json.loads(response.content)
        body.update(extra)
        response.content = json.dumps(body, ensure_ascii=False)
    return response


@router.post("/market/files", response={201: FileOut}, auth=django_auth, url_name="market_file_create",
             summary="Load a council spend file", openapi_extra=UPLOAD_DOC)
def create_file(request, file: File[UploadedFile], form: Form[UploadIn]):
    """Load a Transparency Code spend file (multipart/form-data) for a council: the same checks as the
    upload page and `commissioner market import` (whole file first, nothing saved on any problem)."""
    council, mapping, private = form.council, form.mapping, form.private
    org = queries.council_by_slug(council.strip()[:120]) if council else None
    if org is None:
        raise _invalid("council", f"no council with slug '{council[:120]}'")
    parsed_mapping = None
    if mapping and mapping.strip():
        try:
            parsed_mapping = json.loads(mapping)
        except ValueError:
            raise _invalid("mapping", "not valid JSON: give {\"payee\": ..., \"date\": ..., \"amount\": ...}") from None
    name = (file.name or "upload.csv")[:300]
    if file.size is not None and file.size > services.MAX_BYTES:
        raise _invalid("file", f"{name}: the file is larger than {services.MAX_BYTES // 1_000_000} MB")
    try:
        result = services.import_spend(council=org, raw=file.read(), name=name, actor=request.user,
                                       mapping=parsed_mapping, is_private=private,
                                       confirm_other_council=form.confirm_other_council)
    except services.OtherCouncil as other:
        detail = f"{name}: {other.message.replace('confirm to load it', 'send confirm_other_council=true to load it')}"
        return _problem(request, 409, detail, [{"name": "confirm_other_council", "in": "form", "detail": detail,
                                                "code": "other_council"}])
    except services.MappingNeeded as needed:
        columns = [{"column": i, "header": h} for i, h in enumerate(needed.headers or [], start=1)]
        listed = ", ".join(f"{c['column']}: {c['header'][:60]}" for c in columns[:40])
        detail = (f"{name}: we do not know this file's layout. Send `mapping` as JSON naming the column of "
                  f"payee, date and amount (header names or column numbers). The file's "
                  f"{'columns' if needed.has_header else 'first row'}: {listed}")
        return _problem(request, 422, detail, [{"name": "mapping", "in": "form", "detail": detail,
                                                "code": "mapping_needed"}], columns=columns)
    except services.DuplicatePayments as dup:
        return _problem(request, 409, f"{name}: {dup.message}", [{"name": "file", "in": "form",
                                                                   "detail": dup.message, "code": "duplicate"}])
    except services.MarketInputError as error:
        errors = [{"name": error.field, "in": "form", "detail": f"{name}: {error.message}", "code": "invalid"}]
        errors += [{"name": "file", "in": "form", "detail": f"{name}, row {row}, column {column}: {message}",
                    "code": "invalid_row", "row": row, "column": column}
                   for row, column, message in error.problems[:MAX_PROBLEMS]]
        detail = f"{name}: {error.message}"
        if len(error.problems) > MAX_PROBLEMS:
            detail += f" (the first {MAX_PROBLEMS} problems are listed)"
        return _problem(request, 422, detail, errors)
    if not result.created:
        f = result.spend_file
        return _problem(request, 409, f"{name}: this file is already loaded for {org.name} (file {f.pk}, "
                        f"{f.name}, loaded {f.loaded_at:%d %B %Y}): nothing changed",
                        [{"name": "file", "in": "form", "detail": "the same file (same SHA-256) is already loaded",
                          "code": "already_loaded"}], existing=f.pk)
    return Status(201, _file_out(result.spend_file, result))


def _visible_file(request, file_id):
    f = queries.file_for(request.user, file_id)
    if f is None:
        raise Http404(f"No spend file with id {file_id}.")
    return f


@router.get("/market/files/{int:file_id}", response=FileOut, url_name="market_file", summary="A loaded spend file")
def get_file(request, file_id: int):
    return _file_out(_visible_file(request, file_id))


@router.delete("/market/files/{int:file_id}", response=RemovedOut, auth=django_auth, url_name="market_file_delete",
               summary="Remove a loaded spend file and its payments")
def delete_file(request, file_id: int):
    """Remove a file and every payment loaded from it, in one transaction (the council's admins and
    commissioners; anyone else gets 403, recorded in the audit trail). Audited with its name, rows and period."""
    f = _visible_file(request, file_id)
    try:
        removed = services.delete_spend_file(spend_file=f, actor=request.user)
    except services.AlreadyRemoved:
        raise Http404(f"No spend file with id {file_id}: it has been removed already.") from None
    return {"id": file_id, "name": f.name, "council": f.council.slug, "payments_removed": removed,
            "message": f"Removed {f.name} and its {removed:,} payments"}
