"""API endpoints for organisations (buyers), their dashboards, and the signed-in user."""

from datetime import date

from django.http import Http404
from ninja import Field, Query, Router
from ninja.security import django_auth

from commissioner.orgs.models import Organisation
from commissioner.register import queries
from commissioner.register.api import CSV_RESPONSE, csv_response, filters_of, paginate
from commissioner.register.schemas import (
    Dashboard,
    Me,
    OrgDetail,
    OrgItem,
    OrgQuery,
    PageParams,
    QueryParams,
    Text,
    page_of,
)

router = Router()


class DashboardParams(QueryParams):
    # Bounded so that as_at + 18 months stays a valid date.
    as_at: date = Field(None, ge=date(1900, 1, 1), le=date(2200, 12, 31),
                               description="Work the figures out as at this date (YYYY-MM-DD); default today.")


def organisation_or_404(user, slug):
    """Any organisation (organisations are public), with totals of the contracts the user can see."""
    try:
        return queries.organisation(user, slug)
    except Organisation.DoesNotExist:
        raise Http404(f"No organisation '{slug[:120]}'.") from None


@router.get("/organisations", response=page_of(OrgItem, "OrganisationPage"), tags=["organisations"])
def list_organisations(request, filters: Query[OrgQuery], paging: Query[PageParams]):
    """Organisations buying something you can see, with their contract count and total value."""
    qs = queries.organisations(request.user, filters_of(queries.OrgFilters, filters))
    return paginate(request, qs, paging)


@router.get("/organisations.csv", tags=["organisations"], openapi_extra=CSV_RESPONSE)
def organisations_csv(request, filters: Query[OrgQuery]):
    qs = queries.organisations(request.user, filters_of(queries.OrgFilters, filters))
    return csv_response(queries.organisation_csv_rows(qs), "organisations.csv")


@router.get("/organisations/{slug}/dashboard", response=Dashboard, tags=["organisations"])
def organisation_dashboard(request, slug: Text, params: Query[DashboardParams]):
    """A buyer's figures: totals, by supplier type and category, SME/VCSE share, contracts ending."""
    organisation = organisation_or_404(request.user, slug)
    figures = queries.dashboard(request.user, organisation, today=params.as_at)
    figures["as_at"] = figures.pop("today")
    return {**figures, "organisation": organisation}


@router.get("/organisations/{slug}", response=OrgDetail, tags=["organisations"])
def organisation_detail(request, slug: Text):
    return organisation_or_404(request.user, slug)


@router.get("/me", response=Me, auth=django_auth, tags=["session"])
def me(request):
    """The signed-in user and their organisations (401 without a session)."""
    user = request.user
    memberships = user.memberships.select_related("organisation").order_by("organisation__name")
    return {"username": user.get_username(), "is_superuser": user.is_superuser, "memberships": memberships}
