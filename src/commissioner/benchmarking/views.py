"""Benchmarking pages: the measures catalogue, a measure's table (CSV and JSON downloads) and a
council's summary. Published data (Oflog, OGL): no sign-in needed to read. Stored peer groups are
shown only to their council's members (CIPFA's model is not open data)."""


from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from commissioner.benchmarking import forms, queries, services
from commissioner.benchmarking.models import Measure
from commissioner.core.downloads import table_response
from commissioner.orgs import tenancy
from commissioner.orgs.models import Organisation

HOME = ("Home", "/")
BENCHMARKING = ("Benchmarking", "/benchmarking/")
EXPORT_FIELDS = ["measure", "period", "organisation_code", "la_code", "organisation", "value", "status", "rank", "of",
                 "missing_in_period", "percentile", "quartile", "mads_from_median", "median", "synthetic"]


SUMMARY_FIELDS = ["measure", "name", "period", "organisation_code", "value", "unit", "polarity", "rank", "of",
                  "missing_in_period", "percentile", "quartile", "mads_from_median", "median", "trend", "sentence",
                  "synthetic"]


def summary_rows(org, items):
    """The council summary as plain rows for the downloads (missing stays None: an empty CSV cell)."""
    rows = []
    for i in items:
        pos = i.position
        rows.append({
            "measure": i.measure.code, "name": i.measure.name, "period": i.period,
            "organisation_code": org.gss_code or org.la_code, "value": None if i.value is None else float(i.value),
            "unit": i.measure.unit, "polarity": i.measure.polarity, "rank": pos.rank, "of": i.n,
            "missing_in_period": i.missing, "percentile": pos.percentile, "quartile": pos.quartile,
            "mads_from_median": pos.mad_distance, "median": pos.median, "trend": i.trend, "sentence": i.sentence,
            "synthetic": i.measure.synthetic})
    return rows


def _methods():
    return {"percentile_method": queries.PERCENTILE_METHOD, "quartile_method": queries.QUARTILE_METHOD,
            "mad_method": queries.MAD_METHOD}


@require_safe
def catalogue(request):
    measures = queries.catalogue(request.user)
    fmt = request.GET.get("format", "")
    if fmt in ("csv", "json"):
        rows = [{"code": m.code, "name": m.name, "kind": m.kind, "unit": m.unit, "polarity": m.polarity,
                 "source": m.source, "licence": m.licence, "councils": m.councils, "rows": m.rows,
                 "periods": " ".join(m.periods), "synthetic": m.synthetic} for m in measures]
        return download("benchmark-measures", fmt, list(rows[0]) if rows else ["code"], rows,
                        {"councils": "councils with a value in any period"})
    if fmt:
        raise Http404("Unknown format: use csv or json")
    return render(request, "benchmarking/catalogue.html", {"measures": measures,
                                                           "breadcrumbs": [HOME]})


def _org(request):
    slug = request.GET.get("org") or ""
    if not slug:
        return None
    return Organisation.objects.filter(slug=slug).first()


@require_safe
def measure_page(request, code):
    measure = get_object_or_404(queries.visible_measures(request.user), code=code.upper())
    fmt = request.GET.get("format", "")
    if fmt in ("csv", "json"):
        return _export(measure, request.GET.get("period") or None, fmt)
    if fmt:
        raise Http404("Unknown format: use csv or json")
    org = _org(request)
    table = queries.measure_table(measure, request.GET.get("period"), peer_key=request.GET.get("peer", "national"),
                                  org=org, user=request.user)
    councils = (Organisation.objects.filter(measure_values__measure=measure).distinct().order_by("name")
                .only("name", "slug"))
    return render(request, "benchmarking/measure.html", {
        "measure": measure, "t": table, "org": org, "councils": councils,
        "can_upload": services.may_upload(request.user, measure),
        "peer_options": queries.peer_options(request.user, org, measure), "breadcrumbs": [HOME, BENCHMARKING],
        **_methods()})


def download(name, fmt, fields, rows, meta, rows_key="rows"):
    """A table as a CSV (the metadata repeated in its own columns) or JSON download."""
    return table_response(name, fmt, fields, rows, meta=meta, rows_key=rows_key, meta_columns=True)


def _export(measure, period, fmt):
    if period is not None and period not in queries.measure_periods(measure):
        raise Http404("No such period")
    rows = list(queries.export_rows(measure, period))
    meta = queries.measure_metadata(measure)
    if fmt == "json":
        meta = {"measure": meta}
    else:
        meta = {k: meta[k] for k in ("peer_group", "percentile_method", "quartile_method")}
    return download(f"benchmark-{measure.code}{'-' + period if period else ''}", fmt, EXPORT_FIELDS, rows, meta,
                    rows_key="values")


def chart(series, width=240, height=80, pad=8):
    """Points for a small trend chart (SVG drawn in the template); missing values are gaps, not zeros."""
    present = [(i, float(v)) for i, (_, v) in enumerate(series) if v is not None]
    if not present:
        return None
    low, high = min(v for _, v in present), max(v for _, v in present)
    span = (high - low) or 1.0
    step = (width - 2 * pad) / max(len(series) - 1, 1)

    def y(v):
        return round(height - pad - (v - low) / span * (height - 2 * pad), 1)

    points = [(round(pad + i * step, 1), y(v)) for i, v in present]
    return {"width": width, "height": height, "points": points,
            "line": " ".join(f"{x},{yy}" for x, yy in points)}


@require_safe
def council_page(request, slug):
    org = get_object_or_404(Organisation, slug=slug)
    peer, items = queries.council_summary(org, peer_key=request.GET.get("peer", "national"), user=request.user)
    fmt = request.GET.get("format", "")
    if fmt in ("csv", "json"):
        return download(f"benchmark-{org.slug}-{peer.key}", fmt, SUMMARY_FIELDS, summary_rows(org, items),
                        {"organisation": org.name, "peer_group": peer.description, **_methods()})
    if fmt:
        raise Http404("Unknown format: use csv or json")
    # Sorted by distance over all the measures, then cut into pages (1,000 measures at national scale).
    from django.core.paginator import Paginator

    page = Paginator(items, COUNCIL_PAGE_SIZE).get_page(request.GET.get("page"))
    for item in page.object_list:
        item.chart = chart(item.series)
    return render(request, "benchmarking/council.html", {
        "org": org, "peer": peer, "items": page.object_list, "count": len(items), "page_obj": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        "synthetic": any(i.measure.synthetic for i in items),
        "peer_options": queries.peer_options(request.user, org), "breadcrumbs": [HOME, BENCHMARKING], **_methods()})


COUNCIL_PAGE_SIZE = 50  # measures a page of the council summary


@login_required
@require_http_methods(["GET", "POST"])
def upload(request, code):
    """A council's editors upload their council's values for a measure (site administrators: any council's).
    The whole file is checked first; any problem (another council's row included) and nothing is saved."""
    measure = get_object_or_404(Measure, code=code.upper())
    refusal = services.upload_refusal(request.user, measure)
    if refusal is not None:
        services.log_refusal(request.user, measure, "submit benchmarking values", reason=refusal)
        raise PermissionDenied(refusal)
    posted = request.method == "POST"
    form = forms.UploadForm(request.POST if posted else None, request.FILES if posted else None)
    problems = []
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size is not None and upload.size > forms.MAX_BYTES:
            form.add_error("file", "The file is larger than 2 MB: split it into smaller files")
        else:
            summary = services.import_tidy_csv(b"".join(upload.chunks()), measure=measure, actor=request.user,
                                               label=upload.name[:200])
            if summary.applied:
                messages.success(request, f"{summary.rows:,} value{'' if summary.rows == 1 else 's'} loaded from "
                                          f"{upload.name[:100]} ({summary.created} new, {summary.updated} changed, "
                                          f"{summary.missing} missing)")
                return redirect(reverse("benchmarking-measure", args=[measure.code]))
            problems = summary.problems
            form.add_error("file", f"The file has {len(problems):,} problem{'' if len(problems) == 1 else 's'}: "
                                   "nothing was saved. Fix them and upload the file again")
    if form.errors:
        form.mark_error()
    own = Organisation.objects.filter(pk__in=tenancy.member_org_ids(request.user, tenancy.EDIT_ROLES))
    return render(request, "benchmarking/upload.html", {
        "measure": measure, "form": form, "problems": problems[:1000], "hidden": max(len(problems) - 1000, 0),
        "own": own, "breadcrumbs": [HOME, BENCHMARKING, (measure.code, reverse("benchmarking-measure",
                                                                                 args=[measure.code]))]},
        status=400 if form.errors else 200)
