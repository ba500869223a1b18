"""API for residents' feedback, under /api/v1/feedback/...

- Anyone reads published stories (``GET /feedback/stories``, ``GET /feedback/stories/{id}``) about services
  and providers they may see; a held or hidden story is seen only by its author and its moderators (else 404).
- A signed-in resident whose email is confirmed posts a story (``POST /feedback/stories``; session + CSRF):
  201 with ``status: held`` and the automatic ``holds``; the same ``submission_key`` again gives the same
  story (200); posting too often, or a spam wave from one address, is 429 with Retry-After.
- Anyone reports a published story (``POST /feedback/stories/{id}/reports``; CSRF).
- The council's admins and commissioners (site administrators for all) see their moderation queue
  (``GET /feedback/moderation``) and decide (``POST /feedback/stories/{id}/moderation``); they and the
  provider's users reply (``POST /feedback/stories/{id}/replies``).

Refusals are 403 (audited), bad input 422 naming the field, as RFC 9457 problem details.
"""

from datetime import datetime

from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import ValidationError
from ninja.security import django_auth

from commissioner.feedback import analysis, queries, services
from commissioner.feedback.models import Story
from commissioner.orgs.auth import client_ip
from commissioner.register.models import Contract, Provider

router = Router(tags=["feedback"])


class ReplyOut(Schema):
    by: str
    text: str
    change: str
    created_at: datetime
    synthetic: bool


class HoldOut(Schema):
    kind: str
    code: str
    reason: str


class StoryOut(Schema):
    id: int
    status: str
    contract: str | None = Field(None, description="The service's ocid.")
    provider: int | None = None
    council: str | None = None
    title: str
    text: str = Field(..., description="Plain text as the resident typed it: escape it before putting it in HTML.")
    overall: int
    recommend: str
    listened: int
    happened: str = Field(..., description="YYYY-MM")
    author: str = Field(..., description="The resident's shown name, or 'Anonymous resident'.")
    classified: bool
    sentiment: str | None = None
    themes: list[str]
    theme_labels: list[str]
    model_version: str
    change: str
    synthetic: bool
    published_at: datetime | None = None
    replies: list[ReplyOut]
    holds: list[HoldOut] | None = Field(None, description="Automatic reasons to hold (author and moderators only).")
    report_count: int | None = Field(None, description="Moderators only.")


class StoryIn(Schema):
    contract: str | None = Field(None, description="The service's ocid (or give provider).")
    provider: int | None = Field(None, description="The provider's id.")
    title: str
    text: str
    overall: int | str = Field(..., description="1-5")
    recommend: str = Field(..., description="yes, no or unsure")
    listened: int | str = Field(..., description="1-5")
    month: int | str
    year: int | str
    anonymous: bool | None = Field(None, description="Default: the resident's setting.")
    submission_key: str = Field("", description="Any unique string: sending the same one again returns the same "
                                                "story instead of a duplicate.")


class ReportIn(Schema):
    reason: str = ""


class ReportOut(Schema):
    counted: bool
    status: str


class ReplyIn(Schema):
    text: str
    change: str = Field("", description="'', 'planned' or 'made'")


class ModerateIn(Schema):
    action: str = Field(..., description="A held or hidden story: publish, redact (publish with personal data "
                                         "removed) or reject. A published story: redact, hide (until it is reviewed) "
                                         "or reject (unpublish). The same decision sent twice changes nothing.")
    note: str = Field("", description="The reason (needed to reject or hide; the author sees it); never quote removed "
                                      "personal data.")
    text: str | None = Field(None, description="For redact: the text to publish (default: automatic removal).")


class ListParams(Schema):
    contract: str | None = Field(None, max_length=200, description="A service's ocid.")
    provider: int | None = Field(None, ge=1, le=2**63 - 1)
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0)


def _out(story, user):
    full = user.is_authenticated and (story.author_id == user.pk or services.can_moderate(user, story))
    return {
        "id": story.pk, "status": story.status, "contract": story.contract.ocid if story.contract_id else None,
        "provider": story.provider_id, "council": story.council.name if story.council_id else None,
        "title": story.title, "text": story.text, "overall": story.overall, "recommend": story.recommend,
        "listened": story.listened, "happened": story.happened.strftime("%Y-%m"), "author": story.author_label,
        "classified": bool(story.model_version), "sentiment": story.sentiment or None, "themes": story.themes,
        "theme_labels": [analysis.theme_label(t) for t in story.themes], "model_version": story.model_version,
        "change": story.change, "synthetic": story.synthetic, "published_at": story.published_at,
        "replies": [{"by": r.by, "text": r.text, "change": r.change, "created_at": r.created_at,
                     "synthetic": r.synthetic} for r in story.replies.all()],
        "holds": story.holds if full else None,
        "report_count": story.report_count if full and services.can_moderate(user, story) else None,
    }


def _invalid(field, message, errors=None):
    """A 422 naming the field (``errors``: every (field, message) problem found, all named at once)."""
    return ValidationError([{"loc": ("body", f), "msg": m, "type": "invalid"} for f, m in (errors or [(field, message)])])


def _story(request, pk):
    story = queries.story(request.user, pk)
    if story is None:
        raise Http404(f"No story with id {pk}.")
    return story


@router.get("/feedback/stories", response=list[StoryOut], url_name="feedback_stories")
def list_stories(request, params: Query[ListParams]):
    """Published stories, newest first, optionally for one service (contract ocid) or provider (an unknown or
    private one is a 422 naming the parameter)."""
    qs = queries.published(request.user)
    if params.contract:
        contract = Contract.objects.visible_to(request.user).filter(ocid=params.contract).first()
        if contract is None:
            raise ValidationError([{"loc": ("query", "contract"), "msg": "no service with this ocid",
                                    "type": "invalid"}])
        qs = qs.filter(contract=contract)
    if params.provider:
        if not Provider.objects.visible_to(request.user).filter(pk=params.provider).exists():
            raise ValidationError([{"loc": ("query", "provider"), "msg": f"no provider with id {params.provider}",
                                    "type": "invalid"}])
        qs = qs.filter(provider_id=params.provider)
    return [_out(s, request.user) for s in qs[params.offset:params.offset + params.limit]]


@router.get("/feedback/stories/{int:story_id}", response=StoryOut, url_name="feedback_story")
def get_story(request, story_id: int):
    """One story: published, or your own, or one you moderate."""
    return _out(_story(request, story_id), request.user)


@router.post("/feedback/stories", response={200: StoryOut, 201: StoryOut}, auth=django_auth,
             url_name="feedback_story_create")
def create_story(request, payload: StoryIn):
    """Share a story as a signed-in resident (email confirmed). It is held for a moderator."""
    contract = provider = None
    if payload.contract:
        contract = Contract.objects.visible_to(request.user).filter(ocid=payload.contract).first()
        if contract is None:
            raise _invalid("contract", f"no service with ocid '{payload.contract[:200]}'")
    if payload.provider:
        provider = Provider.objects.visible_to(request.user).filter(pk=payload.provider).first()
        if provider is None:
            raise _invalid("provider", f"no provider with id {payload.provider}")
    try:
        story, created = services.post_story(
            author=request.user, contract=contract, provider=provider, title=payload.title, text=payload.text,
            overall=payload.overall, recommend=payload.recommend, listened=payload.listened, month=payload.month,
            year=payload.year, anonymous=payload.anonymous, ip=client_ip(request),
            submission_key=payload.submission_key)
    except services.FeedbackInputError as e:
        raise _invalid(e.field, e.message, e.errors) from None
    except services.RateLimited as e:
        from commissioner.api import problem

        return problem(request, 429, e.message, headers={"Retry-After": str(e.retry_after)})
    story = queries.story(request.user, story.pk)
    return Status(201 if created else 200, _out(story, request.user))


@router.post("/feedback/stories/{int:story_id}/reports", response={200: ReportOut, 201: ReportOut},
             url_name="feedback_story_report")
def report_story(request, story_id: int, payload: ReportIn):
    """Report a published story (anyone; once each). After 3 reports it is hidden until reviewed."""
    story = _story(request, story_id)
    try:
        counted = services.report_story(story=story, reporter=request.user, ip=client_ip(request),
                                        reason=payload.reason)
    except services.FeedbackInputError as e:
        raise _invalid(e.field, e.message, e.errors) from None
    story.refresh_from_db()
    return Status(201 if counted else 200, {"counted": counted, "status": story.status})


@router.post("/feedback/stories/{int:story_id}/replies", response={201: ReplyOut}, auth=django_auth,
             url_name="feedback_story_reply")
def reply_story(request, story_id: int, payload: ReplyIn):
    """A public reply by the council (admins, commissioners) or the provider's users; the author is told."""
    story = _story(request, story_id)
    try:
        row = services.reply(actor=request.user, story=story, text=payload.text, change=payload.change)
    except services.FeedbackInputError as e:
        raise _invalid(e.field, e.message, e.errors) from None
    return Status(201, {"by": row.by, "text": row.text, "change": row.change, "created_at": row.created_at,
                        "synthetic": row.synthetic})


@router.get("/feedback/moderation", response=list[StoryOut], auth=django_auth, url_name="feedback_moderation")
def moderation_queue(request, status: str | None = None):
    """Held and hidden stories you moderate, oldest first (``status``: held or hidden to narrow it)."""
    if status not in (None, Story.Status.HELD, Story.Status.HIDDEN):
        raise ValidationError([{"loc": ("query", "status"), "msg": "use held or hidden", "type": "invalid"}])
    if not queries.is_moderator(request.user):
        services._refuse(request.user, None, "moderate residents' feedback",
                         message="Only councils' admins and commissioners, and site administrators, moderate")
    return [_out(s, request.user) for s in queries.moderation_queue(request.user, status)]


@router.post("/feedback/stories/{int:story_id}/moderation", response=StoryOut, auth=django_auth,
             url_name="feedback_story_moderate")
def moderate_story(request, story_id: int, payload: ModerateIn):
    """Moderate a story: only the decisions that apply to it as it is now (422 otherwise)."""
    story = _story(request, story_id)
    try:
        services.moderate(actor=request.user, story=story, action=payload.action, note=payload.note,
                          text=payload.text)
    except services.FeedbackInputError as e:
        raise _invalid(e.field, e.message, e.errors) from None
    return _out(queries.story(request.user, story_id), request.user)

