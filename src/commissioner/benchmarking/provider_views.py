"""Provider benchmarking pages: a provider's results side by side by council, and every provider in a
service category (CPV division) ranked, with ?format=csv|json downloads of each table.

Performance is never public: signed-in council members and site administrators only. Every figure
comes from ``benchmarking.providers`` (contracts the user may see, by the ``orgs.tenancy`` rule)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from commissioner.benchmarking import providers, queries
from commissioner.benchmarking.views import download
from commissioner.feedback import queries as feedback_queries
from commissioner.orgs import tenancy
from commissioner.orgs.models import Organisation
from commissioner.register.cpv import DIVISIONS
from commissioner.register.models import Provider
from commissioner.register.queries import FilterError

HOME = ("Home", "/")
BENCHMARKING = ("Benchmarking", "/benchmarking/")
PAGE_SIZE = 100
SYNTHETIC_NOTE = "rows marked synthetic=true include figures made up by the demo's generator, not real data"


def _require_benchmarking(user):
    if not providers.may_benchmark(user):
        raise PermissionDenied("Provider benchmarking is for the members of a council")


def _format(request):
    fmt = request.GET.get("format", "")
    if fmt and fmt not in ("csv", "json"):
        raise Http404("Unknown format: use csv or json")
    return fmt


@login_required
@require_safe
def provider_page(request, pk):
    _require_benchmarking(request.user)
    provider = get_object_or_404(Provider.objects.visible_to(request.user), pk=pk)
    fmt = _format(request)
    result = providers.provider_across_councils(provider, request.user)
    if fmt:
        meta = {"provider": provider.name, "provider_id": provider.pk,
                "peer_group": "every council with a contract with this provider that you may see",
                **providers.methods(), "synthetic_note": SYNTHETIC_NOTE}
        return download(f"provider-{provider.pk}-by-council", fmt, providers.COUNCIL_FIELDS,
                        providers.council_rows(result), meta, rows_key="councils")
    return render(request, "benchmarking/provider_councils.html", {
        "provider": provider, "r": result, "ratings": _rating_labels(),
        "breadcrumbs": [HOME, BENCHMARKING, ("Providers", reverse("provider-list")),
                        (provider.name, reverse("provider-detail", args=[provider.pk]))],
        **providers.methods()})


def _rating_labels():
    from commissioner.methods.procurement import RATING_LABELS, RATINGS

    return [(k, RATING_LABELS[k]) for k in RATINGS]


def _councils(user):
    """Councils to choose from: every principal council, and the user's own organisations."""
    return (Organisation.objects.filter(Q(pk__in=tenancy.member_org_ids(user)) | Q(kind=Organisation.Kind.COUNCIL))
            .order_by("name").only("name", "slug"))


def choose(user, org_slug, peer_key):
    """(council or None, peer) from the parameters; FilterError naming ``org`` or ``peer`` when unusable."""
    from commissioner.benchmarking.api import chosen_peer

    org = None
    if org_slug:
        org = Organisation.objects.filter(slug=org_slug).first()
        if org is None:
            raise FilterError("org", f"there is no council '{org_slug[:120]}'")
    peer = chosen_peer(user, org, peer_key or "national")
    if peer.key == "national":
        peer = queries.Peer("national", "all councils", "National: every council with a contract in this category "
                                                        "that you may see")
    return org, peer


@login_required
@require_safe
def category_page(request, division):
    _require_benchmarking(request.user)
    if division not in DIVISIONS:
        raise Http404("No such CPV division: use the two-digit code, e.g. 85")
    fmt = _format(request)
    user = request.user
    slug = request.GET.get("org")
    if slug is None:  # the first visit: the user's own council
        own = Organisation.objects.filter(pk__in=tenancy.member_org_ids(user)).order_by("name").first()
        slug = own.slug if own else ""
    error = None
    try:
        org, peer = choose(user, slug, request.GET.get("peer"))
    except FilterError as e:
        error = e
        org, peer = choose(user, "", "national")
    ranking = providers.category_ranking(division, user, org=org, peer=peer)
    if fmt:
        if error is not None:
            raise Http404(str(error))
        meta = {"division": division, "category": ranking.name, "council": org.name if org else None,
                "peer_group": peer.description, "ranked": ranking.ranked_count, "missing": ranking.missing_count,
                **providers.methods(),
                "synthetic_note": SYNTHETIC_NOTE}
        return download(f"category-{division}-{peer.key}{'-' + org.slug if org else ''}", fmt,
                        providers.CATEGORY_FIELDS, providers.category_rows(ranking), meta, rows_key="providers")
    page = Paginator(ranking.rows, PAGE_SIZE).get_page(request.GET.get("page"))
    volumes = feedback_queries.provider_volumes(user, [i.provider_id for i in page])
    for i in page:
        i.feedback_stories, i.feedback_rating = volumes.get(i.provider_id, (0, None))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(request, "benchmarking/category_ranking.html", {
        "t": ranking, "page_obj": page, "page_range": page.paginator.get_elided_page_range(page.number),
        "org": org, "peer": peer, "error": error,
        "councils": _councils(user), "peer_options": queries.peer_options(user, org),
        "query": query.urlencode(), "ratings": _rating_labels(),
        "breadcrumbs": [HOME, BENCHMARKING], **providers.methods()}, status=400 if error else 200)


@login_required
@require_safe
def categories_page(request):
    """The service categories (CPV divisions) with contracts the user may see, each linking to its ranking."""
    _require_benchmarking(request.user)
    fmt = _format(request)
    rows = [{"division": d, "category": name, "contracts": n}
            for d, name, n in providers.divisions_with_results(request.user)]
    if fmt:
        return download("categories", fmt, ["division", "category", "contracts"], rows,
                       {"contracts": "provider contracts you may see (public ones and your council's)"},
                       rows_key="categories")
    return render(request, "benchmarking/categories.html", {"rows": rows, "breadcrumbs": [HOME, BENCHMARKING]})

