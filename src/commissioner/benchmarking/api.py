"""API endpoints for benchmarking: the measures catalogue, a measure's table and a council's summary.

Published data (Oflog, OGL), so public reads like the pages: no session needed. Stored peer groups are
usable only by their council's members (as on the pages). Every figure comes from
``benchmarking.queries``; the API only checks its parameters, and says which peer group and methods
were used. An unknown period, peer group or council is a 422 naming the parameter (the pages fall back
to a default instead: an API client should know it asked for something that is not there).
"""

from typing import Annotated

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import Path, Query, Router, Status
from ninja.errors import ValidationError
from ninja.security import django_auth
from pydantic import StringConstraints

from commissioner.benchmarking import queries, services
from commissioner.benchmarking.models import CodeMapping, Measure, PeerGroup
from commissioner.benchmarking.schemas import (
    MAX_SLUG,
    CodeMappingOut,
    CouncilParams,
    CouncilSummaryOut,
    MeasureItem,
    MeasureParams,
    MeasureTableOut,
    NeighbourParams,
    NeighboursOut,
    PeerGroupIn,
    PeerGroupOut,
)
from commissioner.orgs import tenancy
from commissioner.orgs.models import Organisation
from commissioner.register.api import paginate
from commissioner.register.queries import FilterError
from commissioner.register.schemas import PageParams, Text, page_of

router = Router(tags=["benchmarking"])

CodeText = Annotated[Text, StringConstraints(max_length=40)]
SlugText = Annotated[Text, StringConstraints(max_length=MAX_SLUG)]
MISSING = "missing values are null, never 0: they are listed apart and left out of ranks, and counted"


class _Items(list):
    """A list that ``paginate`` can count like a queryset."""

    def count(self, *args):
        return super().count(*args) if args else len(self)


def methods():
    return {"percentile_method": queries.PERCENTILE_METHOD, "quartile_method": queries.QUARTILE_METHOD,
            "mad_method": queries.MAD_METHOD, "missing": MISSING}


def measure_or_404(code, user=None):
    measure = queries.visible_measures(user).filter(code=code.upper()).first()
    if measure is None:
        raise Http404(f"No measure with code '{code[:40]}'.")
    return measure


def council_or_404(slug):
    org = Organisation.objects.filter(slug=slug).first()
    if org is None:
        raise Http404(f"No council '{slug[:120]}'.")
    return org


def chosen_peer(user, org, key, measure=None) -> queries.Peer:
    """The peer group asked for, or a 422 naming ``peer`` when it cannot be used (no silent fallback)."""
    key = key or "national"
    if key == "national":
        return queries.peer(user, org, key, measure)
    if org is None:
        raise FilterError("peer", f"'{key[:40]}' needs org: the council whose peers they are")
    chosen = queries.peer(user, org, key, measure)
    if chosen.key != key:
        raise FilterError("peer", f"'{key[:40]}' is not a peer group of {org.name} that you may use: choose from "
                                  + ", ".join(k for k, _ in queries.peer_options(user, org, measure)))
    return chosen


def peer_out(chosen: queries.Peer) -> dict:
    return {"key": chosen.key, "label": chosen.label, "description": chosen.description,
            "members": None if chosen.member_ids is None else len(chosen.member_ids)}


def _number(value):
    return None if value is None else float(value)


def row_out(row: queries.Row) -> dict:
    pos = row.position
    return {"organisation": row.organisation, "value": _number(row.value), "note": row.note, "rank": pos.rank,
            "of": pos.n, "percentile": pos.percentile, "quartile": pos.quartile, "mad_distance": pos.mad_distance,
            "highlighted": row.highlighted}


@router.get("/benchmarking/measures", response=page_of(MeasureItem, "MeasurePage"), url_name="benchmarking_measures")
def list_measures(request, paging: Query[PageParams]):
    """The measures catalogue: each measure with its source, polarity, councils with a value and periods."""
    return paginate(request, _Items(queries.catalogue(request.user)), paging)


@router.get("/benchmarking/measures/{code}", response=MeasureTableOut, url_name="benchmarking_measure")
def measure_table(request, code: Path[CodeText], params: Query[MeasureParams]):
    """Every council's value for one period with its rank, percentile, quartile and MAD distance in the peer
    group; missing values listed and counted apart. Name a council (org) for its sentence."""
    measure = measure_or_404(code, request.user)
    org = None
    if params.org:
        org = Organisation.objects.filter(slug=params.org).first()
        if org is None:
            raise FilterError("org", f"no council with slug '{params.org[:120]}'")
    if params.period is not None and params.period not in queries.measure_periods(measure):
        raise FilterError("period", f"{measure.code} has no rows for '{params.period[:20]}'")
    chosen = chosen_peer(request.user, org, params.peer, measure)
    return table_out(queries.measure_table(measure, params.period, peer_key=chosen.key, org=org, user=request.user))


def table_out(table) -> dict:
    """A measure's table (``queries.measure_table``) as the API gives it."""
    q1, q2, q3 = table.quartiles
    return {
        "measure": table.measure, "period": table.period, "periods": table.periods, "peer": peer_out(table.peer),
        "methods": methods(), "n": table.n, "median": table.median, "mad": table.mad,
        "quartiles": {"q1": q1, "median": q2, "q3": q3},
        "values": [row_out(r) for r in table.rows], "missing": [row_out(r) for r in table.missing],
        "missing_count": len(table.missing),
        "highlighted": None if table.highlighted is None else row_out(table.highlighted),
        "sentence": table.sentence,
        "references": [{"area_code": r.area_code, "area_name": r.area_name,
                        "value": None if r.value is None else float(r.value)} for r in table.references],
    }


@router.get("/benchmarking/councils/{slug}", response=CouncilSummaryOut, url_name="benchmarking_council")
def council_summary(request, slug: Path[SlugText], params: Query[CouncilParams]):
    """Every measure with a row for the council: its position in the latest period against the peer group,
    its trend and a plain-English sentence; farthest from the peers' median first."""
    org = council_or_404(slug)
    chosen = chosen_peer(request.user, org, params.peer)
    peer, items = queries.council_summary(org, peer_key=chosen.key, user=request.user)
    # Up to 1,000 measures (national scale): the envelope goes through CouncilSummaryOut; the items, already
    # plain JSON values in SummaryItem's field order (tests/test_benchmarking_summary.py checks they equal what
    # the schema gives), are put in after: ninja's validation of ~12,000 nested objects took ~300 ms.
    import json

    from django.http import HttpResponse
    from ninja.responses import NinjaJSONEncoder

    from commissioner.register.schemas import api_url

    out = CouncilSummaryOut.model_validate(
        {"organisation": org, "peer": peer_out(peer), "methods": methods(), "measures": []},
        context={"request": request}).model_dump(mode="json")
    url = api_url({"request": request}, "benchmarking_measure", code="MEASURE-CODE")
    for item in items:
        pos, m = item.position, item.measure
        out["measures"].append({
            "measure": {"code": m.code, "name": m.name, "unit": m.unit, "polarity": m.polarity,
                        "url": url.replace("MEASURE-CODE", m.code)},
            "period": item.period, "value": _number(item.value),
            "position": {"rank": pos.rank, "of": pos.n, "missing": pos.missing, "percentile": pos.percentile,
                         "quartile": pos.quartile, "median": pos.median, "mad": pos.mad,
                         "mad_distance": pos.mad_distance},
            "trend": item.trend, "sentence": item.sentence,
            "series": [{"period": p, "value": _number(v)} for p, v in item.series],
            "n": item.n, "missing": item.missing,
        })
    return HttpResponse(json.dumps(out, cls=NinjaJSONEncoder), content_type="application/json; charset=utf-8")


# Before /benchmarking/councils/{slug} in the docs; a slug has no '/', so the routes cannot clash.
@router.get("/benchmarking/councils/{slug}/neighbours", response=NeighboursOut, url_name="benchmarking_neighbours")
def council_neighbours(request, slug: Path[SlugText], params: Query[NeighbourParams]):
    """The councils nearest to this one on the chosen measures (computed nearest neighbours, optionally weighted)."""
    org = council_or_404(slug)
    codes = [c.strip().upper() for c in params.measures.split(",") if c.strip()]
    if not codes:
        raise FilterError("measures", "give at least one measure code, e.g. ASC1,ASC2")
    found = {m.code: m for m in Measure.objects.filter(code__in=codes)}
    unknown = [c for c in dict.fromkeys(codes) if c not in found]
    if unknown:
        raise FilterError("measures", f"unknown measure code{'s' if len(unknown) > 1 else ''}: "
                                      + ", ".join(c[:40] for c in unknown[:20]))
    if params.period is not None:
        lacking = [c for c in dict.fromkeys(codes) if params.period not in queries.measure_periods(found[c])]
        if lacking:
            raise FilterError("period", f"no rows for '{params.period[:20]}' in " + ", ".join(lacking))
    weights = None
    if params.weights:
        try:
            weights = [float(w) for w in params.weights.split(",")]
        except ValueError:
            raise FilterError("weights", "give numbers separated by commas, e.g. 2,1") from None
        if len(weights) != len(codes) or any(not (0 <= w < float("inf")) for w in weights) or not any(weights):
            raise FilterError("weights", f"give one weight of 0 or more per measure ({len(codes)}), at least one "
                                         "above 0") from None
    try:
        result = queries.computed_neighbours(org, codes, weights=weights, period=params.period, limit=params.limit)
    except ValueError as e:
        raise FilterError("measures", str(e)) from None
    return {
        "organisation": org, "measures": [{"measure": m, "period": p} for m, p in result.measures],
        "method": result.method, "sd": "population", "weights": weights or "equal", "compared": result.compared,
        "count": len(result.neighbours),
        "neighbours": [{"organisation": n.key, "distance": n.distance, "rebased": n.rebased, "rank": n.rank}
                       for n in result.neighbours],
    }


# Peer groups and the code mapping table -----------------------------------------------------------

def _peer_group_out(group):
    return {"id": group.pk, "key": f"group-{group.pk}", "name": group.name, "kind": group.kind,
            "source": group.source, "members": sorted(group.members.all(), key=lambda o: o.name)}


@router.get("/benchmarking/councils/{slug}/peer-groups", response=list[PeerGroupOut], auth=django_auth,
            url_name="benchmarking_peer_groups")
def council_peer_groups(request, slug: Path[SlugText]):
    """The council's stored peer groups (own lists, imported lists, saved nearest neighbours): for its members
    and site administrators only (CIPFA's lists are not open data)."""
    org = council_or_404(slug)
    if not (request.user.is_superuser or org.pk in tenancy.member_org_ids(request.user)):
        raise PermissionDenied("Only the council's members can see its peer groups.")
    return [_peer_group_out(g) for g in PeerGroup.objects.filter(owner=org).prefetch_related("members")]


@router.post("/benchmarking/councils/{slug}/peer-groups", response={201: PeerGroupOut}, auth=django_auth,
             url_name="benchmarking_peer_group_save")
def save_council_peer_group(request, slug: Path[SlugText], body: PeerGroupIn):
    """Save a peer group of the council from organisation codes (its admins and commissioners); an unknown
    code is a 422 naming `codes`, and nothing is saved."""
    org = council_or_404(slug)
    if not tenancy.can_edit(request.user, org.pk):
        raise PermissionDenied("Only the council's admins and commissioners can save its peer groups.")
    try:
        group = services.save_peer_group(actor=request.user, owner=org, name=body.name, codes=body.codes)
    except services.BenchmarkError as e:
        field = e.field if e.field in ("name", "codes") else "codes"
        raise ValidationError([{"loc": ("body", "body", field), "msg": e.message, "type": "invalid"}]) from None
    return Status(201, _peer_group_out(group))


@router.get("/benchmarking/code-mappings", response=list[CodeMappingOut], url_name="benchmarking_code_mappings")
def code_mappings(request):
    """The code mapping table: values filed under an old code are loaded for the council that now holds it."""
    return list(CodeMapping.objects.all())

