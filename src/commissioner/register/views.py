"""Pages for the contracts register, contract records, buyer dashboards and adding local contracts.

Reads go through ``queries`` (tenancy and filters in one place); the only write is
``services.create_local_contract`` via ``ContractForm.save``.
"""

import json
import re
import secrets
from datetime import date
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from commissioner.ocds.models import Release
from commissioner.orgs.models import Organisation
from commissioner.orgs.tenancy import can_view_performance
from commissioner.register import queries
from commissioner.register.cpv import division_name
from commissioner.register.forms import AsAtForm, ContractFilterForm, ContractForm, can_add_contracts
from commissioner.register.models import Contract

HOME = ("Home", "/")
REGISTER = ("Contracts", "/contracts/")
ORGANISATIONS = ("Organisations", "/organisations/")

# Sortable columns of the register: (label, sort key, first direction when chosen, numeric).
COLUMNS = [("Title", "title", "title", False), ("Buyer", "buyer", "buyer", False),
           ("Value", "value", "-value", True), ("Starts", "start", "start", False),
           ("Ends", "end", "end", False)]


def register_url(**params):
    """A link to the register filtered by ``params`` (empty values left out)."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return reverse("contract-list") + (f"?{query}" if query else "")


@require_safe
def contract_list(request):
    form = ContractFilterForm(request.GET, user=request.user)
    context = {"form": form, "breadcrumbs": [HOME]}
    if not form.is_valid():
        return render(request, "register/contract_list.html", context, status=400)
    qs = queries.with_suppliers(queries.contracts(request.user, form.filters))
    paginator = Paginator(qs, settings.REGISTER_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))  # out of range: the last page; not a number: the first
    for c in page.object_list:
        c.provider_names = list(dict.fromkeys(link.supplier.provider.name for link in c.contract_suppliers.all()))
    context.update(
        page_obj=page,
        page_range=paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        columns=_sort_columns(request, form.filters.sort),
        csv_query=_query(request),
        filtered=any(request.GET.get(name) for name in ("q", *ContractFilterForm.ADVANCED)),
        can_add=can_add_contracts(request.user),
        show_feedback=form.filters.uses_feedback,
    )
    return render(request, "register/contract_list.html", context)


def _query(request, **changes):
    """The current query string without the page number, with ``changes`` applied."""
    params = request.GET.copy()
    params.pop("page", None)
    for name, value in changes.items():
        params[name] = value
    return params.urlencode()


def _sort_columns(request, current):
    columns = []
    for label, key, first, numeric in COLUMNS:
        if current == key:
            aria, target = "ascending", f"-{key}"
        elif current == f"-{key}":
            aria, target = "descending", key
        else:
            aria, target = "none", first
        columns.append({"label": label, "aria_sort": aria, "url": f"?{_query(request, sort=target)}",
                        "numeric": numeric})
    return columns


@require_safe
def contract_csv(request):
    """Exactly the rows of the filtered register (every page), as CSV."""
    try:
        filters = queries.ContractFilters.from_params(request.GET)
    except queries.FilterError as e:
        return HttpResponseBadRequest(f"Invalid filter {e}\n", content_type="text/plain; charset=utf-8")
    rows = queries.contract_csv_rows(queries.contracts(request.user, filters))
    response = StreamingHttpResponse(queries.csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="contracts-{timezone.localdate():%Y-%m-%d}.csv"'
    return response


PERSONAL = re.compile(r"(^|/)(contactPoint|email|telephone|faxNumber)(/|$)")
MAX_CHANGE_CHARS = 500


def _change_value(path, value):
    if PERSONAL.search(path) and value is not None:
        return "Withheld (personal data)"
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_CHANGE_CHARS else text[:MAX_CHANGE_CHARS] + "…"


def _safe_documents(documents):
    """Documents with web links only (a notice could hold any text in a url), with their dates parsed."""
    out = []
    for d in documents or []:
        if isinstance(d, dict) and str(d.get("url", "")).lower().startswith(("https://", "http://")):
            try:
                published = date.fromisoformat(str(d.get("published") or "")[:10])
            except ValueError:
                published = None
            out.append({**d, "published": published})
    return out


@require_safe
def contract_detail(request, ocid):
    try:
        contract = queries.contract(request.user, ocid)
    except Contract.DoesNotExist:
        raise Http404("No such contract") from None
    history = [
        {"release": r, "changes": [
            {"path": path, "before": _change_value(path, before), "after": _change_value(path, after)}
            for path, before, after in r.changes]}
        for r in Release.objects.filter(ocid=contract.ocid).order_by("date", "id")
    ]
    suppliers = list(contract.contract_suppliers.all())
    return render(request, "register/contract_detail.html", {
        "contract": contract,
        "suppliers": suppliers,
        "documents": _safe_documents(contract.documents),
        "division": division_name(contract.cpv_division) if contract.cpv_division else "",
        "history": history,
        "can_view_performance": can_view_performance(request.user, contract),
        "breadcrumbs": [HOME, REGISTER],
    })


@require_safe
def organisation_dashboard(request, slug):
    organisation = get_object_or_404(Organisation, slug=slug)
    form = AsAtForm(request.GET)
    context = {"organisation": organisation, "form": form,
               "breadcrumbs": [HOME, ORGANISATIONS, (organisation.name, f"/organisations/{organisation.slug}/")]}
    if not form.is_valid():
        return render(request, "register/dashboard.html", context, status=400)
    figures = queries.dashboard(request.user, organisation, form.cleaned_data["as_at"] or timezone.localdate())
    for row in figures["by_supplier_type"]:
        row["url"] = register_url(buyer=slug, supplier_type=row["type"])
    for row in figures["by_category"]:
        row["url"] = register_url(buyer=slug, category=row["division"]) if row["division"] else ""
    for row in figures["ending"]:
        row["url"] = register_url(buyer=slug, end_from=figures["today"].isoformat(),
                                  end_to=row["until"].isoformat(), sort="end")
    context.update(
        figures=figures,
        register_url=register_url(buyer=slug),
        supplier_chart=bar_chart(figures["by_supplier_type"], "label"),
        category_chart=bar_chart(figures["by_category"], "name"),
    )
    return render(request, "register/dashboard.html", context)


CHART_ROW, CHART_WIDTH, CHART_BAR_MAX = 50, 960, 760


def bar_chart(rows, label_key, value_key="value"):
    """Geometry for a horizontal bar chart drawn as SVG (the table beside it is the accessible version)."""
    peak = max((row[value_key] for row in rows), default=0) or 1
    bars = []
    for i, row in enumerate(rows):
        top = i * CHART_ROW
        bars.append({
            "label": str(row[label_key])[:70], "value": row[value_key], "label_y": top + 17, "bar_y": top + 24,
            "width": round(float(row[value_key] / peak) * CHART_BAR_MAX, 1), "value_y": top + 38,
        })
    for bar in bars:
        bar["value_x"] = bar["width"] + 8
    return {"bars": bars, "height": max(len(bars) * CHART_ROW, CHART_ROW), "width": CHART_WIDTH}


FORM_TOKENS = "contract_form_tokens"
MAX_FORM_TOKENS = 20


def _new_form_token(request):
    """A one-time token for the add-contract form, remembered in the session."""
    tokens = request.session.get(FORM_TOKENS, {})
    token = secrets.token_urlsafe(16)
    tokens[token] = ""
    request.session[FORM_TOKENS] = dict(list(tokens.items())[-MAX_FORM_TOKENS:])
    return token


@login_required
@require_http_methods(["GET", "POST"])
def contract_create(request):
    if not can_add_contracts(request.user):
        return render(request, "core/forbidden.html", {
            "message": "You need to be an admin or commissioner in an organisation to add contracts."}, status=403)
    context = {"breadcrumbs": [HOME, REGISTER]}
    if request.method == "GET":
        context["form"] = ContractForm(initial={"form_token": _new_form_token(request)}, user=request.user)
        return render(request, "register/contract_form.html", context)

    token = request.POST.get("form_token", "")
    tokens = request.session.get(FORM_TOKENS, {})
    if tokens.get(token):  # this form was submitted already: show what it made
        messages.info(request, "This contract was already added.")
        return redirect("contract-detail", ocid=tokens[token])
    if token not in tokens:
        data = request.POST.copy()
        data["form_token"] = _new_form_token(request)
        form = ContractForm(data, user=request.user)
        form.is_valid()
        form.add_error(None, "This form has expired. Check the details and add the contract again.")
    else:
        form = ContractForm(request.POST, user=request.user)
        if form.is_valid():
            contract, created = form.save(actor=request.user)
            tokens[token] = contract.ocid
            request.session[FORM_TOKENS] = tokens
            if created:
                messages.success(request, f"Contract added: {contract.title}")
            else:
                messages.info(request, "This contract was already added.")
            return redirect("contract-detail", ocid=contract.ocid)
    context["form"] = form
    return render(request, "register/contract_form.html", context, status=400)
