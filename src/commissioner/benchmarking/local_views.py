"""Local value measures: pages to list, define, edit, publish, retire, adopt and record values.

A council's admins and commissioners define a measure of local value; once published, other councils'
admins and commissioners adopt it and record their own values; each compares itself with the councils using
the same version (the measure page's peer group "adopters"). Every write goes through
``benchmarking.services`` (which checks who may do it, audits it, and refuses bad input naming the field);
these views only show forms and messages. Reads of local measures are here too (``local_measures``,
``adoption_rows``): the API uses the same functions.
"""


from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from commissioner.benchmarking import forms, queries, services
from commissioner.benchmarking.models import Measure
from commissioner.core.downloads import table_response
from commissioner.orgs import tenancy
from commissioner.orgs.models import Organisation

HOME = ("Home", "/")
BENCHMARKING = ("Benchmarking", "/benchmarking/")
LOCAL = ("Local value measures", "/benchmarking/local/")
LIST_FIELDS = ["code", "name", "owner", "owner_code", "version", "status", "unit", "polarity", "councils_using",
               "adopters", "synthetic", "definition", "collection"]
MAX_QUERY = 200


# -- reads ---------------------------------------------------------------------------------------------

def local_measures(q="", *, statuses=(Measure.Status.PUBLISHED,)):
    """Local value measures (published by default) with ``adopters`` counted; ``q`` matches code, name,
    definition or the owner's name."""
    qs = (Measure.objects.filter(kind=Measure.Kind.LOCAL, status__in=statuses).select_related("owner")
          .annotate(adopters=Count("adoptions", distinct=True)).order_by("name", "code"))
    q = (q or "").strip()[:MAX_QUERY]
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(name__icontains=q) | Q(definition__icontains=q)
                       | Q(owner__name__icontains=q))
    return qs


def list_row(m) -> dict:
    return {"code": m.code, "name": m.name, "owner": m.owner.name, "owner_code": m.owner.la_code or "",
            "version": m.version, "status": m.status, "unit": m.unit, "polarity": m.polarity,
            "councils_using": m.adopters + 1, "adopters": m.adopters, "synthetic": m.synthetic,
            "definition": m.definition, "collection": m.collection}


def adoption_rows(measure):
    """The councils using the measure, owner first: (organisation, version, since, role)."""
    rows = [(measure.owner, measure.version, measure.created_at, "owner")]
    for a in measure.adoptions.select_related("organisation").order_by("organisation__name"):
        rows.append((a.organisation, a.version, a.adopted_at, "adopter"))
    return rows


def visible_local(user, code) -> Measure:
    """The local measure, or 404: drafts only for the owner council's editors (and site administrators)."""
    measure = Measure.objects.filter(code=code.upper(), kind=Measure.Kind.LOCAL).select_related("owner").first()
    if measure is None or (measure.status == Measure.Status.DRAFT and not tenancy.can_edit(user, measure.owner_id)):
        raise Http404("No such local value measure")
    return measure


def acting_organisations(user):
    """The councils the user may act for (as admin or commissioner); a site administrator: every council."""
    if user.is_authenticated and user.is_superuser:
        return Organisation.objects.filter(kind=Organisation.Kind.COUNCIL).order_by("name")
    return Organisation.objects.filter(pk__in=tenancy.member_org_ids(user, tenancy.EDIT_ROLES)).order_by("name")


def _csv(rows, fields, name, extra=None):
    return table_response(name, "csv", fields, rows, meta=extra, meta_columns=True)


def _json(data, name):
    response = JsonResponse(data, json_dumps_params={"indent": 1})
    response["Content-Disposition"] = f'attachment; filename="{name}.json"'
    return response


# -- pages -----------------------------------------------------------------------------------------------

@require_safe
def local_list(request):
    q = request.GET.get("q", "")[:MAX_QUERY]
    measures = list(local_measures(q))
    fmt = request.GET.get("format", "")
    if fmt == "csv":
        return _csv([list_row(m) for m in measures], LIST_FIELDS, "local-value-measures",
                    {"synthetic_note": "synthetic = made-up demo values, not real data"})
    if fmt == "json":
        return _json({"local_measures": [list_row(m) for m in measures], "query": q}, "local-value-measures")
    if fmt:
        raise Http404("Unknown format: use csv or json")
    own = []
    if request.user.is_authenticated:
        own = list(local_measures(statuses=list(Measure.Status.values)).filter(
            owner_id__in=tenancy.member_org_ids(request.user)))
    return render(request, "benchmarking/local_list.html", {
        "measures": measures, "q": q, "own": own,
        "can_define": request.user.is_authenticated and acting_organisations(request.user).exists(),
        "any_synthetic": any(m.synthetic for m in measures + own),
        "breadcrumbs": [HOME, BENCHMARKING]})


def _put_error(form, error):
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _form_page(request, form, measure=None, *, status=200, confirm_version=None):
    crumbs = [HOME, BENCHMARKING, LOCAL]
    if measure is not None:
        crumbs.append((measure.code, reverse("benchmarking-local", args=[measure.code])))
    return render(request, "benchmarking/local_form.html", {
        "form": form, "measure": measure, "confirm_version": confirm_version, "breadcrumbs": crumbs},
        status=status)


@login_required
@require_http_methods(["GET", "POST"])
def local_new(request):
    organisations = acting_organisations(request.user)
    if not organisations.exists():
        own = Organisation.objects.filter(pk__in=tenancy.member_org_ids(request.user)).first()
        if own is not None:
            services.log_refusal(request.user, own, "define local value measures")
        raise PermissionDenied("Only a council's admins and commissioners can define local value measures")
    posted = request.method == "POST"
    form = forms.LocalMeasureForm(request.POST if posted else None,
                                  initial={"polarity": "higher"})
    form.add_organisation(organisations, "Council defining the measure")
    if posted and form.is_valid():
        owner = form.chosen_organisation()
        if owner is None:
            form.add_error(None, "Choose the council defining the measure")
        else:
            try:
                measure = services.define_local_measure(actor=request.user, owner=owner, data=form.cleaned_data)
            except services.NotAllowed as e:
                raise PermissionDenied(e.message) from None
            except services.BenchmarkError as e:
                _put_error(form, e)
            else:
                messages.success(request, f"{measure.code} saved as a draft: publish it when it is ready")
                return redirect("benchmarking-local", measure.code)
    return _form_page(request, form, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def local_edit(request, code):
    measure = visible_local(request.user, code)
    if not tenancy.can_edit(request.user, measure.owner_id):
        services.log_refusal(request.user, measure, "change this measure")
        raise PermissionDenied(f"Only the admins and commissioners of {measure.owner.name} may change {measure.code}")
    posted = request.method == "POST"
    form = forms.LocalMeasureForm(request.POST if posted else None, initial={
        k: getattr(measure, k) for k in ("name", "definition", "unit", "polarity", "collection")})
    form.organisations = {}
    if posted and form.is_valid():
        try:
            changed, new_version = services.changes(measure, form.cleaned_data)
            if new_version and not form.cleaned_data.get("confirm"):
                form.data = form.data.copy()
                form.data["confirm"] = "1"
                return _form_page(request, form, measure, confirm_version=measure.version + 1)
            measure, made = services.update_local_measure(actor=request.user, measure=measure,
                                                          data=form.cleaned_data)
        except services.NotAllowed as e:
            raise PermissionDenied(e.message) from None
        except services.BenchmarkError as e:
            _put_error(form, e)
        else:
            messages.success(request, f"{measure.code} is now version {measure.version}: councils using an earlier "
                                      "version stay on it until they move" if made else
                             (f"{measure.code} saved" if changed else "Nothing changed"))
            return redirect("benchmarking-local", measure.code)
    return _form_page(request, form, measure, status=400 if form.errors else 200)


def _chosen_org(request):
    """The council an action is for: the one posted (by slug), else the user's only council."""
    slug = request.POST.get("organisation", "")
    if slug:
        org = Organisation.objects.filter(slug=slug[:120]).first()
        if org is None:
            raise Http404("No such council")
        return org
    orgs = list(acting_organisations(request.user)[:2]) if not request.user.is_superuser else []
    if len(orgs) != 1:
        raise PermissionDenied("Say which council this is for")
    return orgs[0]


ACTIONS = {
    "publish": (lambda user, m, org: services.publish(actor=user, measure=m), "{code} is published"),
    "retire": (lambda user, m, org: services.retire(actor=user, measure=m), "{code} is retired"),
    "adopt": (lambda user, m, org: services.adopt(actor=user, measure=m, organisation=org),
              "{org} now uses {code}"),
    "move": (lambda user, m, org: services.move_to_latest(actor=user, measure=m, organisation=org),
             "{org} now uses the latest version of {code}"),
    "withdraw": (lambda user, m, org: services.withdraw_adoption(actor=user, measure=m, organisation=org),
                 "{org} no longer uses {code}; its values stay"),
}


@login_required
@require_POST
def local_action(request, code, action):
    if action not in ACTIONS:
        raise Http404("No such action")
    measure = visible_local(request.user, code)
    org = None if action in ("publish", "retire") else _chosen_org(request)
    run, done = ACTIONS[action]
    try:
        run(request.user, measure, org)
    except services.NotAllowed as e:
        raise PermissionDenied(e.message) from None
    except services.BenchmarkError as e:
        return render(request, "benchmarking/local_refused.html", {
            "measure": measure, "message": e.message,
            "breadcrumbs": [HOME, BENCHMARKING, LOCAL, (measure.code, reverse("benchmarking-local",
                                                                              args=[measure.code]))]}, status=400)
    messages.success(request, done.format(code=measure.code, org=org.name if org else ""))
    return redirect("benchmarking-local", measure.code)


@require_safe
def local_detail(request, code):
    measure = visible_local(request.user, code)
    rows = adoption_rows(measure)
    versions = list(measure.versions.all())
    fmt, table = request.GET.get("format", ""), request.GET.get("table", "adopters")
    if fmt in ("csv", "json"):
        councils = [{"organisation": o.name, "la_code": o.la_code or "", "gss_code": o.gss_code, "role": role,
                     "version": v, "since": since.date().isoformat()} for o, v, since, role in rows]
        texts = [{"version": v.version, "name": v.name, "definition": v.definition, "unit": v.unit,
                  "polarity": v.polarity, "collection": v.collection, "published": v.created_at.date().isoformat()}
                 for v in versions]
        if fmt == "json":
            return _json({"measure": {**list_row(_counted(measure)), "synthetic": measure.synthetic},
                          "councils": councils, "versions": texts}, f"local-{measure.code}")
        if table == "versions":
            return _csv(texts, list(texts[0]) if texts else ["version"], f"local-{measure.code}-versions",
                        {"measure": measure.code, "synthetic": measure.synthetic})
        return _csv(councils, ["organisation", "la_code", "gss_code", "role", "version", "since"],
                    f"local-{measure.code}-councils", {"measure": measure.code, "synthetic": measure.synthetic})
    if fmt:
        raise Http404("Unknown format: use csv or json")
    acting = []
    if request.user.is_authenticated and not request.user.is_superuser:
        using = services.participants(measure)
        for org in acting_organisations(request.user):
            acting.append((org, "owner" if org.pk == measure.owner_id else "adopter" if org.pk in using else None,
                           using.get(org.pk)))
    return render(request, "benchmarking/local_detail.html", {
        "measure": measure, "rows": rows, "versions": versions, "acting": acting,
        "can_manage": tenancy.can_edit(request.user, measure.owner_id),
        "can_record": services.may_upload(request.user, measure),
        "breadcrumbs": [HOME, BENCHMARKING, LOCAL]})


def _counted(measure):
    measure.adopters = measure.adoptions.count()
    return measure


@login_required
@require_http_methods(["GET", "POST"])
def local_value(request, code):
    measure = visible_local(request.user, code)
    using = services.participants(measure)
    organisations = [o for o in acting_organisations(request.user) if o.pk in using]
    refusal = services.upload_refusal(request.user, measure)
    if refusal is not None or not organisations:
        services.log_refusal(request.user, measure, "record values", reason=refusal or "not a council using it")
        raise PermissionDenied(refusal or f"Only councils using {measure.code} may record its values")
    posted = request.method == "POST"
    form = forms.ValueForm(request.POST if posted else None)
    form.add_organisation(organisations, "Council")
    if posted and form.is_valid():
        org = form.chosen_organisation()
        try:
            if org is None:
                raise services.BenchmarkError("organisation", "choose the council")
            done = services.record_value(actor=request.user, measure=measure, organisation=org,
                                         period=form.cleaned_data["period"], value=form.cleaned_data["value"],
                                         note=form.cleaned_data["note"])
        except services.NotAllowed as e:
            raise PermissionDenied(e.message) from None
        except services.BenchmarkError as e:
            _put_error(form, e)
        else:
            v = done.value
            messages.success(request, f"{org.name}, {v.period}: {queries.plain(v.value)} "
                                      f"{'recorded' if done.created else 'updated' if done.changed else 'unchanged'} "
                                      f"(version {v.version})")
            return redirect(reverse("benchmarking-measure", args=[measure.code])
                            + f"?org={org.slug}&peer=adopters&period={v.period}")
    return render(request, "benchmarking/local_value.html", {
        "measure": measure, "form": form,
        "breadcrumbs": [HOME, BENCHMARKING, LOCAL, (measure.code, reverse("benchmarking-local", args=[measure.code]))]},
        status=400 if form.errors else 200)
