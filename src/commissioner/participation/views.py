"""Participatory budgeting and priority setting pages.

Public: the list of exercises, an exercise (open, closed or published; a draft only to the council's
members), voting (no account: a letter code or an emailed code), checking a receipt, and published results.
Council editors: create and change an exercise, add projects, open/close/publish, issue letter codes (a CSV,
the only copy), import a .pb file. Reads go through ``queries`` (``visible_to``), writes through ``services``.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from commissioner.core.downloads import table_response
from commissioner.orgs import tenancy
from commissioner.orgs.auth import client_ip
from commissioner.participation import forms, queries, services
from commissioner.participation.models import Exercise

HOME = ("Home", "/")
INDEX = ("Participation", "/participate/")
CHART_ROW, CHART_WIDTH, CHART_BAR_MAX, CHART_LABEL = 44, 480, 400, 52  # drawn 1:1 in a half-width column


def _org(slug):
    org = queries.organisation(slug)
    if org is None:
        raise Http404("No organisation found")
    return org


def _exercise(request, pk):
    exercise = queries.exercise_for(request.user, pk)
    if exercise is None:
        raise Http404("No exercise found")
    return exercise


def _num(v):
    return None if v is None else str(v)


def chart(rows, value_key, funded_key=None):
    """Geometry for a horizontal bar chart (SVG); the table after it holds the same figures."""
    peak = max((float(r[value_key] or 0) for r in rows), default=0) or 1
    bars = []
    for i, r in enumerate(rows):
        top = i * CHART_ROW
        width = round(float(r[value_key] or 0) / peak * CHART_BAR_MAX, 1)
        label = f"{r['code']}. {r['title']}"
        label = label if len(label) <= CHART_LABEL else label[:CHART_LABEL - 1].rstrip() + "…"
        bars.append({"label": label, "value": r[value_key], "label_y": top + 17, "bar_y": top + 24, "width": width,
                     "value_x": width + 8, "value_y": top + 38,
                     "funded": bool(r.get(funded_key)) if funded_key else True})
    return {"bars": bars, "height": max(len(bars) * CHART_ROW, CHART_ROW), "width": CHART_WIDTH}


# The list and a council's exercises ---------------------------------------------------------------

@require_safe
def index(request):
    return render(request, "participation/index.html", {
        "exercises": queries.exercises(request.user), "breadcrumbs": [HOME],
        "councils": queries.member_councils(request.user)})


def _council_page(request, org, *, form=None, import_form=None, problems=None, more=0, status=200):
    rows = queries.exercises(request.user, org)
    all_forms = [f for f in (form, import_form) if f is not None]
    context = {"org": org, "exercises": rows, "can_edit": tenancy.can_edit(request.user, org.pk),
               "form": form or forms.ExerciseForm(), "import_form": import_form or forms.ImportForm(),
               "problems": problems or [], "more": more, "all_forms": all_forms,
               "errors": any(f.errors for f in all_forms), "breadcrumbs": [HOME, INDEX]}
    return render(request, "participation/council.html", context, status=status)


@require_safe
def council(request, slug):
    return _council_page(request, _org(slug))


@login_required
@require_POST
def exercise_create(request, slug):
    org = _org(slug)
    services.refuse_unless_editor(request.user, org, "run participatory budgeting", org)
    form = forms.ExerciseForm(request.POST)
    if form.is_valid():
        try:
            exercise = services.create_exercise(actor=request.user, owner=org, data=form.cleaned_data)
        except services.ParticipationInputError as e:
            form.add_service_error(e)
        else:
            messages.success(request, "Exercise created as a draft: add its projects, then open the vote")
            return redirect(reverse("participation-exercise", args=[exercise.pk]))
    return _council_page(request, org, form=form, status=400)


@login_required
@require_POST
def pb_import(request, slug):
    org = _org(slug)
    services.refuse_unless_editor(request.user, org, "import a .pb file", org)
    form = forms.ImportForm(request.POST, request.FILES)
    problems, more = [], 0
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            exercise = services.import_pb(actor=request.user, owner=org, name=upload.name,
                                          data=upload.read(services.MAX_PB_BYTES + 1))
        except services.ParticipationInputError as e:
            problems, more = e.problems, e.more
            form.add_error("file", e.message)
        else:
            messages.success(request, f"Imported {exercise.ballots.count():,} ballots and "
                                      f"{exercise.projects.count()} projects as a closed exercise")
            return redirect(reverse("participation-exercise", args=[exercise.pk]))
    return _council_page(request, org, import_form=form, problems=problems, more=more, status=400)


# One exercise -------------------------------------------------------------------------------------

def _initial(exercise):
    local = services.LONDON
    opens = exercise.opens_at.astimezone(local).date() if exercise.opens_at else None
    closes = None
    if exercise.closes_at:
        from datetime import timedelta

        closes = (exercise.closes_at - timedelta(days=1)).astimezone(local).date()
    return {"kind": exercise.kind, "title": exercise.title, "description": exercise.description,
            "service_area": exercise.service_area, "budget": _num(exercise.budget),
            "ballot_type": exercise.ballot_type, "min_choices": exercise.min_choices,
            "max_choices": exercise.max_choices, "points_total": _num(exercise.points_total),
            "max_points": _num(exercise.max_points), "opens_on": opens, "closes_on": closes,
            "eligible_areas": ", ".join(exercise.eligible_areas), "minimum_age": exercise.minimum_age,
            "rule": exercise.rule, "threshold": _num(exercise.threshold), "tie_break": exercise.tie_break,
            "verification": exercise.verification}


def _exercise_page(request, exercise, *, form=None, project_form=None, codes_form=None, status_error=None,
                   status=200):
    can_edit = tenancy.can_edit(request.user, exercise.owner_id)
    draft = exercise.status == Exercise.Status.DRAFT and exercise.source != "pb"
    if form is None:
        form = (forms.ExerciseForm if draft else forms.RuleForm)(initial=_initial(exercise))
    all_forms = [f for f in (form, project_form, codes_form) if f is not None and f.is_bound]
    context = {
        "exercise": exercise, "projects": queries.projects(exercise), "can_edit": can_edit, "draft": draft,
        "form": form, "project_form": project_form or forms.ProjectForm(priorities=exercise.is_priorities),
        "codes_form": codes_form or forms.CodesForm(), "status_error": status_error, "all_forms": all_forms,
        "errors": bool(status_error) or any(f.errors for f in all_forms),
        "results_visible": queries.can_see_results(request.user, exercise),
        "ballot_count": exercise.ballots.count(),
        "codes": queries.code_counts(exercise) if can_edit else None,
        "demo_codes": queries.demo_codes(exercise)[:5],
        "breadcrumbs": [HOME, INDEX, (exercise.owner.name, reverse("participation-council",
                                                                  args=[exercise.owner.slug]))]}
    return render(request, "participation/exercise.html", context, status=status)


@require_safe
def exercise_detail(request, pk):
    return _exercise_page(request, _exercise(request, pk))


@login_required
@require_POST
def exercise_update(request, pk):
    exercise = _exercise(request, pk)
    services.refuse_unless_editor(request.user, exercise.owner, "change the exercise", exercise)
    draft = exercise.status == Exercise.Status.DRAFT and exercise.source != "pb"
    form = (forms.ExerciseForm if draft else forms.RuleForm)(request.POST)
    if form.is_valid():
        try:
            services.update_exercise(actor=request.user, exercise=exercise, data=form.cleaned_data)
        except services.ParticipationInputError as e:
            form.add_service_error(e)
        else:
            messages.success(request, "Settings saved")
            return redirect(reverse("participation-exercise", args=[exercise.pk]))
    return _exercise_page(request, exercise, form=form, status=400)


@login_required
@require_POST
def project_add(request, pk):
    exercise = _exercise(request, pk)
    services.refuse_unless_editor(request.user, exercise.owner, "add a project", exercise)
    form = forms.ProjectForm(request.POST, priorities=exercise.is_priorities)
    if form.is_valid():
        try:
            project = services.add_project(actor=request.user, exercise=exercise, data=form.cleaned_data)
        except services.ParticipationInputError as e:
            form.add_service_error(e)
        else:
            messages.success(request, f"Added: {project.title}")
            return redirect(reverse("participation-exercise", args=[exercise.pk]) + "#projects")
    return _exercise_page(request, exercise, project_form=form, status=400)


@login_required
@require_POST
def status_change(request, pk):
    exercise = _exercise(request, pk)
    action = request.POST.get("action", "")
    services.refuse_unless_editor(request.user, exercise.owner, f"{action[:20]} the exercise", exercise)
    try:
        services.change_status(actor=request.user, exercise=exercise, action=action)
    except services.ParticipationInputError as e:
        return _exercise_page(request, exercise, status_error=e.message, status=400)
    words = {"open": "Voting is open", "close": "Voting is closed", "publish": "The results are published"}
    messages.success(request, words[action])
    return redirect(reverse("participation-exercise", args=[exercise.pk]))


@login_required
@require_POST
def codes_issue(request, pk):
    exercise = _exercise(request, pk)
    services.refuse_unless_editor(request.user, exercise.owner, "issue voting codes", exercise)
    form = forms.CodesForm(request.POST)
    if form.is_valid():
        try:
            codes = services.generate_codes(actor=request.user, exercise=exercise, count=form.cleaned_data["count"])
        except services.ParticipationInputError as e:
            form.add_service_error(e)
        else:
            url = request.build_absolute_uri(reverse("participation-vote", args=[exercise.pk]))
            return table_response(f"voting-codes-{exercise.pk}", "csv", ["code", "exercise", "vote_at", "synthetic"],
                                  [[c, exercise.title, url, exercise.synthetic] for c in codes])
    return _exercise_page(request, exercise, codes_form=form, status=400)


# Voting -------------------------------------------------------------------------------------------

def _ballot_form(exercise, data=None, nonce=None, code=""):
    projects = queries.projects(exercise)
    initial = {"nonce": nonce or services.new_nonce(), "code": code}
    return forms.BallotForm(data, exercise=exercise, projects=projects, initial=initial)


def _vote_page(request, exercise, form, *, email_form=None, email_sent=False, refusal=None, status=200):
    all_forms = [f for f in (form, email_form) if f is not None and f.is_bound]
    return render(request, "participation/vote.html", {
        "exercise": exercise, "form": form, "email_form": email_form or forms.EmailForm(),
        "email_sent": email_sent, "refusal": refusal, "all_forms": all_forms,
        "errors": any(f.errors for f in all_forms), "is_open": _is_open(exercise),
        "demo_codes": queries.demo_codes(exercise)[:3],
        "breadcrumbs": [HOME, INDEX, (exercise.title[:60], reverse("participation-exercise", args=[exercise.pk]))],
    }, status=status)


def _is_open(exercise):
    try:
        services._check_voting_open(exercise)
    except services.BallotRefused:
        return False
    return True


def _add_refusal(form, error):
    for field, message in error.errors:
        form.add_error(field if field in form.fields else None, message)


@require_http_methods(["GET", "HEAD", "POST"])
def vote(request, pk):
    exercise = _exercise(request, pk)
    if request.method != "POST":
        return _vote_page(request, exercise, _ballot_form(exercise, code=request.GET.get("code", "")[:40]))
    form = _ballot_form(exercise, request.POST)
    wait = services.rate_limited(client_ip(request))
    if wait:
        form.is_valid()
        form.add_error(None, f"Too many ballots from your connection: try again in {max(1, wait // 60)} minute(s)")
        response = _vote_page(request, exercise, form, status=429)
        response["Retry-After"] = str(wait)
        return response
    if form.is_valid():
        try:
            receipt, created = services.cast_ballot(exercise=exercise, **form.ballot_kwargs())
        except services.BallotRefused as e:
            _add_refusal(form, e)
        else:
            ballot = queries.ballot_for_receipt(exercise, receipt)
            return render(request, "participation/voted.html", {
                "exercise": exercise, "receipt": receipt, "created": created,
                "choices": _ballot_rows(exercise, ballot), "breadcrumbs": [HOME, INDEX]})
    return _vote_page(request, exercise, form, status=400)


@require_POST
def email_code(request, pk):
    exercise = _exercise(request, pk)
    email_form = forms.EmailForm(request.POST)
    wait = services.rate_limited(client_ip(request))
    if wait:
        email_form.is_valid()
        email_form.add_error("email", f"Too many requests from your connection: try again in "
                                      f"{max(1, wait // 60)} minute(s)")
        response = _vote_page(request, exercise, _ballot_form(exercise), email_form=email_form, status=429)
        response["Retry-After"] = str(wait)
        return response
    if email_form.is_valid():
        try:
            services.request_email_code(exercise=exercise, email=email_form.cleaned_data["email"])
        except services.BallotRefused as e:
            _add_refusal(email_form, e)
        else:
            return _vote_page(request, exercise, _ballot_form(exercise), email_sent=True)
    return _vote_page(request, exercise, _ballot_form(exercise), email_form=email_form, status=400)


def _ballot_rows(exercise, ballot):
    if ballot is None:
        return []
    titles = {p.code: p.title for p in queries.projects(exercise)}
    points = ballot.points or []
    return [{"position": i, "code": c, "title": titles.get(c, c), "points": points[i - 1] if points else None}
            for i, c in enumerate(ballot.choices, 1)]


@require_safe
def receipt_check(request, pk):
    exercise = _exercise(request, pk)
    form = forms.ReceiptForm(request.GET or None)
    ballot, checked = None, False
    if form.is_bound and form.is_valid() and form.cleaned_data["receipt"].strip():
        checked = True
        ballot = queries.ballot_for_receipt(exercise, form.cleaned_data["receipt"])
    elif form.is_bound:
        form.add_error("receipt", "Enter your receipt")
    return render(request, "participation/receipt.html", {
        "exercise": exercise, "form": form, "ballot": ballot, "checked": checked,
        "choices": _ballot_rows(exercise, ballot), "all_forms": [form], "errors": bool(form.errors),
        "breadcrumbs": [HOME, INDEX, (exercise.title[:60], reverse("participation-exercise", args=[exercise.pk]))]},
        status=400 if form.errors else 200)


# Results ------------------------------------------------------------------------------------------

def _results_table(exercise, data):
    if exercise.is_priorities:
        header = ["rank", "priority_id", "priority", "score", "total", "mean", "first_choices", "supporters",
                  "tied", "ballots", "method", "synthetic"]
        return header, [[r["rank"], r["code"], r["title"], round(r["score"], 4), round(r["total"], 4),
                         round(r["mean"], 4), r["first"], r["supporters"], r["tied"], data["ballots"],
                         data["method"], exercise.synthetic] for r in data["rows"]]
    header = ["project_id", "project", "cost", "votes", "points", "funded", "status", "explanation", "rule",
              "tie_break", "synthetic"]
    return header, [[r["code"], r["title"], _num(r["cost"]), r["votes"], _num(r["points"]), r["funded"], r["status"],
                     r["explanation"], exercise.rule, exercise.tie_break, exercise.synthetic] for r in data["rows"]]


@require_safe
def results(request, pk):
    exercise = _exercise(request, pk)
    if not queries.can_see_results(request.user, exercise):
        raise Http404("The results of this exercise are not published")
    fmt = request.GET.get("format", "")
    data = (queries.priority_results(exercise) if exercise.is_priorities
            else queries.results(exercise, for_page=not fmt))  # downloads: exact amounts and wording
    if fmt:
        header, rows = _results_table(exercise, data)
        return table_response(f"participation-{exercise.pk}-results", fmt, header, rows,
                              meta={"exercise": exercise.title, "rule": exercise.get_rule_display()
                                    if not exercise.is_priorities else data["method"],
                                    "published": exercise.status == Exercise.Status.PUBLISHED,
                                    "synthetic": exercise.synthetic})
    if exercise.is_priorities:
        graph = chart(data["rows"], "score")
    else:
        by = "votes" if exercise.ballot_type in ("approval", "choose-1") else "points"
        graph = chart(data["rows"], by, "funded")
    return render(request, "participation/results.html", {
        "exercise": exercise, "data": data, "chart": graph,
        "by": "score" if exercise.is_priorities else by,
        "published": exercise.status == Exercise.Status.PUBLISHED,
        "breadcrumbs": [HOME, INDEX, (exercise.title[:60], reverse("participation-exercise", args=[exercise.pk]))]})


@require_safe
def export_pb(request, pk):
    exercise = _exercise(request, pk)
    if not queries.can_see_results(request.user, exercise) or exercise.is_priorities:
        raise Http404("No .pb file for this exercise: results not available, or no costs (priority setting)")
    response = HttpResponse(queries.pb_text(exercise), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="participation-{exercise.pk}.pb"'
    return response
