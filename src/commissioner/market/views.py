"""Market analysis pages: the councils with spend data, one council's market (per service category and
per CPV division), the upload of a spend file (with the column mapping for a layout we do not know),
the removal of a loaded file, and the council's mapping of its spend categories to CPV divisions.

Spend files are published under the OGL, so the analysis pages are public (read through
``visible_to``: a private file is seen only by its council). Uploads need a sign-in and the council's
admin or commissioner role (a refusal is audited); so do removing a file and mapping categories. Every table downloads as CSV or JSON with
``?table=NAME&format=csv|json``.
"""

import csv
import io
import json
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from commissioner.core.downloads import table_response
from commissioner.market import forms, queries, services
from commissioner.market.layouts import FIELDS
from commissioner.methods import market as market_methods
from commissioner.orgs import tenancy

HOME = ("Home", "/")
MARKET = ("Market analysis", "/market/")
MAX_PROBLEMS_SHOWN = 100


@require_safe
def index(request):
    councils = list(queries.councils(request.user))
    for c in councils:
        c.market_files = list(queries.files(request.user, c))
        c.can_upload = tenancy.can_edit(request.user, c.pk)
        c.payment_count = sum(f.row_count for f in c.market_files)
        c.synthetic = any(f.synthetic for f in c.market_files)
    if request.GET.get("format") == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["council", "slug", "first_date", "last_date", "files", "payments", "synthetic"])
        for c in councils:
            writer.writerow([c.name, c.slug, c.market_files[0].first_date, max(f.last_date for f in c.market_files),
                             len(c.market_files), c.payment_count, "yes" if c.synthetic else "no"])
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="market-councils.csv"'
        return response
    own = [o for o in _editable_councils(request.user) if o.pk not in {c.pk for c in councils}]
    return render(request, "market/index.html", {"councils": councils, "own": own, "breadcrumbs": [HOME]})


def _editable_councils(user):
    from commissioner.orgs.models import Organisation

    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return []
    return list(Organisation.objects.filter(pk__in=tenancy.member_org_ids(user, tenancy.EDIT_ROLES)))


def _council(slug):
    council = queries.council_by_slug(slug)
    if council is None:
        raise Http404("No such council")
    return council


def _pct(value):
    return None if value is None else f"{100 * value:.1f}%"


def _table_rows(data, table, spend_files):
    if table == "files":
        return [{"id": f.pk, "name": f.name, "layout": f.layout, "encoding": f.encoding, "first_date": f.first_date.isoformat(),
                 "last_date": f.last_date.isoformat(), "months": " ".join(f.months), "row_count": f.row_count,
                 "redacted_count": f.redacted_count, "total": str(f.total)} for f in spend_files]
    rows = data[table]
    out = []
    for r in rows:
        out.append({k: (None if r.get(k) is None else (round(r[k], 6) if isinstance(r[k], float) else
                                                        str(r[k]) if not isinstance(r[k], int) else r[k]))
                    for k in queries.TABLES[table]})
    return out


def _download(council, table, fmt, rows, category, synthetic):
    if fmt not in ("csv", "json"):
        raise Http404("Unknown format: use csv or json")
    header = queries.TABLES[table]
    slug = f"market-{council.slug}-{table}"
    if fmt == "json":
        return table_response(slug, fmt, header, rows, meta={
            "council": council.slug, "category": category, "table": table, "synthetic": synthetic,
            "licence": "Open Government Licence v3.0"})
    flag = "yes" if synthetic else "no"
    return table_response(slug, fmt, [*header, "synthetic"], [[r[k] for k in header] + [flag] for r in rows])


@require_safe
def council_page(request, slug):
    council = _council(slug)
    spend_files = list(queries.files(request.user, council))
    if not spend_files:
        raise Http404("No spend data for this council")
    category = request.GET.get("category", "") or queries.ALL
    data = queries.analysis(request.user, council, category)
    known = {c["category"] for c in data["categories"]}
    if category != queries.ALL and category not in known:
        raise Http404("No such category")
    synthetic = any(f.synthetic for f in spend_files)
    fmt = request.GET.get("format", "")
    if fmt:
        table = request.GET.get("table", "")
        if table not in queries.TABLES:
            raise Http404("Unknown table: use " + ", ".join(queries.TABLES))
        return _download(council, table, fmt, _table_rows(data, table, spend_files), category, synthetic)
    url = reverse("market-council", args=[council.slug])
    query = "" if category == queries.ALL else urlencode({"category": category}) + "&"
    context = {
        "council": council, "files": spend_files, "data": data, "category": category, "all": queries.ALL,
        "synthetic": synthetic, "can_upload": tenancy.can_edit(request.user, council.pk),
        "conc": {**data["concentration"], "top5": _pct(data["concentration"]["top5_share"])},
        "categories": [{**c, "top5": _pct(c["top5_share"])} for c in data["categories"]],
        "divisions": [{**d, "top5": _pct(d["top5_share"])} for d in data["divisions"]],
        "unmapped_count": sum(1 for c in data["categories"] if not c["cpv_division"] and c["category"] != queries.NOT_STATED),
        "types": [{**t, "pct": _pct(t["share"])} for t in data["types"]],
        "suppliers": [{**s, "pct": _pct(s["share"])} for s in data["suppliers"]],
        "local": [{**row, "pct": _pct(row["share_of_known"])} for row in data["local"]],
        "rule": data["local_rule"], "download": f"{url}?{query}",
        "breadcrumbs": [HOME, MARKET],
    }
    return render(request, "market/council.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def upload(request, slug):
    council = _council(slug)
    services.refuse_unless_editor(request.user, council, "load spend files")
    context = {"council": council, "breadcrumbs": [HOME, MARKET], "problems": [], "hidden": 0,
               "fields": FIELDS}
    if request.method == "GET":
        context["form"] = forms.UploadForm()
        return render(request, "market/upload.html", context)
    headers = None
    kept_name = str(request.POST.get("kept_name", ""))[:300]
    if "headers" in request.POST:
        try:
            headers = [str(h) for h in json.loads(request.POST["headers"] or "[]")][:200]
        except (ValueError, TypeError):
            headers = []
        form = forms.MappingForm(request.POST, request.FILES, headers=headers, kept_name=kept_name)
    else:
        form = forms.UploadForm(request.POST, request.FILES, kept_name=kept_name)
    status = 400
    if form.is_valid():
        upload_file = form.cleaned_data["file"]
        if upload_file:
            raw, name = upload_file.read(), upload_file.name
        else:  # the file chosen at the step before, kept for this user and council
            raw, name = services.kept_upload(council=council, user=request.user,
                                             digest=form.cleaned_data["kept"]), kept_name or "spend file"
        mapping = form.mapping() if isinstance(form, forms.MappingForm) else None
        if raw is None:
            form.add_error("file", "We no longer hold the file you chose (files are kept for a day): choose it "
                                   "again")
        else:
            try:
                result = services.import_spend(council=council, raw=raw, name=name, actor=request.user,
                                               mapping=mapping, is_private=form.cleaned_data["is_private"],
                                               confirm_other_council=form.cleaned_data["confirm_other_council"])
            except services.MappingNeeded as needed:
                digest = services.keep_upload(council=council, user=request.user, raw=raw)
                guesses = market_methods.guess_columns(needed.headers) if needed.has_header else {}
                form = forms.MappingForm(headers=needed.headers, guesses=guesses, kept_name=name, initial={
                    "kept": digest, "is_private": form.cleaned_data["is_private"]})
                context.update(mapping_needed=True, has_header=needed.has_header, kept_name=name,
                               guessed=len(guesses))
                status = 200
            except services.OtherCouncil as other:
                digest = services.keep_upload(council=council, user=request.user, raw=raw)
                form = forms.UploadForm(kept_name=name, ask_confirm=True, initial={
                    "kept": digest, "is_private": form.cleaned_data["is_private"]})
                form.ask_to_confirm(other.message)
                if mapping is not None:
                    form = _carry_mapping(form, headers, mapping, digest, name, other.message)
                context.update(other_council=other.message, kept_name=name)
                status = 409
            except services.MarketInputError as error:
                form.add_service_error(error)
                context["problems"] = [{"row": r, "column": c, "reason": m}
                                       for r, c, m in error.problems[:MAX_PROBLEMS_SHOWN]]
                context["hidden"] = max(0, len(error.problems) - MAX_PROBLEMS_SHOWN)
            else:
                if not upload_file:
                    services.drop_kept(council=council, user=request.user, digest=form.cleaned_data["kept"])
                messages.success(request, result.message)
                return redirect(reverse("market-council", args=[council.slug]))
    context["form"] = form
    return render(request, "market/upload.html", context, status=status)


def _carry_mapping(form, headers, mapping, digest, name, message):
    """The mapping form again, with the user's columns chosen, asking to confirm another council's file."""
    out = forms.MappingForm(headers=headers, kept_name=name, ask_confirm=True,
                            guesses=mapping, initial={"kept": digest, "is_private": form.initial.get("is_private")})
    out.ask_to_confirm(message)
    return out


@login_required
@require_http_methods(["GET", "POST"])
def remove_file(request, slug, pk):
    """Confirm, then remove a loaded spend file and its payments (the council's admins and commissioners)."""
    council = _council(slug)
    spend_file = queries.files(request.user, council).filter(pk=pk).first()
    if request.method == "GET":
        if spend_file is None:
            raise Http404("No such spend file")
        services.refuse_unless_editor(request.user, council, "remove spend files", spend_file)
        return render(request, "market/remove.html", {
            "council": council, "file": spend_file, "payments": queries.payment_count(spend_file),
            "breadcrumbs": [HOME, MARKET, (council.name, reverse("market-council", args=[council.slug]))]})
    try:
        if spend_file is None:
            services.refuse_unless_editor(request.user, council, "remove spend files")
            raise services.AlreadyRemoved("file", "that file is no longer loaded: it may have been removed already")
        removed = services.delete_spend_file(spend_file=spend_file, actor=request.user)
    except services.AlreadyRemoved as gone:
        messages.info(request, gone.message[0].upper() + gone.message[1:])
    else:
        messages.success(request, f"Removed {spend_file.name} and its {removed:,} payments")
    if queries.files(request.user, council).exists():
        return redirect(reverse("market-council", args=[council.slug]) + "#files")
    return redirect(reverse("market-index"))


CATEGORY_PAGE_SIZE = 50


@login_required
@require_http_methods(["GET", "POST"])
def categories(request, slug):
    """Review and set the council's mapping of spend categories to CPV divisions (suggested from keywords)."""
    council = _council(slug)
    services.refuse_unless_editor(request.user, council, "map spend categories to CPV divisions")
    rows = queries.spend_categories(request.user, council)
    show = request.GET.get("show", "")
    if show == "unmapped":
        rows = [r for r in rows if not r["division"]]
    page = Paginator(rows, CATEGORY_PAGE_SIZE).get_page(request.GET.get("page"))
    suggest = request.GET.get("suggest") == "1"
    status = 200
    if request.method == "POST":
        form = forms.CategoryMappingForm(request.POST, rows=page.object_list)
        if form.is_valid():
            try:
                changed = services.set_category_mappings(council=council, choices=form.choices_by_category(),
                                                         actor=request.user)
            except services.MarketInputError as error:
                form.add_error(None, error.message)
                status = 400
            else:
                messages.success(request, f"Saved: {changed} mapping(s) changed" if changed
                                 else "Nothing changed: the mappings were already as chosen")
                return redirect(request.get_full_path())
        else:
            status = 400
    else:
        form = forms.CategoryMappingForm(rows=page.object_list, suggest=suggest)
    all_rows = queries.spend_categories(request.user, council) if show else rows
    context = {
        "council": council, "form": form, "page_obj": page, "show": show, "suggest": suggest,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        "mapped": sum(1 for r in all_rows if r["division"]), "total": len(all_rows),
        "breadcrumbs": [HOME, MARKET, (council.name, reverse("market-council", args=[council.slug]))],
    }
    return render(request, "market/categories.html", context, status=status)
