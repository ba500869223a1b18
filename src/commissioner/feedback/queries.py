"""Reads for residents' feedback, scoped by orgs.tenancy (``visible_to``): a story is seen by readers only
when published and about a service or provider they may see; held and hidden stories by their author and
the story's moderators."""

from collections import Counter
from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, Prefetch, Q, Value, When

from commissioner.feedback import analysis, services
from commissioner.feedback.models import ModerationEvent, Notification, Reply, Story
from commissioner.methods import moderation
from commissioner.orgs import tenancy
from commissioner.register.cpv import DIVISIONS
from commissioner.register.models import Contract, Provider

PAGE_SIZE = 20


class SearchError(ValueError):
    def __init__(self, field, message):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def _with_replies(qs):
    return qs.select_related("contract", "provider", "council", "author__resident").prefetch_related(
        Prefetch("replies", queryset=Reply.objects.select_related("organisation", "provider")))


def _visible_subjects(qs, user):
    return qs.filter(Q(contract__isnull=True) | Q(contract__in=Contract.objects.visible_to(user))).filter(
        Q(provider__isnull=True) | Q(provider__in=Provider.objects.visible_to(user)))


def published(user):
    """Published stories about services and providers the user may see, newest first."""
    return _with_replies(_visible_subjects(Story.objects.filter(status=Story.Status.PUBLISHED), user))


def service(user, ocid):
    return Contract.objects.visible_to(user).select_related("owner", "buyer").filter(ocid=ocid).first()


def provider(user, pk):
    return Provider.objects.visible_to(user).filter(pk=pk).first()


def for_contract(user, contract):
    return published(user).filter(contract=contract)


def for_provider(user, provider):
    return published(user).filter(provider=provider)


def story(user, pk):
    """A story the user may read: published and visible, their own, or one they moderate; else None."""
    row = _with_replies(Story.objects.filter(pk=pk)).first()
    if row is None:
        return None
    if row.status == Story.Status.PUBLISHED and _visible_subjects(Story.objects.filter(pk=pk), user).exists():
        return row
    if user.is_authenticated and (row.author_id == user.pk or services.can_moderate(user, row)):
        return row
    return None


EVENT_LABELS = {"held": "Held for a moderator", "publish": "Published", "redact": "Published with personal data "
                "removed", "reject": "Not published", "hide": "Hidden until reviewed", "hidden": "Hidden after reports"}


def _labelled(event):
    if event is not None:
        event.label = EVENT_LABELS.get(event.action, event.action)
    return event


def history(story):
    return [_labelled(e) for e in ModerationEvent.objects.filter(story=story)]


def last_decision(story):
    """The latest moderation event after the automatic checks (a decision, or hiding after reports), or None."""
    return _labelled(ModerationEvent.objects.filter(story=story).exclude(action="held").order_by("-at", "-id").first())


def moderation_queue(user, status=None):
    """Held and hidden stories the user moderates (site administrators: all), oldest first."""
    if not user.is_authenticated:
        return Story.objects.none()
    qs = Story.objects.filter(status__in=[status] if status else [Story.Status.HELD, Story.Status.HIDDEN])
    if not user.is_superuser:
        qs = qs.filter(council_id__in=tenancy.member_org_ids(user, tenancy.EDIT_ROLES))
    return _with_replies(qs).order_by("created_at", "id")


def is_moderator(user):
    return user.is_authenticated and (user.is_superuser or bool(tenancy.member_org_ids(user, tenancy.EDIT_ROLES)))


def own_stories(user):
    return _with_replies(Story.objects.filter(author=user)) if user.is_authenticated else Story.objects.none()


def notifications(user):
    return list(Notification.objects.filter(user=user)[:50]) if user.is_authenticated else []


def unread_count(user):
    return Notification.objects.filter(user=user, read_at__isnull=True).count() if user.is_authenticated else 0


# Finding a service or provider --------------------------------------------------------------------

@dataclass
class Search:
    q: str = ""
    category: str = ""
    postcode: str = ""

    @classmethod
    def from_params(cls, params):
        q = " ".join(str(params.get("q", "")).split())[:100]
        category = str(params.get("category", "")).strip()
        if category and category not in DIVISIONS:
            raise SearchError("category", "Choose a category from the list")
        postcode = " ".join(str(params.get("postcode", "")).split()).upper()[:8]
        if postcode and not ((postcode.isalpha() and len(postcode) <= 2) or moderation.postcode_district(postcode)):
            raise SearchError("postcode", "Enter a postcode area like DN, a district like DN1, or a full postcode")
        return cls(q=q, category=category, postcode=postcode)

    @property
    def empty(self):
        return not (self.q or self.category or self.postcode)


def address_postcode(address):
    """The postcode of an OCDS address: ``postalCode``, else the last postcode written in ``streetAddress`` (as
    Contracts Finder gives most suppliers' addresses: "Park Road, Little Easton, Essex, CM6 2JN"); "" if none."""
    address = address if isinstance(address, dict) else {}
    given = str(address.get("postalCode") or "").strip()
    if given:
        return given
    found = moderation.POSTCODE.findall(str(address.get("streetAddress") or ""))
    return " ".join(found[-1].upper().split()) if found else ""


def _postcode_match(address_postcode, wanted):
    if not address_postcode:
        return False
    if wanted.isalpha():
        return moderation.postcode_area(address_postcode) == wanted
    if moderation.POSTCODE.fullmatch(wanted):
        return address_postcode.replace(" ", "").upper() == wanted.replace(" ", "")
    return moderation.postcode_district(address_postcode) == moderation.postcode_district(wanted)


def _all_words(field, words):
    q = Q()
    for word in words:
        q &= Q(**{f"{field}__icontains": word})
    return q


def find(user, search: Search, limit=50):
    """Services (contracts) and providers matching the search, each with its published story count.

    A name (``q``) matches a service whose title holds the phrase (first), else all its words (next), or that a
    provider whose name holds them delivers (then); a provider whose name holds the phrase (first), else all its
    words, or one of whose identities (as notices name them) holds them. Words are never matched one by one
    somewhere in a notice (the description, the buyer): "home care" does not find "Works on Field Lane estate".
    Within each rank, most published stories first."""
    contracts = Contract.objects.visible_to(user).filter(contract_suppliers__isnull=False)
    providers = Provider.objects.visible_to(user)
    contract_rank = provider_rank = Value(0)
    if search.q:
        phrase = search.q.lower()
        words = phrase.split()[:8]
        title_phrase, title_words = Q(title__icontains=phrase), _all_words("title", words)
        by_provider = Q(pk__in=Contract.objects.filter(
            _all_words("contract_suppliers__supplier__provider__name", words)).values("pk"))
        contracts = contracts.filter(title_phrase | title_words | by_provider)
        contract_rank = Case(When(title_phrase, then=Value(0)), When(title_words, then=Value(1)), default=Value(2),
                             output_field=IntegerField())
        name_phrase, name_words = Q(name__icontains=phrase), _all_words("name", words)
        by_identity = Q(pk__in=Provider.objects.filter(_all_words("suppliers__name", words)).values("pk"))
        providers = providers.filter(name_phrase | name_words | by_identity)
        provider_rank = Case(When(name_phrase, then=Value(0)), When(name_words, then=Value(1)), default=Value(2),
                             output_field=IntegerField())
    if search.category:
        contracts = contracts.filter(cpv_division=search.category)
        providers = providers.filter(suppliers__contract_links__contract__cpv_division=search.category)
    providers = providers.filter(suppliers__contract_links__contract__in=Contract.objects.visible_to(user))
    if search.postcode:
        area = moderation.postcode_area(search.postcode)
        ids = set()
        from commissioner.register.models import Supplier

        for pid, address in (Supplier.objects.filter(provider__in=providers)
                             .filter(Q(address__postalCode__istartswith=area)
                                     | Q(address__streetAddress__icontains=area))
                             .values_list("provider_id", "address")):
            if _postcode_match(address_postcode(address), search.postcode):
                ids.add(pid)
        providers = providers.filter(pk__in=ids)
        contracts = contracts.filter(contract_suppliers__supplier__provider_id__in=ids)
    published_q = Q(stories__status=Story.Status.PUBLISHED)
    contracts = (Contract.objects.filter(pk__in=contracts.values("pk"))
                 .annotate(match_rank=contract_rank,
                           story_count=Count("stories", filter=published_q, distinct=True))
                 .select_related("buyer").order_by("match_rank", "-story_count", "title", "ocid")[:limit])
    providers = (Provider.objects.filter(pk__in=providers.values("pk"))
                 .annotate(match_rank=provider_rank, story_count=Count("stories", filter=published_q, distinct=True))
                 .order_by("match_rank", "-story_count", "name", "id")[:limit])
    return list(contracts), list(providers)


# Summaries ---------------------------------------------------------------------------------------

def summary(stories):
    """Volume, ratings, recommendation, themes, sentiment, trend (by quarter of when it happened) and
    unanswered stories of a list of stories."""
    stories = list(stories)
    n = len(stories)
    themes = Counter(t for s in stories for t in s.themes)
    sentiments = Counter(s.sentiment for s in stories if s.sentiment)
    trend = moderation.trend((f"{s.happened.year} Q{(s.happened.month - 1) // 3 + 1}", s.overall) for s in stories)
    peak = 5
    for row in trend:
        row["width"] = round(row["average"] / peak * 300, 1)
    return {
        "count": n,
        "overall": moderation.mean(s.overall for s in stories),
        "listened": moderation.mean(s.listened for s in stories),
        "recommend": {k: sum(1 for s in stories if s.recommend == k) for k in ("yes", "no", "unsure")},
        "recommend_share": round(100 * sum(1 for s in stories if s.recommend == "yes") / n) if n else None,
        "themes": [{"key": k, "label": analysis.theme_label(k), "count": c} for k, c in themes.most_common(5)],
        "sentiment": [{"key": k, "count": sentiments.get(k, 0)} for k in ("positive", "neutral", "negative")],
        "classified": sum(1 for s in stories if s.model_version),
        "trend": trend,
        "chart": {"height": max(len(trend), 1) * 44, "rows": [
            {**row, "label_y": i * 44 + 17, "bar_y": i * 44 + 24, "value_x": row["width"] + 8, "value_y": i * 44 + 38}
            for i, row in enumerate(trend)]},
        "unanswered": [s for s in stories if not list(s.replies.all())],
        "synthetic": any(s.synthetic for s in stories),
        "changes": sum(1 for s in stories if s.change),
    }


EXPORT_HEADER = ["story_id", "status", "service", "ocid", "provider", "title", "text", "overall", "recommend",
                 "listened", "happened", "submitted", "published", "sentiment", "themes", "model_version", "holds",
                 "reports", "replies", "change", "author", "synthetic"]


def export_rows(stories):
    """Every story (any status) for a commissioner's CSV: never the author's identity."""
    rows = []
    for s in stories:
        rows.append([s.pk, s.status, s.contract.title if s.contract_id else "", s.contract.ocid if s.contract_id else "",
                     s.provider.name if s.provider_id else "", s.title, s.text, s.overall, s.recommend, s.listened,
                     s.happened.strftime("%Y-%m"), s.created_at.date().isoformat(),
                     s.published_at.date().isoformat() if s.published_at else "", s.sentiment or "not classified yet",
                     "; ".join(analysis.theme_label(t) for t in s.themes), s.model_version,
                     "; ".join(h.get("reason", "") for h in s.holds), s.report_count, len(list(s.replies.all())),
                     s.change, s.author_label if s.status == Story.Status.PUBLISHED else "(not published)",
                     "synthetic" if s.synthetic else ""])
    return rows


def all_for_contract(contract):
    """Every story on the contract, any status (the commissioner's export)."""
    return _with_replies(Story.objects.filter(contract=contract)).order_by("created_at", "id")


def all_for_provider(user, provider):
    """Every story on the provider for contracts the user may edit (or all, for site administrators)."""
    qs = Story.objects.filter(provider=provider)
    if not user.is_superuser:
        qs = qs.filter(council_id__in=tenancy.member_org_ids(user, tenancy.EDIT_ROLES))
    return _with_replies(qs).order_by("created_at", "id")


def provider_volumes(user, provider_ids):
    """{provider id: (published stories the user may read, their mean overall rating)} for the providers given
    (the benchmarking pages show them beside KPI results)."""
    from django.db.models import Avg, Count

    rows = (published(user).filter(provider_id__in=list(provider_ids)).order_by().values("provider")
            .annotate(n=Count("id"), mean=Avg("overall")))
    return {r["provider"]: (r["n"], r["mean"]) for r in rows}
