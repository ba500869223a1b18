"""The "Financial risk" page of a contract: the latest assessment, the form to (re)assess, the
provider's accounts (form and CSV upload), the history, and CSV/JSON downloads.

Reads go through ``queries`` (orgs.tenancy's ``visible_to``); writes through ``services``. Anonymous
users are sent to sign in; a contract the user may not see is a 404; a council's assessments and
accounts are private to it (another council sees the page of a public contract, with nothing of them).
"""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.views.decorators.http import require_POST, require_safe

from commissioner.core.downloads import table_response
from commissioner.methods import supplier_risk
from commissioner.orgs import tenancy
from commissioner.risk import forms, queries, services
from commissioner.risk.models import FIGURE_NAMES, FIGURES

HOME = ("Home", "/")
STATUS_LABELS = {"good": "Good", "concern": "Concern", "serious": "Serious", "info": "Information",
                 "missing": "Missing"}
STATUS_TAGS = {"good": "govuk-tag--green", "concern": "govuk-tag--yellow", "serious": "govuk-tag--red",
               "info": "govuk-tag--blue", "missing": "govuk-tag--grey"}
RATING_TAGS = {"low": "govuk-tag--green", "medium": "govuk-tag--yellow", "high": "govuk-tag--red"}


def _contract(request, ocid):
    contract = queries.contract_for(request.user, ocid)
    if contract is None:
        raise Http404("No contract found")
    return contract


def _provider(request, contract):
    everyone = services.providers_of(contract)
    providers = queries.providers_for(request.user, contract, everyone)
    wanted = request.POST.get("provider") or request.GET.get("provider")
    if request.method == "POST" and wanted:  # a write names its provider: never another one in its place
        named = next((p for p in everyone if str(p.pk) == wanted), None)
        if named is not None:
            return providers, named  # the service refuses it if the user may not write for it
    chosen = next((p for p in providers if str(p.pk) == wanted), providers[0] if providers else None)
    return providers, chosen


def _url(contract, provider=None):
    url = reverse("risk-contract", args=[contract.ocid])
    return f"{url}?provider={provider.pk}" if provider is not None else url


def _money(value):
    if value is None:
        return None
    return f"-£{-value:,.0f}" if value < 0 else f"£{value:,.0f}"


def _money_text(value):
    return None if value is None else _money(Decimal(value))


def _username(user, *, supplier=False):
    """A council officer's user name; "an officer" to a supplier's user (user names are often emails)."""
    if supplier and user is not None:
        return "an officer"
    return user.get_username() if user is not None else "system"


def _entered(a, supplier=False):
    """Who entered a year's figures, in words, for the accounts table (officers unnamed to a supplier)."""
    if a.synthetic and a.entered_by is None:
        return "The demo (synthetic)"
    if a.entered_by_supplier and a.corrected_at is not None:
        return (f"The supplier ({a.supplier_username}, {date_format(localtime(a.supplier_entered_at), 'j M Y')}); "
                f"corrected by the council ({_username(a.entered_by, supplier=supplier)}, "
                f"{date_format(localtime(a.corrected_at), 'j M Y')})")
    if a.entered_by_supplier:
        return f"The supplier ({a.supplier_username}, {date_format(localtime(a.supplier_entered_at), 'j M Y H:i')})"
    return (f"The council ({_username(a.entered_by, supplier=supplier)}, "
            f"{date_format(localtime(a.updated_at), 'j M Y')})")


def _next_step(request, contract):
    if services.acts_as_supplier(request.user, contract):
        return f"{contract.owner.name} holds them; its officers use them when they next assess."
    return "Assess again to use them."


def _view_assessment(a):
    if a is None:
        return None
    a.factor_rows = [{**f, "label": STATUS_LABELS.get(f["status"], f["status"]),
                      "tag": STATUS_TAGS.get(f["status"], "govuk-tag--grey")} for f in a.factors]
    a.rating_tag = RATING_TAGS.get(a.rating, "")
    a.mitigation_labels = [supplier_risk.MITIGATIONS.get(m, m) for m in a.mitigations]
    return a


def _page(request, contract, *, assess_form=None, accounts_form=None, upload_form=None, upload_problems=None,
          status=200):
    providers, provider = _provider(request, contract)
    can_edit = tenancy.can_edit(request.user, contract.owner_id)
    owner_member = request.user.is_superuser or contract.owner_id in tenancy.member_org_ids(request.user)
    # the supplier's own user: gives the council its accounts, sees them, and nothing of the council's assessments
    supplier = (not owner_member and provider is not None
                and tenancy.can_submit_accounts(request.user, contract, provider.pk))
    accounts = queries.accounts(request.user, contract, provider) if provider else []
    history = queries.assessments(request.user, contract, provider) if provider else []
    latest = _view_assessment(next((a for a in history if a.is_current), None))
    annual = services.annual_value_of(contract)
    if assess_form is None:
        initial = {"annual_value": annual if annual is not None else ""}
        if latest is not None:
            initial.update(annual_value=latest.annual_value, criticality=latest.criticality,
                           mitigations=latest.mitigations, lots=latest.lots, credit_score=latest.credit_score or "",
                           audited_accounts_required=latest.audited_accounts_required)
        assess_form = forms.AssessForm(initial=initial)
    accounts_form = accounts_form or forms.AccountsForm()
    upload_form = upload_form or forms.UploadForm()
    rows = [{"year": a.year, "figures": [_money(getattr(a, n)) for n in FIGURE_NAMES], "audited": a.audited,
             "source": a.get_source_display(), "synthetic": a.synthetic, "entered": _entered(a, supplier)}
            for a in accounts[:3]]
    corrected = [{"year": a.year, "when": a.corrected_at, "by": _username(a.entered_by, supplier=supplier),
                  "supplier": a.supplier_username, "supplier_at": a.supplier_entered_at,
                  "figures": [(label, _money_text(a.supplier_figures.get(name)), _money(getattr(a, name)))
                              for name, label in FIGURES],
                  "audited": (a.supplier_figures.get("audited"), a.audited)}
                 for a in accounts if a.corrected_by_council and a.supplier_figures]
    synthetic = any(a.synthetic for a in accounts) or any(a.synthetic for a in history)
    context = {
        "contract": contract, "providers": providers, "provider": provider, "can_edit": can_edit,
        "owner_member": owner_member, "supplier": supplier, "can_submit": can_edit or supplier,
        "corrected": corrected, "latest": latest, "history": history, "account_rows": rows,
        "older_accounts": len(accounts) > 3, "figures": FIGURES, "annual_value": annual,
        "assess_form": assess_form, "accounts_form": accounts_form, "upload_form": upload_form,
        "upload_problems": upload_problems or [], "synthetic": synthetic,
        "errors": any(f is not None and f.errors for f in (assess_form, accounts_form, upload_form)),
        # the supplier's user comes from the contract's performance page (a private contract is not in its register)
        "breadcrumbs": ([HOME, ("Performance", reverse("performance")),
                         (contract.title[:60], reverse("performance-contract", args=[contract.ocid]))] if supplier else
                        [HOME, ("Contracts", "/contracts/"), (contract.title[:60],
                                                              reverse("contract-detail", args=[contract.ocid]))]),
        "all_forms": [assess_form, accounts_form, upload_form],
        "figure_rows": [(label, [r["figures"][i] for r in rows[:3]]) for i, (_, label) in enumerate(FIGURES)],
        "rating_tags": RATING_TAGS, "page_url": _url(contract, provider),
        "annual_value_shown": _money(annual), "mitigation_names": supplier_risk.MITIGATIONS,
        "latest_value": _money(latest.annual_value) if latest else None,
    }
    return render(request, "risk/contract.html", context, status=status)


@login_required
@require_safe
def contract_risk(request, ocid):
    contract = _contract(request, ocid)
    fmt = request.GET.get("format", "")
    if fmt:
        return _download(request, contract, request.GET.get("table", "assessment"), fmt)
    return _page(request, contract)


def _editor_or_refuse(request, contract, what):
    services.refuse_unless_editor(request.user, contract.owner, what, contract)


@login_required
@require_POST
def assess(request, ocid):
    contract = _contract(request, ocid)
    _editor_or_refuse(request, contract, "assess financial risk")
    _, provider = _provider(request, contract)
    form = forms.AssessForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            a = services.assess(actor=request.user, contract=contract, provider=provider,
                                annual_value=d["annual_value"], criticality=d["criticality"],
                                mitigations=d["mitigations"], lots=d["lots"],
                                audited_accounts_required=d["audited_accounts_required"],
                                credit_score=d["credit_score"])
        except services.RiskInputError as e:
            form.add_service_error(e)
        else:
            messages.success(request, f"Assessed: {a.rating} financial risk")
            return redirect(_url(contract, provider))
    return _page(request, contract, assess_form=form, status=400)


@login_required
@require_POST
def accounts(request, ocid):
    contract = _contract(request, ocid)
    _, provider = _provider(request, contract)
    services.refuse_unless_may_submit(request.user, contract, provider, "enter accounts")
    form = forms.AccountsForm(request.POST)
    if form.is_valid():
        try:
            row = services.save_accounts(actor=request.user, contract=contract, provider=provider,
                                         data=form.cleaned_data)
        except services.RiskInputError as e:
            form.add_service_error(e)
        else:
            messages.success(request, f"Accounts for {row.year} saved. {_next_step(request, contract)}")
            return redirect(_url(contract, provider))
    return _page(request, contract, accounts_form=form, status=400)


@login_required
@require_POST
def upload(request, ocid):
    contract = _contract(request, ocid)
    services.refuse_unless_may_submit(request.user, contract, None, "import accounts")
    _, provider = _provider(request, contract)
    form = forms.UploadForm(request.POST, request.FILES)
    problems = []
    if form.is_valid():
        try:
            rows = services.import_accounts_csv(actor=request.user, contract=contract,
                                                data=form.cleaned_data["file"].read(services.MAX_CSV_BYTES + 1))
        except services.RiskInputError as e:
            problems = e.problems
            form.add_error("file", e.message)
        else:
            messages.success(request, f"{len(rows)} year(s) of accounts imported. {_next_step(request, contract)}")
            return redirect(_url(contract, provider))
    return _page(request, contract, upload_form=form, upload_problems=problems, status=400)


# Downloads --------------------------------------------------------------------------------------

def _table(request, contract, table):
    _, provider = _provider(request, contract)
    if provider is None:
        return [], []
    if table == "accounts":
        rows = queries.accounts(request.user, contract, provider)
        supplier = services.acts_as_supplier(request.user, contract)
        header = ["provider_id", "provider", "year", *FIGURE_NAMES, "audited", "source", "entered_by",
                  "entered_by_supplier", "supplier_user", "supplier_entered_at", "corrected_by_council_at",
                  *[f"supplier_{n}" for n in (*FIGURE_NAMES, "audited")], "synthetic"]
        return header, [[provider.pk, provider.name, a.year,
                         *[(str(v) if (v := getattr(a, n)) is not None else None) for n in FIGURE_NAMES],
                         a.audited, a.source,
                         _username(a.entered_by, supplier=supplier and (a.corrected_at is not None
                                                                        or not a.entered_by_supplier))
                         if a.entered_by else None,
                         a.entered_by_supplier, a.supplier_username or None,
                         a.supplier_entered_at.isoformat() if a.supplier_entered_at else None,
                         a.corrected_at.isoformat() if a.corrected_at else None,
                         *[(a.supplier_figures or {}).get(n) for n in (*FIGURE_NAMES, "audited")],
                         a.synthetic] for a in rows]
    history = queries.assessments(request.user, contract, provider)
    if table == "history":
        header = ["id", "assessed_at", "provider", "annual_value", "criticality", "mitigations", "lots",
                  "credit_score", "rating", "exposure", "exposure_ratio", "health", "legacy_passes", "is_current",
                  "synthetic"]
        return header, [[a.pk, a.assessed_at.isoformat(), a.provider.name, str(a.annual_value), a.criticality,
                         " ".join(a.mitigations), a.lots, None if a.credit_score is None else str(a.credit_score),
                         a.rating, a.exposure, a.exposure_ratio, a.health, a.legacy.get("passes"), a.is_current,
                         a.synthetic] for a in history]
    if table == "assessment":
        latest = next((a for a in history if a.is_current), None)
        header = ["assessment_id", "rating", "exposure", "health", "kind", "name", "status", "explanation",
                  "synthetic"]
        if latest is None:
            return header, []
        rows = [[latest.pk, latest.rating, latest.exposure, latest.health, "factor", f["name"], f["status"],
                 f["explanation"], latest.synthetic] for f in latest.factors]
        rows += [[latest.pk, latest.rating, latest.exposure, latest.health, "mitigation", "", "", m,
                  latest.synthetic] for m in latest.mitigation_notes]
        rows += [[latest.pk, latest.rating, latest.exposure, latest.health, "would move it", "", "", m,
                  latest.synthetic] for m in latest.moves]
        rows.append([latest.pk, latest.rating, latest.exposure, latest.health, "legacy rule",
                     latest.legacy.get("rule", ""), "pass" if latest.legacy.get("passes") else "fail",
                     latest.legacy.get("explanation", ""), latest.synthetic])
        return header, rows
    raise Http404("Unknown table: use accounts, assessment or history")


def _download(request, contract, table, fmt):
    if fmt not in ("csv", "json"):
        raise Http404("Unknown format: use csv or json")
    header, rows = _table(request, contract, table)
    name = f"risk-{table}-{contract.pk}"
    return table_response(name, fmt, header, rows, meta={"contract": contract.ocid, "table": table})
