"""Residents' feedback pages: find a service or provider, read its stories (anyone), share one (a confirmed
resident), report one (anyone), reply (the council and the provider), moderate (the council's admins and
commissioners; site administrators), the resident's account (preferences, notifications, download, erase),
and the commissioner's CSV export.

Reads go through ``queries`` (orgs.tenancy's ``visible_to``); writes through ``services``. A service or
provider the user may not see is a 404; a refusal is a 403 (audited by ``services``).
"""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from commissioner.core.downloads import table_response
from commissioner.feedback import forms, queries, services
from commissioner.feedback.models import BlockedTerm, Story
from commissioner.orgs import tenancy
from commissioner.orgs.auth import client_ip

HOME = ("Home", "/")
FEEDBACK = ("Residents' feedback", "/feedback/")


def policy_limit():
    n, seconds = settings.FEEDBACK_LIMIT_ACCOUNT
    return f"{n} stories in {services._duration(seconds)}"


def _subject(request, ocid=None, pk=None):
    if ocid is not None:
        contract = queries.service(request.user, ocid)
        if contract is None:
            raise Http404("No service found")
        return contract, None
    provider = queries.provider(request.user, pk)
    if provider is None:
        raise Http404("No provider found")
    return None, provider


def _subject_url(contract, provider, suffix=""):
    if contract is not None:
        return reverse("feedback-service", args=[contract.ocid]) + suffix
    return reverse("feedback-provider", args=[provider.pk]) + suffix


def _safe_next(request, default="/feedback/"):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return default


# Finding and reading ------------------------------------------------------------------------------

@require_safe
def index(request):
    form = forms.SearchForm(request.GET or None)
    context = {"form": form, "breadcrumbs": [HOME], "searched": False, "services": [], "providers": []}
    status = 200
    if form.is_bound:
        try:
            search = queries.Search.from_params(request.GET)
        except queries.SearchError as e:
            form.is_valid()
            form.add_error(e.field, e.message)
            status = 400
        else:
            if not search.empty:
                context["services"], context["providers"] = queries.find(request.user, search)
                context["searched"] = True
    if not context["searched"]:
        recent = list(queries.published(request.user)[:5])
        context["recent"] = recent
    context["is_moderator"] = queries.is_moderator(request.user)
    context["resident"] = services.profile_of(request.user)
    return render(request, "feedback/index.html", context, status=status)


def _subject_page(request, contract, provider):
    stories = list(queries.for_contract(request.user, contract) if contract is not None
                   else queries.for_provider(request.user, provider))
    summary = queries.summary(stories)
    paginator = Paginator(stories, queries.PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    if contract is not None:
        can_export = tenancy.can_edit(request.user, contract.owner_id)
        providers = services.providers_of(contract)
    else:
        can_export = queries.is_moderator(request.user)
        providers = []
    return render(request, "feedback/subject.html", {
        "contract": contract, "provider": provider, "providers": providers, "summary": summary, "page_obj": page,
        "stories": page.object_list, "can_export": can_export,
        "share_url": _subject_url(contract, provider, "share/"), "export_url": _subject_url(contract, provider,
                                                                                           "export/"),
        "breadcrumbs": [HOME, FEEDBACK],
    })


@require_safe
def service_page(request, ocid):
    contract, _ = _subject(request, ocid=ocid)
    return _subject_page(request, contract, None)


@require_safe
def provider_page(request, pk):
    _, provider = _subject(request, pk=pk)
    return _subject_page(request, None, provider)


def _story_or_404(request, pk):
    story = queries.story(request.user, pk)
    if story is None:
        raise Http404("No story found")
    return story


def _moderate_form(story, data=None, prefix=None):
    return forms.ModerateForm(data, story=story, prefix=prefix,
                              initial={"text": services.moderation.redact(story.text)})


def _story_page(request, story, *, reply_form=None, report_form=None, moderate_form=None, status=200):
    can_moderate = services.can_moderate(request.user, story)
    if moderate_form is None and can_moderate and services.actions_for(story):
        moderate_form = _moderate_form(story)
    errors = any(f is not None and f.errors for f in (reply_form, report_form, moderate_form))
    is_author = request.user.is_authenticated and story.author_id == request.user.pk
    return render(request, "feedback/story.html", {
        "story": story, "replies": list(story.replies.all()),
        "can_reply": services.can_reply(request.user, story) and story.status == Story.Status.PUBLISHED,
        "can_moderate": can_moderate, "history": queries.history(story) if can_moderate else [],
        "is_author": is_author, "found": services.moderation.for_author(story.holds),
        "personal_data": any(h.get("kind") == "personal_data" for h in story.holds),
        "last_decision": queries.last_decision(story) if story.status != Story.Status.HELD else None,
        "reply_form": reply_form or forms.ReplyForm(), "report_form": report_form or forms.ReportForm(),
        "moderate_form": moderate_form, "errors": errors,
        "all_forms": [f for f in (reply_form, report_form, moderate_form) if f is not None],
        "breadcrumbs": [HOME, FEEDBACK, (story.subject_name[:60] or "Story",
                                         _subject_url(story.contract, story.provider) if story.contract_id or
                                         story.provider_id else "/feedback/")],
    }, status=status)


@require_safe
def story_page(request, pk):
    return _story_page(request, _story_or_404(request, pk))


@require_POST
def report(request, pk):
    story = _story_or_404(request, pk)
    form = forms.ReportForm(request.POST)
    if form.is_valid():
        try:
            counted = services.report_story(story=story, reporter=request.user, ip=client_ip(request),
                                            reason=form.cleaned_data["reason"])
        except services.FeedbackInputError as e:
            form.add_service_error(e)
        else:
            messages.success(request, "Thank you: a moderator will look at this story." if counted else
                             "You have already reported this story: a moderator will look at it.")
            return redirect(_subject_url(story.contract, story.provider) if story.contract_id or story.provider_id
                            else reverse("feedback-index"))
    return _story_page(request, story, report_form=form, status=400)


@login_required
@require_POST
def reply(request, pk):
    story = _story_or_404(request, pk)
    if not services.can_reply(request.user, story):
        services.reply(actor=request.user, story=story, text="", change="")  # refused and audited
    form = forms.ReplyForm(request.POST)
    if form.is_valid():
        try:
            services.reply(actor=request.user, story=story, text=form.cleaned_data["text"],
                           change=form.cleaned_data["change"] or "")
        except services.FeedbackInputError as e:
            form.add_service_error(e)
        else:
            messages.success(request, "Your reply is published and the author has been told.")
            return redirect(reverse("feedback-story", args=[story.pk]))
    return _story_page(request, story, reply_form=form, status=400)


@login_required
@require_POST
def moderate(request, pk):
    story = _story_or_404(request, pk)
    if not services.can_moderate(request.user, story):
        services.moderate(actor=request.user, story=story, action="publish")  # refused and audited
    form = _moderate_form(story, request.POST)
    if _decide(request, story, form):
        return redirect(_safe_next(request, reverse("feedback-moderation")))
    return _story_page(request, story, moderate_form=form, status=400)


def _decide(request, story, form):
    """Apply a moderation form; True when done (with a success message), else the form holds the errors."""
    if not form.is_valid():
        return False
    d = form.cleaned_data
    try:
        services.moderate(actor=request.user, story=story, action=d["action"], note=d["note"],
                          text=d["text"] if d["action"] == "redact" and d["text"].strip() else None)
    except services.FeedbackInputError as e:
        form.add_service_error(e)
        return False
    messages.success(request, f"Story {story.pk} is {services.ACTIONS[d['action']]}.")
    return True


# Sharing a story ---------------------------------------------------------------------------------

def _share(request, contract, provider):
    profile = services.profile_of(request.user)
    context = {"contract": contract, "provider": provider, "profile": profile,
               "subject_url": _subject_url(contract, provider), "breadcrumbs": [HOME, FEEDBACK, (
                   (contract.title if contract else provider.name)[:60], _subject_url(contract, provider))],
               "next": request.get_full_path(), "policy_limit": policy_limit()}
    if not request.user.is_authenticated:
        return render(request, "feedback/share_sign_in.html", context)
    if not services.is_resident(request.user):
        raise PermissionDenied("Stories are shared from a resident's account. Council and provider staff reply to "
                               "stories instead.")
    services.touch(request.user)
    if not profile.confirmed:
        return render(request, "feedback/share_confirm_first.html", context)
    form = forms.StoryForm(request.POST if request.method == "POST" else None, initial={"anonymous": profile.anonymous_by_default})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                story, created = services.post_story(
                    author=request.user, contract=contract, provider=provider, title=d["title"], text=d["text"],
                    overall=d["overall"], recommend=d["recommend"], listened=d["listened"], month=d["month"],
                    year=d["year"], anonymous=d["anonymous"], ip=client_ip(request),
                    submission_key=d["submission_key"])
            except services.FeedbackInputError as e:
                form.add_service_error(e)
            except services.RateLimited as e:
                form.add_error(None, e.message)
                status = 429
            else:
                if created:
                    messages.success(request, "Thank you: your story is waiting for a moderator. We will tell you "
                                              "when it is published.")
                else:
                    messages.success(request, "We already have this story: it was sent once.")
                return redirect(reverse("feedback-story", args=[story.pk]))
    context.update(form=form, errors=bool(form.errors))
    response = render(request, "feedback/share.html", context, status=status)
    if status == 429:
        response["Retry-After"] = "600"
    return response


@require_http_methods(["GET", "POST"])
def share_service(request, ocid):
    contract, _ = _subject(request, ocid=ocid)
    return _share(request, contract, None)


@require_http_methods(["GET", "POST"])
def share_provider(request, pk):
    _, provider = _subject(request, pk=pk)
    return _share(request, None, provider)


@require_safe
def policy(request):
    return render(request, "feedback/policy.html", {"breadcrumbs": [HOME, FEEDBACK], "policy_limit": policy_limit()})


# Export ------------------------------------------------------------------------------------------

def _export(request, contract, provider):
    if contract is not None:
        if not tenancy.can_edit(request.user, contract.owner_id):
            services._refuse(request.user, contract, "export residents' feedback", contract.owner)
        stories = queries.all_for_contract(contract)
        name, meta = f"feedback-{contract.pk}", {"contract": contract.ocid}
    else:
        if not queries.is_moderator(request.user):
            services._refuse(request.user, provider, "export residents' feedback")
        stories = queries.all_for_provider(request.user, provider)
        name, meta = f"feedback-provider-{provider.pk}", {"provider": provider.pk}
    fmt = request.GET.get("format", "csv")
    return table_response(name, fmt, queries.EXPORT_HEADER, queries.export_rows(stories),
                          meta={**meta, "note": "rows marked synthetic are made up by the demo"})


@login_required
@require_safe
def export_service(request, ocid):
    contract, _ = _subject(request, ocid=ocid)
    return _export(request, contract, None)


@login_required
@require_safe
def export_provider(request, pk):
    _, provider = _subject(request, pk=pk)
    return _export(request, None, provider)


# Moderation --------------------------------------------------------------------------------------

@login_required
@require_safe
def moderation_page(request):
    return _moderation(request)


def _moderation(request, block_form=None, story_form=None, status=200):
    """The queue. ``story_form``: (story, bound form) of a decision with errors, shown on that story in the queue
    (and in the error summary); the story is shown even if it has left the queue meanwhile."""
    if not queries.is_moderator(request.user):
        services._refuse(request.user, None, "moderate residents' feedback", message="Only councils' admins and "
                         "commissioners, and site administrators, moderate residents' feedback")
    queue = list(queries.moderation_queue(request.user))
    if story_form is not None and story_form[0].pk not in {s.pk for s in queue}:
        queue.insert(0, story_form[0])
    for story in queue:
        if story_form is not None and story.pk == story_form[0].pk:
            story.form = story_form[1]
        else:
            story.form = _moderate_form(story, prefix=f"s{story.pk}")
    all_forms = [f for f in (block_form, story_form[1] if story_form else None) if f is not None]
    return render(request, "feedback/moderation.html", {
        "queue": queue, "is_superuser": request.user.is_superuser,
        "blocked": list(BlockedTerm.objects.all()) if request.user.is_superuser else [],
        "block_form": block_form or forms.BlockForm(), "all_forms": all_forms,
        "errors": any(f.errors for f in all_forms), "breadcrumbs": [HOME, FEEDBACK],
    }, status=status)


@login_required
@require_POST
def moderate_from_queue(request, pk):
    """The queue's forms have a prefix per story."""
    story = _story_or_404(request, pk)
    if not services.can_moderate(request.user, story):
        services.moderate(actor=request.user, story=story, action="publish")  # refused and audited
    form = _moderate_form(story, request.POST, prefix=f"s{pk}")
    if _decide(request, story, form):
        return redirect(reverse("feedback-moderation"))
    return _moderation(request, story_form=(story, form), status=400)


@login_required
@require_POST
def block_add(request):
    form = forms.BlockForm(request.POST)
    if form.is_valid():
        try:
            services.add_blocked(actor=request.user, kind=form.cleaned_data["kind"], value=form.cleaned_data["value"])
        except services.FeedbackInputError as e:
            form.add_service_error(e)
        else:
            messages.success(request, "Added to the block list.")
            return redirect(reverse("feedback-moderation") + "#block-lists")
    return _moderation(request, block_form=form, status=400)


@login_required
@require_POST
def block_remove(request, pk):
    term = BlockedTerm.objects.filter(pk=pk).first()
    if term is None:
        raise Http404("No such block list entry")
    services.remove_blocked(actor=request.user, term=term)
    messages.success(request, "Removed from the block list.")
    return redirect(reverse("feedback-moderation") + "#block-lists")


# Residents' accounts -----------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def register(request):
    if request.user.is_authenticated:
        return redirect(reverse("feedback-account"))
    form = forms.RegisterForm(request.POST if request.method == "POST" else None)
    nxt = _safe_next(request, "")
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            user = services.register_resident(email=d["email"], password=d["password"],
                                              display_name=d["display_name"],
                                              anonymous_by_default=d["anonymous_by_default"])
        except services.FeedbackInputError as e:
            form.add_service_error(e)
        else:
            services.send_confirmation(user=user, base_url=request.build_absolute_uri("/"))
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            if nxt:
                request.session["feedback_next"] = nxt
            return redirect(reverse("feedback-registered"))  # post/redirect/get: a refresh sends nothing again
    return render(request, "feedback/register.html", {"form": form, "next": nxt, "breadcrumbs": [HOME, FEEDBACK]},
                  status=400 if form.errors else 200)


@login_required
@require_safe
def registered(request):
    """"Check your email", after creating an account (and on a refresh)."""
    profile = services.profile_of(request.user)
    if profile is None:
        raise PermissionDenied("This page is for residents' accounts")
    if profile.confirmed:
        return redirect(reverse("feedback-account"))
    return render(request, "feedback/registered.html", {"email": request.user.email, "breadcrumbs": [HOME, FEEDBACK]})


@require_safe
def confirm(request, token):
    try:
        user = services.confirm_email(token=token)
    except services.FeedbackInputError as e:
        return render(request, "feedback/confirmed.html", {"problem": e.message, "breadcrumbs": [HOME, FEEDBACK]},
                      status=400)
    nxt = request.session.pop("feedback_next", "") if request.user.is_authenticated and request.user.pk == user.pk \
        else ""
    return render(request, "feedback/confirmed.html", {"next": nxt, "breadcrumbs": [HOME, FEEDBACK]})


@login_required
@require_POST
def resend(request):
    profile = services.profile_of(request.user)
    if profile is None:
        raise PermissionDenied("Only residents' accounts confirm an email address here")
    if not profile.confirmed:
        try:
            services.send_confirmation(user=request.user, base_url=request.build_absolute_uri("/"))
        except services.RateLimited as e:
            messages.error(request, e.message)
            return redirect(_safe_next(request, reverse("feedback-account")))
    messages.success(request, f"We have sent a new link to {request.user.email}.")
    return redirect(_safe_next(request, reverse("feedback-account")))


@login_required
@require_http_methods(["GET", "POST"])
def account(request):
    profile = services.profile_of(request.user)
    if profile is None:
        raise PermissionDenied("This page is for residents' accounts")
    services.touch(request.user)
    form = forms.PreferencesForm(request.POST if request.method == "POST" else None, initial={
        "display_name": profile.display_name, "anonymous_by_default": profile.anonymous_by_default})
    if request.method == "POST" and form.is_valid():
        try:
            services.set_preferences(user=request.user, display_name=form.cleaned_data["display_name"],
                                     anonymous_by_default=form.cleaned_data["anonymous_by_default"])
        except services.FeedbackInputError as e:
            form.add_service_error(e)
        else:
            messages.success(request, "Your settings are saved.")
            return redirect(reverse("feedback-account"))
    notes = queries.notifications(request.user)
    unread = {n.pk for n in notes if n.read_at is None}
    services.mark_read(user=request.user)
    return render(request, "feedback/account.html", {
        "profile": profile, "form": form, "stories": list(queries.own_stories(request.user)),
        "notifications": notes, "unread": unread, "breadcrumbs": [HOME, FEEDBACK],
    }, status=400 if form.errors else 200)


@login_required
@require_safe
def account_data(request):
    if services.profile_of(request.user) is None:
        raise PermissionDenied("This download is for residents' accounts")
    data = services.personal_data(request.user)
    response = HttpResponse(json.dumps(data, indent=1, ensure_ascii=False), content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="my-feedback-data.json"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def erase(request):
    if services.profile_of(request.user) is None:
        raise PermissionDenied("Only residents' accounts can be erased here")
    form = forms.EraseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        count = services.erase_account(user=request.user)
        from django.contrib.auth import logout

        logout(request)
        messages.success(request, f"Your account is erased. {count} stor{'y is' if count == 1 else 'ies are'} kept, "
                                  "shown as from an \"Anonymous resident\".")
        return redirect(reverse("feedback-index"))
    return render(request, "feedback/erase.html", {"form": form, "breadcrumbs": [HOME, FEEDBACK]},
                  status=400 if form.errors else 200)
