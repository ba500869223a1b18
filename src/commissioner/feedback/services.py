"""The only writes for residents' feedback: resident accounts, stories, moderation, reports, replies, block
lists, notifications, personal data (download, erasure, retention) and the demo.

Every function takes keyword arguments, runs in one transaction and records the change in the audit
trail (``orgs.services.audit``), never the story's text or the resident's email. Bad input raises
``FeedbackInputError`` naming the field; a user who may not do something gets ``Refused`` (audited);
posting too often raises ``RateLimited`` (counted from ``PostAttempt`` rows in the database, so it holds
across server processes).
"""

import hashlib
import math
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from commissioner.feedback import analysis
from commissioner.feedback.models import (
    BlockedTerm,
    Change,
    ModerationEvent,
    Notification,
    PostAttempt,
    Recommend,
    Report,
    ResidentProfile,
    Story,
)
from commissioner.methods import moderation
from commissioner.orgs import tenancy
from commissioner.orgs.models import AuditEvent, LoginAttempt
from commissioner.orgs.services import Refused, audit
from commissioner.register.models import Contract, Provider  # noqa: F401  (Provider: for callers)

CONFIRM_SALT = "commissioner.feedback.confirm"
MAX_TEXT = 5000
MIN_TEXT = 20
MAX_TITLE = 120
MAX_REPLY = 3000
REPEAT_DAYS = 30  # the same text posted within this many days is held as spam


class FeedbackInputError(ValueError):
    """Bad input: ``field`` and ``message`` name the first problem; ``errors`` lists every problem found, as
    (field, message) pairs, so that a page shows them all at once. ``date_parts`` says which of the month and
    year a "happened" problem is about (the page marks those boxes)."""

    def __init__(self, field, message, errors=None, date_parts=("month", "year")):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message
        self.errors = list(errors or [(field, message)])
        self.date_parts = tuple(date_parts)


def _raise_all(errors, date_parts=("month", "year")):
    if errors:
        raise FeedbackInputError(*errors[0], errors=errors, date_parts=date_parts)


class RateLimited(Exception):
    def __init__(self, message, retry_after):
        super().__init__(message)
        self.message, self.retry_after = message, retry_after


# Who is who ----------------------------------------------------------------------------------------

def profile_of(user):
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.resident
    except ResidentProfile.DoesNotExist:
        return None


def is_resident(user):
    """A resident: an account with a resident profile and no organisation membership."""
    return profile_of(user) is not None and not tenancy.member_org_ids(user)


def can_moderate(user, story):
    """The council's admins and commissioners for its contracts' stories; site administrators for all."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_superuser or (story.council_id is not None and tenancy.can_edit(user, story.council_id))


def can_reply(user, story):
    """The council's admins and commissioners, the provider's users, site administrators."""
    if user is None or not user.is_authenticated:
        return False
    return can_moderate(user, story) or (story.provider_id is not None
                                         and story.provider_id in tenancy.provider_ids(user))


def _refuse(user, obj, what, organisation=None, message=None):
    """Raise ``Refused``, logged in the audit trail against the object (else the organisation, else the user)."""
    authenticated = user is not None and user.is_authenticated
    target = obj or organisation or (user if authenticated else None)
    refusal = Refused(user, target, what, organisation, message)
    if target is not None:
        refusal.log()
    raise refusal


def providers_of(contract):
    seen = {}
    for cs in contract.contract_suppliers.select_related("supplier__provider").order_by("id"):
        if cs.supplier.provider is not None:
            seen.setdefault(cs.supplier.provider_id, cs.supplier.provider)
    return list(seen.values())


# Block lists ---------------------------------------------------------------------------------------

def blocked_words():
    return list(BlockedTerm.objects.filter(kind=BlockedTerm.Kind.WORD).values_list("value", flat=True))


def email_blocked(email):
    email = (email or "").strip().lower()
    domain = email.rsplit("@", 1)[-1]
    values = set(BlockedTerm.objects.filter(kind=BlockedTerm.Kind.EMAIL).values_list("value", flat=True))
    return email in values or f"@{domain}" in values


def add_blocked(*, actor, kind, value):
    """A site administrator adds a word (or phrase) or an email address (or ``@domain``) to the block list."""
    if not (actor is not None and actor.is_authenticated and actor.is_superuser):
        _refuse(actor, None, "change the feedback block lists", message="Only site administrators can change the "
                                                                          "block lists")
    value = " ".join((value or "").split()).lower()
    if kind not in BlockedTerm.Kind.values:
        raise FeedbackInputError("kind", "choose a word or an email address")
    if not value:
        raise FeedbackInputError("value", "Enter a word, phrase or email address to block")
    if len(value) > 200:
        raise FeedbackInputError("value", "Enter 200 characters or fewer")
    if kind == BlockedTerm.Kind.EMAIL and not value.startswith("@"):
        try:
            validate_email(value)
        except ValidationError:
            raise FeedbackInputError("value", "Enter an email address like name@example.com, or a domain like "
                                              "@example.com") from None
    with transaction.atomic():
        term, created = BlockedTerm.objects.get_or_create(kind=kind, value=value, defaults={"created_by": actor})
        if created:
            audit(actor=actor, action="blocked", obj=term, after={"kind": kind, "value": value})
    return term


def remove_blocked(*, actor, term):
    if not (actor is not None and actor.is_authenticated and actor.is_superuser):
        _refuse(actor, term, "change the feedback block lists", message="Only site administrators can change the "
                                                                          "block lists")
    with transaction.atomic():
        audit(actor=actor, action="unblocked", obj=term, before={"kind": term.kind, "value": term.value})
        term.delete()


# Resident accounts ---------------------------------------------------------------------------------

def _clean_display_name(name):
    name = " ".join((name or "").split())
    if len(name) > 60:
        raise FeedbackInputError("display_name", "Enter a name of 60 characters or fewer")
    if name and moderation.check(name, blocked_words=blocked_words()):
        raise FeedbackInputError("display_name", "Choose another name: it cannot contain contact details, links or "
                                                 "offensive words")
    return name


def registration_problems(*, email, password, display_name=""):
    """Every problem with a resident's sign-up, as (field, message) pairs ([]: none). A value given as None is
    not checked (the page has already said it is missing)."""
    User = get_user_model()
    problems = []
    if email is not None:
        email = (email or "").strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            problems.append(("email", "Enter an email address in the correct format, like name@example.com"))
        else:
            if len(email) > 150:
                problems.append(("email", "Enter an email address of 150 characters or fewer"))
            elif email_blocked(email):
                problems.append(("email", "This email address cannot be used to share feedback"))
            elif User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).exists():
                problems.append(("email", "An account with this email address already exists: sign in instead"))
    if display_name is not None:
        try:
            _clean_display_name(display_name)
        except FeedbackInputError as e:
            problems.append((e.field, e.message))
    if password is not None:
        candidate = User(username=(email or "").strip().lower(), email=(email or "").strip().lower())
        try:
            password_validation.validate_password(password or "", candidate)
        except ValidationError as e:
            problems.append(("password", " ".join(e.messages)))
    return problems


def register_resident(*, email, password, display_name="", anonymous_by_default=False):
    """A resident's account (email as the sign-in name, Argon2-hashed password), not confirmed yet. Every
    problem is named at once (``FeedbackInputError.errors``)."""
    User = get_user_model()
    email = (email or "").strip().lower()
    _raise_all(registration_problems(email=email, password=password or "", display_name=display_name))
    display_name = _clean_display_name(display_name)
    candidate = User(username=email, email=email)
    try:
        with transaction.atomic():
            candidate.set_password(password)
            candidate.save()
            profile = ResidentProfile.objects.create(user=candidate, display_name=display_name,
                                                     anonymous_by_default=bool(anonymous_by_default),
                                                     last_active_at=timezone.now())
            audit(actor_label="resident sign-up", action="resident-registered", obj=profile,
                  after={"user": candidate.pk})
    except IntegrityError:  # the same email registered twice at once
        raise FeedbackInputError("email", "An account with this email address already exists: sign in instead") \
            from None
    return candidate


def confirmation_token(user):
    return signing.dumps({"u": user.pk, "e": user.email}, salt=CONFIRM_SALT)


RESEND_SECONDS = 300  # at most one confirmation email an account in this time: nobody's inbox is flooded


def send_confirmation(*, user, base_url=None, now=None):
    """Email the link that confirms the address (valid FEEDBACK_CONFIRM_DAYS days); RateLimited if one was sent
    less than RESEND_SECONDS ago (the earlier link still works)."""
    now = now or timezone.now()
    with transaction.atomic():
        profile = ResidentProfile.objects.select_for_update().filter(user=user).first()
        if profile is not None:
            last = profile.confirmation_sent_at
            if last is not None and (now - last).total_seconds() < RESEND_SECONDS:
                wait = RESEND_SECONDS - int((now - last).total_seconds())
                raise RateLimited("We sent you a link a few minutes ago: check your email, including any spam "
                                  f"folder. You can ask for another in {max(1, wait // 60 + 1)} minutes.", wait)
            profile.confirmation_sent_at = now
            profile.save(update_fields=["confirmation_sent_at"])
    base = (base_url or settings.REMINDER_BASE_URL).rstrip("/")
    link = f"{base}/feedback/account/confirm/{confirmation_token(user)}/"
    send_mail("Confirm your email address to share feedback",
              f"Confirm your email address to share your experience of local services:\n\n{link}\n\n"
              f"The link works for {settings.FEEDBACK_CONFIRM_DAYS} days. If you did not ask for an account, "
              "ignore this email: nothing will be posted.", None, [user.email])
    return link


def confirm_email(*, token):
    """The user whose address the token confirms; FeedbackInputError if it is wrong or too old."""
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=timedelta(days=settings.FEEDBACK_CONFIRM_DAYS))
    except signing.SignatureExpired:
        raise FeedbackInputError("token", "This link has expired: sign in and ask for a new one") from None
    except signing.BadSignature:
        raise FeedbackInputError("token", "This link is not valid: check it was copied whole") from None
    profile = (ResidentProfile.objects.select_related("user").filter(user_id=data.get("u")).first())
    if profile is None or profile.user.email != data.get("e"):
        raise FeedbackInputError("token", "This link is not valid any more")
    if profile.email_confirmed_at is None:
        with transaction.atomic():
            profile.email_confirmed_at = timezone.now()
            profile.save(update_fields=["email_confirmed_at"])
            audit(actor=profile.user, action="resident-confirmed", obj=profile, after={"confirmed": True})
    return profile.user


def set_preferences(*, user, display_name, anonymous_by_default):
    profile = profile_of(user)
    if profile is None:
        _refuse(user, None, "change resident preferences", message="Only residents' accounts have these settings")
    display_name = _clean_display_name(display_name)
    with transaction.atomic():
        before = {"anonymous_by_default": profile.anonymous_by_default, "has_display_name": bool(profile.display_name)}
        profile.display_name, profile.anonymous_by_default = display_name, bool(anonymous_by_default)
        profile.save(update_fields=["display_name", "anonymous_by_default"])
        audit(actor=user, action="updated", obj=profile, before=before,
              after={"anonymous_by_default": profile.anonymous_by_default, "has_display_name": bool(display_name)})
    return profile


def touch(user):
    """Remember that a resident used their account (for the inactivity retention period)."""
    profile = profile_of(user)
    if profile is not None:
        ResidentProfile.objects.filter(pk=profile.pk).update(last_active_at=timezone.now())


# Stories -------------------------------------------------------------------------------------------

def digest(text):
    return hashlib.sha256(moderation.text_digest_key(text).encode()).hexdigest()


def _rating(value, field, label):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise FeedbackInputError(field, f"Select {label} from 1 to 5") from None
    if not 1 <= number <= 5:
        raise FeedbackInputError(field, f"Select {label} from 1 to 5")
    return number


def clean_story(*, title, text, overall, recommend, listened, month, year, today=None):
    """The story's fields checked: a dict, or FeedbackInputError naming every problem (``errors``; a problem
    with when it happened is on "happened", with ``date_parts`` saying whether the month, the year or both)."""
    today = today or timezone.localdate()
    errors, date_parts = [], ("month", "year")
    title = " ".join(str(title or "").split())
    if not title:
        errors.append(("title", "Enter a short title for your story"))
    elif len(title) > MAX_TITLE:
        errors.append(("title", f"Enter a title of {MAX_TITLE} characters or fewer"))
    text = str(text or "").replace("\r\n", "\n").strip()
    if "\x00" in text:
        errors.append(("text", "Your story contains a character that cannot be stored"))
    elif len(text) < MIN_TEXT:
        errors.append(("text", f"Tell us a little more: at least {MIN_TEXT} characters"))
    elif len(text) > MAX_TEXT:
        errors.append(("text", f"Your story must be {MAX_TEXT:,} characters or fewer"))
    ratings = {}
    for field, value, label in (("overall", overall, "how good the service was overall"),
                                ("listened", listened, "how far you felt listened to")):
        try:
            ratings[field] = _rating(value, field, label)
        except FeedbackInputError as e:
            errors.append((e.field, e.message))
    overall, listened = ratings.get("overall"), ratings.get("listened")
    if recommend not in Recommend.values:
        errors.append(("recommend", "Select whether you would recommend the service"))
    happened = None
    month_text, year_text = str(month if month is not None else "").strip(), str(year if year is not None
                                                                                 else "").strip()
    if not month_text and not year_text:
        errors.append(("happened", "Enter when it happened: the month and the year"))
    elif not month_text or not year_text:
        missing = "month" if not month_text else "year"
        errors.append(("happened", f"When it happened must include a {missing}"))
        date_parts = (missing,)
    else:
        bad = []
        try:
            month_number = int(month_text)
            if not 1 <= month_number <= 12:
                raise ValueError
        except ValueError:
            bad.append("month")
        try:
            year_number = int(year_text)
            if not 1990 <= year_number <= today.year:
                raise ValueError
        except ValueError:
            bad.append("year")
        if bad == ["month"]:
            errors.append(("happened", "The month must be from 1 to 12"))
        elif bad == ["year"]:
            errors.append(("happened", f"The year must be from 1990 to {today.year}"))
        elif bad:
            errors.append(("happened", f"Enter when it happened as a month and a year, like 3 {today.year}"))
        else:
            happened = date(year_number, month_number, 1)
            if happened > today:
                errors.append(("happened", "When it happened must be this month or in the past"))
        date_parts = tuple(bad) or date_parts
    _raise_all(errors, date_parts)
    return {"title": title, "text": text, "overall": overall, "recommend": recommend, "listened": listened,
            "happened": happened}


def _window_count(qs, seconds, now):
    since = now - timedelta(seconds=seconds)
    return list(qs.filter(at__gte=since).order_by("at").values_list("at", flat=True))


def rate_limit(*, user, ip, now=None):
    """None if the user may post now, else (message, seconds to wait)."""
    now = now or timezone.now()
    n, seconds = settings.FEEDBACK_LIMIT_ACCOUNT
    mine = _window_count(PostAttempt.objects.filter(user=user, accepted=True), seconds, now)
    if len(mine) >= n:
        wait = (mine[-n] + timedelta(seconds=seconds) - now).total_seconds()
        return ((f"You have shared {n} stories recently, the most we take from one account in "
                f"{_duration(seconds)}: try again in {_duration(wait)}"), math.ceil(max(wait, 1)))
    if ip:
        n, seconds = settings.FEEDBACK_LIMIT_ADDRESS
        theirs = _window_count(PostAttempt.objects.filter(ip=ip), seconds, now)
        if len(theirs) >= n:
            wait = (theirs[-n] + timedelta(seconds=seconds) - now).total_seconds()
            return ((f"Too many stories have been sent from your internet connection ({len(theirs)} in "
                    f"{_duration(seconds)}), which looks like a spam wave: they are refused for now. Try again in "
                    f"{_duration(wait)}"), math.ceil(max(wait, 1)))
    return None


def _duration(seconds):
    seconds = max(int(seconds), 1)
    if seconds >= 2 * 3600:
        return f"{math.ceil(seconds / 3600)} hours"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _subject(contract, provider):
    if contract is None and provider is None:
        raise FeedbackInputError("subject", "Choose the service or provider your story is about")
    if contract is not None:
        providers = providers_of(contract)
        if provider is None:
            provider = providers[0] if providers else None
        elif provider.pk not in {p.pk for p in providers}:
            raise FeedbackInputError("provider", "That provider does not deliver this service")
    return contract, provider


def post_story(*, author, contract=None, provider=None, title, text, overall, recommend, listened, month, year,
               anonymous=None, ip="", submission_key="", today=None, synthetic=False):
    """A resident's story, always held for a moderator; returns (story, created). The same submission sent
    twice (``submission_key``) gives the first story back. Automatic holds say why a moderator should look
    closely; posting too often is refused (``RateLimited``), and so is a spam wave from one address."""
    profile = profile_of(author)
    if profile is None or not is_resident(author):
        _refuse(author, contract or provider, "post a story",
                message="Stories are shared from a resident's account: sign in as a resident")
    if profile.email_confirmed_at is None:
        _refuse(author, contract or provider, "post a story before confirming their email",
                message="Confirm your email address first: follow the link we emailed you")
    if email_blocked(author.email):
        _refuse(author, contract or provider, "post a story from a blocked address",
                message="This account cannot share feedback")
    submission_key = str(submission_key or "")[:64]
    if submission_key:
        existing = Story.objects.filter(author=author, submission_key=submission_key).first()
        if existing is not None:
            return existing, False
    contract, provider = _subject(contract, provider)
    data = clean_story(title=title, text=text, overall=overall, recommend=recommend, listened=listened,
                       month=month, year=year, today=today)
    ip = (ip or "")[:64]
    limited = rate_limit(user=author, ip=ip)
    if limited:
        PostAttempt.objects.create(user=author, ip=ip, accepted=False)
        audit(actor=author, action="refused", obj=profile, after={"attempt": "post a story", "why": "rate limit"})
        raise RateLimited(*limited)
    now = timezone.now()
    body_digest = digest(data["text"])
    recent = Story.objects.filter(created_at__gte=now - timedelta(days=REPEAT_DAYS))
    recent_texts = [data["text"]] if recent.filter(digest=body_digest).exists() else []
    holds = moderation.check(f"{data['title']}\n{data['text']}", blocked_words=blocked_words(),
                             recent_texts=recent_texts)
    if recent_texts and not any(h.code == "repeated_text" for h in holds):
        holds.append(moderation.Hold("spam", "repeated_text", "The same text was posted before"))
    if ip:
        wave = PostAttempt.objects.filter(ip=ip, at__gte=now - timedelta(seconds=settings.FEEDBACK_LIMIT_ADDRESS[1]))
        if wave.count() >= settings.FEEDBACK_WAVE_HOLD:
            holds.append(moderation.Hold("spam", "wave", "Many stories sent from one internet connection"))
    result = analysis.classify(data["text"])
    try:
        with transaction.atomic():
            story = Story.objects.create(
                contract=contract, provider=provider, council=contract.owner if contract is not None else None,
                author=author, anonymous=profile.anonymous_by_default if anonymous is None else bool(anonymous),
                digest=body_digest, submission_key=submission_key, holds=[h.as_dict() for h in holds],
                sentiment=result.sentiment if result else "", themes=result.themes if result else [],
                model_version=result.model_version if result else "", synthetic=synthetic, **data)
            ModerationEvent.objects.create(story=story, actor=None, actor_label="automatic checks", action="held",
                                           reasons=[h.code for h in holds],
                                           note="Held for a moderator" + (": " + "; ".join(h.reason for h in holds)
                                                                          if holds else ""))
            PostAttempt.objects.create(user=author, ip=ip, accepted=True)
            profile.last_active_at = now
            profile.save(update_fields=["last_active_at"])
            audit(actor=author, organisation=story.council, action="story-submitted", obj=story,
                  after={"status": story.status, "holds": [h.code for h in holds],
                         "contract": contract.ocid if contract else None, "provider": provider.pk if provider else None})
    except IntegrityError:  # the same submission, twice at once
        existing = Story.objects.filter(author=author, submission_key=submission_key).first()
        if existing is None:
            raise
        return existing, False
    return story, True


def _notify(story, text):
    """Tell the story's author (in the app and by email), if the account still exists."""
    if story.author_id is None:
        return
    Notification.objects.create(user_id=story.author_id, story=story, text=text[:500])
    if story.author.email:
        link = f"{settings.REMINDER_BASE_URL}/feedback/stories/{story.pk}/"
        send_mail(f"Your story: {story.title[:80]}", f"{text}\n\n{link}\n", None, [story.author.email],
                  fail_silently=True)


ACTIONS = {"publish": "published", "redact": "published with personal data removed", "reject": "not published",
           "hide": "hidden until it is reviewed"}
# What a moderator may do to a story in each state: a held or hidden story is reviewed (publish, publish without
# personal data, do not publish); a published one may have personal data removed, be hidden for review, or be
# unpublished; a story that was not published stays so.
ACTIONS_FOR = {
    Story.Status.HELD: ("publish", "redact", "reject"),
    Story.Status.HIDDEN: ("publish", "redact", "reject"),
    Story.Status.PUBLISHED: ("redact", "hide", "reject"),
    Story.Status.REJECTED: (),
}
NEEDS_REASON = ("reject", "hide")


def actions_for(story):
    """The moderation decisions that apply to the story as it is now."""
    return ACTIONS_FOR.get(story.status, ())


def _sentence(text):
    text = (text or "").strip()
    return text if not text or text[-1] in ".!?" else text + "."


def moderate(*, actor, story, action, note="", text=None):
    """A moderator publishes a held (or hidden) story, publishes it with personal data removed (``text``: the
    moderator's edited text; default: what ``redact`` removes), or rejects it; a published story may have
    personal data removed, be hidden until it is reviewed, or be unpublished (``reject``). Rejecting and hiding
    need a reason (the author sees it). The same decision sent twice changes nothing the second time. The history
    keeps the decision and the reason, not the removed text."""
    if not can_moderate(actor, story):
        _refuse(actor, story, "moderate stories", story.council)
    if action not in ACTIONS:
        raise FeedbackInputError("action", "Choose publish, publish without personal data, hide, or do not publish")
    note = " ".join((note or "").split())[:500]
    if action in NEEDS_REASON and not note:
        raise FeedbackInputError("note", "Give the reason the story is not published (it is shown to the author)"
                                 if action == "reject" else "Give the reason the story is hidden (it is shown to "
                                                            "the author)")
    with transaction.atomic():
        story = Story.objects.select_for_update().get(pk=story.pk)
        before = {"status": story.status, "report_count": story.report_count}
        done = {"publish": Story.Status.PUBLISHED, "reject": Story.Status.REJECTED, "hide": Story.Status.HIDDEN}
        if done.get(action) == story.status:  # sent twice (a double click, an old page): already done
            return story
        if action not in actions_for(story):
            raise FeedbackInputError("action", "This story was not published: it cannot be published or changed now"
                                     if story.status == Story.Status.REJECTED else
                                     f"This story is {story.get_status_display().lower()}: choose another decision")
        reasons = []
        if action == "redact":
            new = moderation.redact(story.text) if text is None else str(text).replace("\r\n", "\n").strip()
            if len(new) < MIN_TEXT or len(new) > MAX_TEXT:
                raise FeedbackInputError("text", f"The edited story must be {MIN_TEXT} to {MAX_TEXT:,} characters")
            new_title = moderation.redact(story.title)
            if new == story.text and new_title == story.title:
                last = story.moderation.order_by("-at", "-id").first()
                if story.status == Story.Status.PUBLISHED and last is not None and last.action == "redact":
                    return story  # the same edit sent twice
                raise FeedbackInputError("text", "Nothing was removed: edit the text, or publish it as it is")
            reasons = [h["code"] for h in story.holds if h.get("kind") == "personal_data"] or ["personal_data"]
            story.text, story.title = new, new_title
            story.digest = digest(new)
        was_published = story.status == Story.Status.PUBLISHED
        if action == "reject":
            story.status = Story.Status.REJECTED
        elif action == "hide":
            story.status = Story.Status.HIDDEN
        else:
            story.status = Story.Status.PUBLISHED
            story.published_at = story.published_at or timezone.now()
            story.reports.filter(reviewed=False).update(reviewed=True)
            story.report_count = 0
        story.save()
        ModerationEvent.objects.create(story=story, actor=actor, actor_label=actor.get_username(), action=action,
                                       reasons=reasons, note=note)
        audit(actor=actor, organisation=story.council, action=f"story-{action}", obj=story, before=before,
              after={"status": story.status, "reasons": reasons, "note": note})
        if action == "redact" and was_published:
            message = ("We removed personal details (such as names, phone numbers or addresses) from your published "
                       "story, as the moderation policy says.")
        elif action == "reject" and was_published:
            message = f"Your story is no longer published. The moderator's reason: {_sentence(note)}"
        else:
            message = {"publish": "Your story has been published.",
                       "redact": "Your story has been published. We removed personal details (such as names, phone "
                                 "numbers or addresses) first, as the moderation policy says.",
                       "reject": f"Your story was not published. The moderator's reason: {_sentence(note)}",
                       "hide": ("Your story is hidden while a moderator looks at it again. The moderator's reason: "
                                f"{_sentence(note)}")}[action]
        _notify(story, message)
    return story


def report_network(ip):
    """The network a report comes from, kept instead of the address: an IPv4 /24 or an IPv6 /64, so that one
    person cannot hide a story by reporting it from several addresses of their own connection (and less is
    kept about the reader)."""
    import ipaddress

    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return (ip or "")[:64]
    return str(ipaddress.ip_network(f"{address}/{24 if address.version == 4 else 64}", strict=False))


def report_story(*, story, reporter=None, ip="", reason=""):
    """Anyone reports a published story, once each (by account, else by network: ``report_network``); at
    FEEDBACK_REPORTS_TO_HIDE reports it is hidden until a moderator reviews it. Returns True if counted."""
    if story.status != Story.Status.PUBLISHED:
        raise FeedbackInputError("story", "Only published stories can be reported")
    reporter = reporter if reporter is not None and reporter.is_authenticated else None
    ip = report_network(ip)
    reason = " ".join((reason or "").split())[:500]
    with transaction.atomic():
        story = Story.objects.select_for_update().get(pk=story.pk)
        mine = Report.objects.filter(story=story, reviewed=False)
        mine = mine.filter(reporter=reporter) if reporter is not None else mine.filter(reporter__isnull=True, ip=ip)
        if mine.exists():
            return False
        Report.objects.create(story=story, reporter=reporter, ip=ip, reason=reason)
        story.report_count = Report.objects.filter(story=story, reviewed=False).count()
        fields = ["report_count"]
        if story.report_count >= settings.FEEDBACK_REPORTS_TO_HIDE and story.status == Story.Status.PUBLISHED:
            story.status = Story.Status.HIDDEN
            fields.append("status")
            ModerationEvent.objects.create(story=story, actor_label="automatic", action="hidden", reasons=["reports"],
                                           note=f"Hidden after {story.report_count} reports until a moderator "
                                                "reviews it")
        story.save(update_fields=fields)
        audit(actor=reporter, actor_label="" if reporter else "anonymous reader", organisation=story.council,
              action="story-reported", obj=story, after={"reports": story.report_count, "status": story.status})
    return True


def reply(*, actor, story, text, change=""):
    """The council or the provider replies in public, optionally marking a change planned or made; the author
    is told in the app and by email."""
    if not can_reply(actor, story):
        _refuse(actor, story, "reply to stories", story.council,
                message="Only the council's admins and commissioners and the provider's users can reply")
    if story.status != Story.Status.PUBLISHED:
        raise FeedbackInputError("story", "Only published stories can be replied to")
    text = str(text or "").replace("\r\n", "\n").strip()
    if not text:
        raise FeedbackInputError("text", "Enter your reply")
    if len(text) > MAX_REPLY:
        raise FeedbackInputError("text", f"Your reply must be {MAX_REPLY:,} characters or fewer")
    if change not in Change.values:
        raise FeedbackInputError("change", "Choose no change, change planned or change made")
    from commissioner.feedback.models import Reply

    organisation = provider = None
    if story.council_id and tenancy.can_edit(actor, story.council_id) and not (
            actor.is_superuser and story.council_id not in tenancy.member_org_ids(actor)):
        organisation = story.council
    elif story.provider_id and story.provider_id in tenancy.provider_ids(actor):
        provider = story.provider
    with transaction.atomic():
        row = Reply.objects.create(story=story, author=actor, organisation=organisation, provider=provider, text=text,
                                   change=change)
        if change:
            Story.objects.filter(pk=story.pk).update(change=change)
            story.change = change
        audit(actor=actor, organisation=story.council, action="story-replied", obj=story,
              after={"reply": row.pk, "change": change, "by": row.by})
        label = dict(Change.choices)[change] if change else ""
        _notify(story, f"{row.by} replied to your story{f' ({label.lower()})' if change else ''}.")
    return row


def mark_read(*, user):
    Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


# Personal data -------------------------------------------------------------------------------------

def personal_data(user):
    """Everything held about a resident, as JSON-safe data (their download)."""
    profile = profile_of(user)
    stories = Story.objects.filter(author=user).select_related("contract", "provider").prefetch_related("replies")
    return {
        "account": {"email": user.email, "sign_in_name": user.get_username(),
                    "joined": user.date_joined.isoformat(), "last_sign_in": user.last_login.isoformat()
                    if user.last_login else None},
        "profile": {"display_name": profile.display_name if profile else "",
                    "anonymous_by_default": profile.anonymous_by_default if profile else False,
                    "email_confirmed_at": profile.email_confirmed_at.isoformat()
                    if profile and profile.email_confirmed_at else None,
                    "synthetic": profile.synthetic if profile else False},
        "stories": [{"id": s.pk, "about": s.subject_name, "contract": s.contract.ocid if s.contract_id else None,
                     "provider": s.provider_id, "title": s.title, "text": s.text, "overall": s.overall,
                     "recommend": s.recommend, "listened": s.listened, "happened": s.happened.isoformat()[:7],
                     "anonymous": s.anonymous, "status": s.status, "submitted": s.created_at.isoformat(),
                     "synthetic": s.synthetic,
                     "replies": [{"by": r.by, "text": r.text, "change": r.change, "at": r.created_at.isoformat()}
                                 for r in s.replies.all()]} for s in stories],
        "reports_made": [{"story": r.story_id, "reason": r.reason, "at": r.created_at.isoformat()}
                         for r in Report.objects.filter(reporter=user)],
        "notifications": [{"text": n.text, "at": n.created_at.isoformat()}
                          for n in Notification.objects.filter(user=user)],
        "posting_attempts": [{"at": a.at.isoformat(), "address": a.ip, "accepted": a.accepted}
                             for a in PostAttempt.objects.filter(user=user)],
    }


def _anonymise(user, why, actor_label):
    """Delete the account and every trace of its identity; its stories stay, anonymous."""
    pk, username = user.pk, user.get_username()
    stories = Story.objects.filter(author=user)
    count = stories.count()
    stories.update(author=None, anonymous=True, submission_key="")
    Report.objects.filter(reporter=user).update(reporter=None, ip="")
    PostAttempt.objects.filter(user=user).delete()
    LoginAttempt.objects.filter(username__iexact=username).delete()
    # the audit trail keeps what happened, not who the resident was
    AuditEvent.objects.filter(actor=user).update(actor=None, actor_label="erased resident")
    AuditEvent.objects.filter(model=user._meta.label, object_pk=str(pk)).update(
        object_repr="erased resident", before=None, after=None)
    profile = profile_of(user)
    marker = profile or user
    audit(actor_label=actor_label, action=why, obj=marker, after={"stories_kept_anonymous": count})
    AuditEvent.objects.filter(model=marker._meta.label, object_pk=str(marker.pk)).update(object_repr="erased resident")
    user.delete()
    return count


def erase_account(*, user):
    """A resident erases their account: the stories stay, anonymous; returns how many."""
    if not is_resident(user):
        _refuse(user, None, "erase a resident account", message="Only residents' accounts can be erased here")
    with transaction.atomic():
        return _anonymise(user, "resident-erased", "resident (own request)")


def retention(*, today=None):
    """Apply the retention periods (settings.FEEDBACK_RETENTION_DAYS); returns what was done."""
    now = timezone.now() if today is None else timezone.make_aware(
        timezone.datetime.combine(today, timezone.datetime.min.time()))
    days = settings.FEEDBACK_RETENTION_DAYS
    done = {"anonymised": 0, "stories_kept": 0, "unconfirmed_deleted": 0, "attempts_deleted": 0,
            "report_addresses_cleared": 0, "texts_cleared": 0}
    with transaction.atomic():
        inactive = now - timedelta(days=days["inactive_account"])
        residents = (ResidentProfile.objects.select_related("user").filter(email_confirmed_at__isnull=False)
                     .exclude(user__memberships__isnull=False))
        for profile in residents:
            last = max(d for d in (profile.last_active_at, profile.user.last_login, profile.created_at) if d)
            if last < inactive:
                done["stories_kept"] += _anonymise(profile.user, "resident-anonymised", "retention")
                done["anonymised"] += 1
        unconfirmed = ResidentProfile.objects.select_related("user").filter(
            email_confirmed_at__isnull=True, created_at__lt=now - timedelta(days=days["unconfirmed_account"]))
        for profile in unconfirmed:
            _anonymise(profile.user, "resident-unconfirmed-deleted", "retention")
            done["unconfirmed_deleted"] += 1
        done["attempts_deleted"] = PostAttempt.objects.filter(
            at__lt=now - timedelta(days=days["post_attempts"])).delete()[0]
        done["report_addresses_cleared"] = Report.objects.filter(
            created_at__lt=now - timedelta(days=days["report_addresses"])).exclude(ip="").update(ip="")
        old = Story.objects.filter(status=Story.Status.REJECTED, updated_at__lt=now - timedelta(
            days=days["rejected_text"])).exclude(text="")
        done["texts_cleared"] = old.update(text="", title="(removed)")
    return done


def classify_pending(*, limit=1000):
    """Classify stories stored "not classified yet" (the model was missing); returns how many."""
    m = analysis.model()
    if m is None:
        return 0
    n = 0
    for story in Story.objects.filter(model_version="").exclude(text="")[:limit]:
        result = analysis.classify(story.text)
        Story.objects.filter(pk=story.pk).update(sentiment=result.sentiment, themes=result.themes,
                                                 model_version=result.model_version)
        n += 1
    return n


# The demo ------------------------------------------------------------------------------------------

DEMO_RESIDENT = "demo-resident@example.org"
DEMO_STORIES = (  # (contract index, title, text, overall, recommend, listened, months ago, reply, change)
    (0, "Friendly staff, slow to start",
     ("SYNTHETIC DEMO STORY. The staff were friendly and explained everything clearly, but it took six weeks "
     "before the service started and nobody called to say why."), 3, "unsure", 4, 9,
     "Thank you. Waiting times at the start were too long last year; we have added a second team.", "made"),
    (0, "Good service",
     "SYNTHETIC DEMO STORY. Reliable and on time every week. The team listened when we asked to change the day.",
     5, "yes", 5, 6, "", ""),
    (0, "Could not get through on the phone",
     ("SYNTHETIC DEMO STORY. I rang many times and could not get through, and the website had no other way to "
     "contact them. When I did speak to someone they were helpful."), 2, "no", 2, 3,
     "We are sorry. A call-back option is being added to the phone line this spring.", "planned"),
    (1, "Clean and well run",
     "SYNTHETIC DEMO STORY. The building was clean, the equipment worked and staff were kind to my father.",
     4, "yes", 4, 5, "", ""),
    (1, "Nobody told us about the change",
     ("SYNTHETIC DEMO STORY. The times changed without notice and we missed two sessions. Communication "
     "needs to be better."), 2, "no", 2, 2, "", ""),
    (2, "Helpful and quick",
     "SYNTHETIC DEMO STORY. Fixed quickly and the person who came was polite and tidy.", 5, "yes", 5, 4,
     "Thank you for taking the time to tell us.", ""),
)
DEMO_PROVIDER_USER = "demo-provider"  # core.management.commands.commissioner_demo.DEMO_PROVIDER
DEMO_PROVIDER_STORY = ("Carers changed every week",
                       ("SYNTHETIC DEMO STORY. The carers were kind, but a different person came nearly every week "
                        "and we had to explain everything again each time."), 3, "unsure", 3)
DEMO_HELD = ("Rude driver on Tuesday",
             "SYNTHETIC DEMO STORY. The driver, Mr Smith, was rude to my mother. Call me on 07700 900123 to discuss.",
             1, "no", 1, 1)


def demo(*, la_code="DNC", password=None):
    """Synthetic stories (labelled synthetic) with replies, and one held story, on three contracts of the council
    ``la_code``, from a synthetic demo resident; the same on every run (idempotent). Returns the demo logins."""
    from commissioner.orgs.models import Organisation

    User = get_user_model()
    org = Organisation.objects.filter(la_code=la_code).first()
    if org is None:
        return []
    contracts = list(Contract.objects.filter(owner=org, source="ocds", is_private=False,
                                             contract_suppliers__supplier__provider__isnull=False)
                     .order_by("ocid").distinct()[:3])
    if not contracts:
        return []
    label = [(DEMO_RESIDENT, "resident (synthetic): shares and reads feedback at /feedback/")]
    if Story.objects.filter(synthetic=True, council=org).exists():
        _demo_provider_story(org)
        return label
    today = date(2025, 6, 1)  # fixed, so the demo is the same whenever it is made
    with transaction.atomic():
        user = User.objects.filter(username=DEMO_RESIDENT).first()
        if user is None:
            user = User(username=DEMO_RESIDENT, email=DEMO_RESIDENT)
            user.set_password(password or "demo-password-change-me")
            user.save()
            ResidentProfile.objects.create(user=user, display_name="Sam (synthetic demo resident)",
                                           email_confirmed_at=timezone.now(), last_active_at=timezone.now(),
                                           synthetic=True)
        for i, (idx, title, text, overall, rec, listened, ago, answer, change) in enumerate(DEMO_STORIES):
            contract = contracts[idx % len(contracts)]
            month = date(today.year - (1 if ago >= today.month else 0), (today.month - ago - 1) % 12 + 1, 1)
            story = _demo_story(user, contract, title, text, overall, rec, listened, month, i)
            story.status, story.published_at = Story.Status.PUBLISHED, timezone.now()
            story.save()
            ModerationEvent.objects.create(story=story, actor_label="demo (synthetic)", action="publish")
            if answer:
                from commissioner.feedback.models import Reply

                Reply.objects.create(story=story, organisation=org, text=answer + " (Synthetic demo reply.)",
                                     change=change, synthetic=True)
                Story.objects.filter(pk=story.pk).update(change=change)
        title, text, overall, rec, listened, ago = DEMO_HELD
        _demo_story(user, contracts[0], title, text, overall, rec, listened, date(2025, 5, 1), 99)
        audit(actor_label="demo", organisation=org, action="demo-feedback", obj=org,
              after={"stories": len(DEMO_STORIES) + 1, "synthetic": True})
    _demo_provider_story(org)
    return label


def _demo_provider_story(org):
    """One published, unanswered synthetic story on a contract of the demo provider user's provider (made by the
    demo command), so that ``demo-provider`` has a story to reply to. Made once."""
    from commissioner.performance.models import ProviderUser

    link = ProviderUser.objects.filter(user__username=DEMO_PROVIDER_USER).first()
    user = get_user_model().objects.filter(username=DEMO_RESIDENT).first()
    if link is None or user is None:
        return None
    contract = (Contract.objects.filter(owner=org, is_private=False,
                                        contract_suppliers__supplier__provider=link.provider_id)
                .order_by("ocid").first())
    if contract is None or Story.objects.filter(synthetic=True, contract=contract, provider=link.provider_id,
                                                submission_key="demo-provider").exists():
        return None
    title, text, overall, rec, listened = DEMO_PROVIDER_STORY
    with transaction.atomic():
        story = _demo_story(user, contract, title, text, overall, rec, listened, date(2025, 4, 1), 100)
        story.provider_id, story.submission_key = link.provider_id, "demo-provider"
        story.status, story.published_at = Story.Status.PUBLISHED, timezone.now()
        story.save()
        ModerationEvent.objects.create(story=story, actor_label="demo (synthetic)", action="publish")
    return story


def _demo_story(user, contract, title, text, overall, rec, listened, month, i):
    holds = moderation.check(f"{title}\n{text}")
    result = analysis.classify(text)
    providers = providers_of(contract)
    story = Story.objects.create(
        contract=contract, provider=providers[0] if providers else None, council=contract.owner, author=user,
        anonymous=i % 2 == 1, title=title, text=text, overall=overall, recommend=rec, listened=listened,
        happened=month, holds=[h.as_dict() for h in holds], digest=digest(text), submission_key=f"demo-{i}",
        sentiment=result.sentiment if result else "", themes=result.themes if result else [],
        model_version=result.model_version if result else "", synthetic=True)
    ModerationEvent.objects.create(story=story, actor_label="automatic checks", action="held",
                                   reasons=[h.code for h in holds])
    return story

