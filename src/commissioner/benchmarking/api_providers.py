"""API endpoints for provider benchmarking: a provider's results by council, and every provider in a
service category (CPV division) ranked, optionally among the councils of a peer group.

Performance is never public: a session is needed (401 without), and the user must be a council member
or a site administrator (403). Figures come from ``benchmarking.providers`` (contracts the user may see,
by the ``orgs.tenancy`` rule). An unknown provider or division is a 404; an unknown council or a peer
group that cannot be used is a 422 naming ``org`` or ``peer``. Lists are paginated like the others.
"""

from typing import Annotated

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import Field, Path, Query, Router, Schema
from ninja.security import django_auth
from pydantic import StringConstraints

from commissioner.benchmarking import providers
from commissioner.benchmarking.api import peer_out
from commissioner.benchmarking.provider_views import choose
from commissioner.register.cpv import DIVISIONS
from commissioner.register.models import Provider
from commissioner.register.schemas import MAX_ID, PageParams, Text

router = Router(auth=django_auth, tags=["benchmarking"])

DivisionText = Annotated[Text, StringConstraints(max_length=2)]


class Methods(Schema):
    ranking_method: str
    share_method: str
    unit_cost_method: str
    percentile_method: str
    missing_rule: str


class Counts(Schema):
    met: int
    slightly_below: int
    below: int
    significantly_below: int


class Ratings(Schema):
    good: int
    approaching: int
    requires_improvement: int
    inadequate: int
    other: int


class UnitCost(Schema):
    unit: str
    latest: float = Field(..., description="The latest current value among the council's contracts.")
    latest_period_end: str | None
    median: float = Field(..., description="Median of the contracts' latest values (linear method).")
    contracts: int


class CouncilRow(Schema):
    council: str
    council_slug: str | None
    council_code: str | None
    your_council: bool
    contracts: int
    kpis: int
    returns: Counts
    returns_total: int
    share_met: float | None = Field(..., description="Percentage of current returns met; null when none.")
    latest_rating: str | None
    latest_rated_on: str | None
    ratings: Ratings
    unit_costs: list[UnitCost]
    synthetic: bool


class PeerOut(Schema):
    key: str
    label: str
    description: str
    members: int | None


class ProviderRef(Schema):
    id: int
    name: str


class ProviderAcrossCouncilsOut(Schema):
    provider: ProviderRef
    methods: Methods
    synthetic: bool = Field(..., description="Some figures are synthetic (made up by the demo's generator).")
    missing_share: int = Field(..., description="Councils with no current returns (share met missing).")
    count: int
    page: int
    page_size: int
    pages: int
    results: list[CouncilRow]


class CategoryRow(Schema):
    rank: int | None
    percentile: float | None
    provider: ProviderRef
    your_council_provider: bool
    contracts: int
    councils: int
    returns: Counts
    returns_total: int
    share_met: float | None
    ratings: Ratings
    unit_cost_median: float | None
    unit_cost_contracts: int
    unit_cost_rank: int | None
    synthetic: bool


class CategoryRankingOut(Schema):
    division: str
    name: str
    council: str | None
    peer: PeerOut
    methods: Methods
    unit_cost_unit: str | None
    ranked: int
    missing: int
    unit_cost_ranked: int
    unit_cost_missing: int
    synthetic: bool
    count: int
    page: int
    page_size: int
    pages: int
    results: list[CategoryRow]


class CategoryParams(PageParams):
    org: Text = Field(None, description="A council's slug: its providers are marked, its peers set the group.")
    peer: Text = Field(None, description="Peer group key: national (default), type, region, nearest or group-N "
                                         "(all but national need org).")


def _require(user):
    if not providers.may_benchmark(user):
        raise PermissionDenied("Provider benchmarking is for the members of a council")


def _page(items, paging):
    from commissioner.register.queries import FilterError

    count = len(items)  # a list, or the lazily read rows of a precomputed ranking
    pages = max(1, -(-count // paging.page_size))
    if paging.page > pages:
        raise FilterError("page", f"page {paging.page} is past the last page ({pages})")
    start = (paging.page - 1) * paging.page_size
    return {"count": count, "page": paging.page, "page_size": paging.page_size, "pages": pages,
            "results": list(items[start:start + paging.page_size])}


def _council(c):
    return {"council": c.buyer_label, "council_slug": c.buyer.slug if c.buyer else None,
            "council_code": (c.buyer.gss_code or c.buyer.la_code or None) if c.buyer else None,
            "your_council": c.own, "contracts": c.contracts, "kpis": c.kpis, "returns": c.counts,
            "returns_total": c.returns, "share_met": c.share_pct, "latest_rating": c.latest_rating,
            "latest_rated_on": c.latest_rated_on.isoformat() if c.latest_rated_on else None, "ratings": c.ratings,
            "unit_costs": [{"unit": u["unit"], "latest": float(u["latest"]), "median": float(u["median"]),
                            "latest_period_end": u["latest_period_end"].isoformat() if u["latest_period_end"] else None,
                            "contracts": u["contracts"]} for u in c.unit_costs],
            "synthetic": c.synthetic}


@router.get("/benchmarking/providers/{provider_id}", response=ProviderAcrossCouncilsOut,
            url_name="benchmarking_provider")
def provider_across_councils(request, provider_id: Path[Annotated[int, Field(ge=1, le=MAX_ID)]],
                             paging: Query[PageParams]):
    """A provider's KPI results and Procurement Act ratings side by side by council (the contracts you may
    see); your councils first."""
    _require(request.user)
    provider = Provider.objects.visible_to(request.user).filter(pk=provider_id).first()
    if provider is None:
        raise Http404(f"No provider {provider_id}.")
    result = providers.provider_across_councils(provider, request.user)
    return {"provider": {"id": provider.pk, "name": provider.name}, "methods": providers.methods(),
            "synthetic": result.synthetic, "missing_share": result.missing_share,
            **_page([_council(c) for c in result.councils], paging)}


@router.get("/benchmarking/categories/{division}", response=CategoryRankingOut, url_name="benchmarking_category")
def category_ranking(request, division: Path[DivisionText], params: Query[CategoryParams]):
    """Every provider with a contract in the CPV division ranked by the share of current KPI returns met, with
    median unit costs (lower is better); missing figures are null, counted and not ranked."""
    _require(request.user)
    if division not in DIVISIONS:
        raise Http404(f"No CPV division '{division[:2]}': use the two-digit code, e.g. 85.")
    org, peer = choose(request.user, params.org, params.peer)
    t = providers.category_ranking(division, request.user, org=org, peer=peer)
    page = _page(t.rows, params)
    page["results"] = [{"rank": i.rank, "percentile": None if i.percentile is None else round(i.percentile, 1),
             "provider": {"id": i.provider_id, "name": i.name}, "your_council_provider": i.own,
             "contracts": i.contracts, "councils": i.councils, "returns": i.counts, "returns_total": i.returns,
             "share_met": i.share_pct, "ratings": i.ratings,
             "unit_cost_median": None if i.unit_cost is None else round(i.unit_cost, 2),
             "unit_cost_contracts": i.unit_cost_contracts, "unit_cost_rank": i.unit_cost_rank,
             "synthetic": i.synthetic} for i in page["results"]]
    return {"division": division, "name": t.name, "council": org.name if org else None, "peer": peer_out(peer),
            "methods": providers.methods(), "unit_cost_unit": t.unit or None, "ranked": t.ranked_count,
            "missing": t.missing_count, "unit_cost_ranked": t.unit_cost_ranked,
            "unit_cost_missing": t.unit_cost_missing, "synthetic": t.synthetic, **page}
