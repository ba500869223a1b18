"""API for market analysis, under /api/v1/market/...: the layouts we read, the councils with spend
data, and one council's analysis tables (the same rows as the page's CSV downloads).

Read-only and public like the published spend it comes from (a council's private file is seen only by
its members, through ``visible_to``). Loading files is done on the web page or with
``commissioner market import``. An unknown council, council without spend, or category is a 404.
"""

from django.http import Http404
from ninja import Query, Router, Schema
from pydantic import Field

from commissioner.market import layouts, queries
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
